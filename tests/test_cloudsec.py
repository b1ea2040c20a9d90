"""Policy evaluation follows AWS's documented order, the matrix follows its sources, and the
remediation function closes what it should and nothing else."""
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from virtbook.cloudsec import (RESPONSIBILITY, RESPONSIBILITY_AREAS, SERVICE_MODELS, ChangeEvent,
                               ExposureModel, IngressRule, Policy, Request, SecurityGroup,
                               Statement, evaluate, remediate, responsibility, run_remediation,
                               violates, wildcard_match)

BUCKET = "arn:aws:s3:::reports"


def policy(*statements, name="p"):
    return Policy.from_json({"Version": "2012-10-17", "Statement": list(statements)}, name=name)


def allow(action="s3:GetObject", resource="*", **extra):
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action="s3:GetObject", resource="*", **extra):
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


GET = Request("s3:GetObject", f"{BUCKET}/q1.pdf")


# --- the matrix ------------------------------------------------------------------------------

def test_customer_always_owns_data_identities_and_configuration():
    for model in SERVICE_MODELS:
        for area in ("Customer data", "Identities and users", "Configurations and settings"):
            assert responsibility(area, model) == "customer"


def test_provider_share_never_shrinks_as_abstraction_grows():
    rank = {"customer": 0, "shared": 1, "provider": 2}
    for area in RESPONSIBILITY_AREAS:
        row = [rank[RESPONSIBILITY[area][m]] for m in SERVICE_MODELS]
        assert row == sorted(row), f"{area}: {row}"


def test_on_premises_is_all_customer_and_iaas_hands_over_only_the_physical_layers():
    assert {RESPONSIBILITY[a]["On-premises"] for a in RESPONSIBILITY_AREAS} == {"customer"}
    provider = [a for a in RESPONSIBILITY_AREAS if RESPONSIBILITY[a]["IaaS"] == "provider"]
    assert provider == ["Physical hosts", "Physical network", "Physical datacenter"]


def test_matrix_rejects_unknown_cells():
    with pytest.raises(ValueError, match="model must be one of"):
        responsibility("Customer data", "DaaS")
    with pytest.raises(ValueError, match="area must be one of"):
        responsibility("Coffee", "IaaS")


# --- wildcards -------------------------------------------------------------------------------

@given(st.text(alphabet="abc:/-", max_size=20))
def test_star_matches_everything_and_a_literal_matches_itself(s):
    assert wildcard_match("*", s)
    assert wildcard_match(s.replace("*", "").replace("?", ""), s.replace("*", "").replace("?", ""))


@given(st.text(alphabet="abcd", min_size=1, max_size=12))
def test_question_mark_is_exactly_one_character(s):
    assert wildcard_match("?" * len(s), s)
    assert not wildcard_match("?" * (len(s) + 1), s)


def test_actions_are_case_insensitive_resources_are_not():
    p = policy(allow("S3:getobject", "arn:aws:s3:::Reports/*"))
    assert evaluate(Request("s3:GetObject", "arn:aws:s3:::Reports/a"), [p]).allowed
    assert not evaluate(Request("s3:GetObject", "arn:aws:s3:::reports/a"), [p]).allowed


# --- evaluation order ------------------------------------------------------------------------

def test_default_is_implicit_deny():
    d = evaluate(GET, [])
    assert d.decision == "ImplicitDeny" and not d.allowed


def test_allow_allows_and_explicit_deny_beats_any_allow():
    assert evaluate(GET, [policy(allow())]).decision == "Allow"
    assert evaluate(GET, [policy(allow()), policy(deny(), name="guard")]).decision == \
        "ExplicitDeny"


@given(st.permutations([allow(), allow("s3:*"), deny("s3:Get*"), allow("*")]))
@settings(max_examples=24)
def test_order_of_statements_and_policies_does_not_matter(stmts):
    one = evaluate(GET, [policy(*stmts)])
    many = evaluate(GET, [policy(s, name=f"p{i}") for i, s in enumerate(stmts)])
    assert one.decision == many.decision == "ExplicitDeny"


@given(st.lists(st.sampled_from(["Allow", "Deny"]), min_size=0, max_size=6),
       st.lists(st.booleans(), min_size=6, max_size=6))
def test_decision_matches_the_three_rules(effects, applies):
    stmts = []
    for effect, hit in zip(effects, applies):
        action = "s3:GetObject" if hit else "ec2:RunInstances"
        stmts.append({"Effect": effect, "Action": action, "Resource": "*"})
    d = evaluate(GET, [policy(*stmts)] if stmts else [])
    applying = [e for e, hit in zip(effects, applies) if hit]
    expected = ("ExplicitDeny" if "Deny" in applying else
                "Allow" if "Allow" in applying else "ImplicitDeny")
    assert d.decision == expected


def test_trace_names_the_deciding_statement():
    p = policy(allow(Sid="Read"), deny(resource=f"{BUCKET}/*", Sid="KeepOut"), name="team")
    d = evaluate(GET, [p])
    assert "'KeepOut'" in d.reason and "team" in d.reason
    assert any("APPLIES" in line and "KeepOut" in line for line in d.trace)
    assert d.trace[-1].startswith("=> ExplicitDeny")


def test_permissions_boundary_limits_but_never_grants():
    admin = policy(allow("*"), name="admin")
    boundary = policy(allow("s3:*"), name="s3-only")
    assert evaluate(GET, [admin], permissions_boundary=boundary).allowed
    run = Request("ec2:RunInstances", "*")
    assert evaluate(run, [admin], permissions_boundary=boundary).decision == "ImplicitDeny"
    assert evaluate(run, [], permissions_boundary=policy(allow("*"))).decision == "ImplicitDeny"


def test_scp_must_allow_as_well():
    assert evaluate(GET, [policy(allow())], scps=[policy(allow("ec2:*"))]).decision == \
        "ImplicitDeny"
    assert evaluate(GET, [policy(allow())], scps=[policy(allow("*"))]).allowed


def test_resource_policy_grants_only_to_its_principal():
    bucket_policy = policy(allow(Principal={"AWS": "arn:aws:iam::111122223333:user/alice"}),
                           name="bucket")
    assert evaluate(GET, [], resource_policies=[bucket_policy]).allowed
    bob = Request("s3:GetObject", f"{BUCKET}/q1.pdf", principal="arn:aws:iam::111122223333:user/bob")
    assert not evaluate(bob, [], resource_policies=[bucket_policy]).allowed


# --- conditions ------------------------------------------------------------------------------

MFA_DENY = deny("s3:*", Condition={"Bool": {"aws:MultiFactorAuthPresent": "false"}})


def test_deny_without_mfa():
    p = policy(allow("s3:*"), MFA_DENY)
    no_mfa = Request("s3:GetObject", BUCKET, {"aws:MultiFactorAuthPresent": "false"})
    mfa = Request("s3:GetObject", BUCKET, {"aws:MultiFactorAuthPresent": "true"})
    assert evaluate(no_mfa, [p]).decision == "ExplicitDeny"
    assert evaluate(mfa, [p]).decision == "Allow"
    # the key is absent (e.g. long-term access keys): Bool is false, so this Deny does not apply
    assert evaluate(Request("s3:GetObject", BUCKET), [p]).decision == "Allow"


def test_negated_operator_is_true_when_the_key_is_missing():
    p = policy(allow("s3:*"), deny("s3:*", Condition={"NotIpAddress": {
        "aws:SourceIp": ["203.0.113.0/24"]}}))
    office = Request("s3:GetObject", BUCKET, {"aws:SourceIp": "203.0.113.7"})
    cafe = Request("s3:GetObject", BUCKET, {"aws:SourceIp": "198.51.100.9"})
    assert evaluate(office, [p]).allowed
    assert evaluate(cafe, [p]).decision == "ExplicitDeny"
    assert evaluate(Request("s3:GetObject", BUCKET), [p]).decision == "ExplicitDeny"


def test_condition_keys_are_anded_and_values_ored():
    cond = {"StringEquals": {"aws:RequestedRegion": ["eu-west-1", "eu-central-1"],
                             "aws:PrincipalTag/team": "data"}}
    p = policy(allow("ec2:*", Condition=cond))

    def req(region, team):
        return Request("ec2:RunInstances", "*", {"aws:RequestedRegion": region,
                                                 "aws:PrincipalTag/team": team})
    assert evaluate(req("eu-central-1", "data"), [p]).allowed
    assert not evaluate(req("us-east-1", "data"), [p]).allowed
    assert not evaluate(req("eu-west-1", "web"), [p]).allowed


def test_numeric_and_like_operators():
    p = policy(allow("s3:PutObject", Condition={"NumericLessThanEquals": {"s3:max-keys": "10"},
                                               "StringLike": {"s3:prefix": "home/*"}}))
    ok = Request("s3:PutObject", BUCKET, {"s3:max-keys": "5", "s3:prefix": "home/ana"})
    big = Request("s3:PutObject", BUCKET, {"s3:max-keys": "50", "s3:prefix": "home/ana"})
    assert evaluate(ok, [p]).allowed and not evaluate(big, [p]).allowed


# --- parsing and bad input -------------------------------------------------------------------

def test_policy_from_json_text_and_single_statement_object():
    text = json.dumps({"Version": "2012-10-17", "Statement": allow()})
    assert evaluate(GET, [Policy.from_json(text)]).allowed


@pytest.mark.parametrize("doc,message", [
    ({"Version": "2013-01-01", "Statement": [allow()]}, "Version must be one of"),
    ({"Statement": []}, "Statement must be an object or a non-empty list"),
    ({"Statement": [{"Effect": "Permit", "Action": "s3:*", "Resource": "*"}]},
     "Effect must be one of 'Allow', 'Deny', got 'Permit'"),
    ({"Statement": [{"Effect": "Allow", "Resource": "*"}]}, "Statement must contain Action"),
    ({"Statement": [{"Effect": "Allow", "Action": "getobject", "Resource": "*"}]},
     "Action must be"),
    ({"Statement": [{"Effect": "Allow", "Action": [], "Resource": "*"}]}, "Action must be a"),
    ({"Statement": [allow(Condition={"DateLessThan": {"aws:CurrentTime": "2030"}})]},
     "Condition operator must be one of"),
    ({"Statement": [allow(NotAction="s3:*")]}, "Statement may contain only"),
    ("{not json", "policy must be valid JSON"),
])
def test_bad_policies_are_rejected_with_the_element_named(doc, message):
    with pytest.raises(ValueError, match=message):
        Policy.from_json(doc)


def test_bad_request_is_rejected():
    with pytest.raises(ValueError, match="action must look like"):
        Request("GetObject", BUCKET)
    with pytest.raises(ValueError, match="request must be a Request"):
        evaluate("s3:GetObject", [])


def test_statement_dataclass_validates_too():
    with pytest.raises(ValueError, match="Effect must be"):
        Statement("allow", ("s3:*",), ("*",))


# --- security groups -------------------------------------------------------------------------

ports = st.integers(min_value=0, max_value=65535)


@given(ports, ports, st.sampled_from(["0.0.0.0/0", "::/0", "10.0.0.0/8", "203.0.113.5/32"]))
def test_violation_is_world_open_and_covering_ssh(a, b, cidr):
    lo, hi = min(a, b), max(a, b)
    rule = IngressRule("tcp", lo, hi, cidr)
    assert violates(rule) == (cidr in ("0.0.0.0/0", "::/0") and lo <= 22 <= hi)


def test_remediate_revokes_only_the_offending_rule_and_logs_it():
    bad = IngressRule("tcp", 22, 22, "0.0.0.0/0")
    web = IngressRule("tcp", 443, 443, "0.0.0.0/0")
    inv = {"sg-1": SecurityGroup("sg-1", "web", [web, bad])}
    line = remediate(inv, ChangeEvent(100.0, "sg-1", bad, "user/dev-1"), now_s=160.0)
    assert inv["sg-1"].rules == [web] and "REVOKED" in line and "exposed 60 s" in line
    assert "already removed" in remediate(inv, ChangeEvent(100.0, "sg-1", bad, "x"), 170.0)
    assert "allowed by policy" in remediate(inv, ChangeEvent(5.0, "sg-1", web, "x"), 9.0)
    assert inv["sg-1"].rules == [web]
    assert "no longer exists" in remediate(inv, ChangeEvent(5.0, "sg-9", bad, "x"), 9.0)


@given(st.integers(min_value=0, max_value=500))
@settings(max_examples=15, deadline=None)
def test_after_the_run_no_group_has_ssh_open_to_the_world(seed):
    run = run_remediation(ExposureModel(horizon_days=20.0, changes_per_day=10.0), seed=seed)
    for group in run.final_inventory.values():
        assert not any(violates(r) for r in group.rules)
    assert sum("REVOKED" in line for line in run.log) <= len(run.exposures)


def test_same_seed_same_run_and_auto_beats_manual():
    a, b = run_remediation(seed=7), run_remediation(seed=7)
    assert a.log == b.log and np.array_equal(a.durations_s("auto"), b.durations_s("auto"))
    assert len(a.exposures) > 10
    assert a.exposed_hours("auto") < a.exposed_hours("manual") / 100
    assert np.all(a.durations_s("manual") > 0) and np.all(a.durations_s("auto") > 0)


def test_lost_events_wait_for_the_periodic_sweep():
    run = run_remediation(ExposureModel(delivery_loss=1.0, sweep_period_h=24.0), seed=3)
    assert all(not e.delivered for e in run.exposures)
    assert run.durations_s("auto").max() <= 24 * 3600 + 1e-6
    assert run.durations_s("auto").mean() > 3600      # far slower than event delivery


def test_manual_exposure_is_bounded_by_review_period_plus_fix():
    m = ExposureModel(review_period_h=24.0, fix_median_h=0.0)
    run = run_remediation(m, seed=2)
    d = run.durations_s("manual")
    assert d.max() <= 24 * 3600 + 1e-6 and d.mean() == pytest.approx(12 * 3600, rel=0.35)


def test_open_over_time_counts_each_hole_while_it_is_open():
    run = run_remediation(seed=5)
    e = run.exposures[0]
    t = [e.event.time_s - 1, e.event.time_s + 1e-3]
    assert run.open_over_time("manual", t)[1] >= run.open_over_time("manual", t)[0] + 1


@pytest.mark.parametrize("make,message", [
    (lambda: IngressRule("icmp", 0, 0, "0.0.0.0/0"), "protocol must be"),
    (lambda: IngressRule("tcp", 80, 22, "0.0.0.0/0"), "to_port must be an integer in 80..65535"),
    (lambda: IngressRule("tcp", 22, 22, "everywhere"), "cidr must be an IPv4 or IPv6 network"),
    (lambda: ExposureModel(delivery_loss=2.0), "delivery_loss must be a number"),
    (lambda: run_remediation(seed=-1), "seed must be an integer"),
    (lambda: run_remediation().durations_s("both"), "mode must be 'manual' or 'auto'"),
])
def test_bad_input_names_the_parameter(make, message):
    with pytest.raises(ValueError, match=message):
        make()


# --- Microsoft's two versions and the book's adaptation --------------------------------------

from virtbook.cloudsec import (DIAGRAM_ROW, MICROSOFT_DIAGRAM, MICROSOFT_MODELS,  # noqa: E402
                               MICROSOFT_TABLE, source_differences)


def test_the_books_matrix_is_microsofts_table_plus_a_faas_column_equal_to_paas():
    assert list(MICROSOFT_TABLE) == list(RESPONSIBILITY_AREAS)
    for area in RESPONSIBILITY_AREAS:
        for model in MICROSOFT_MODELS:
            assert RESPONSIBILITY[area][model] == MICROSOFT_TABLE[area][model], (area, model)
        assert RESPONSIBILITY[area]["FaaS"] == MICROSOFT_TABLE[area]["PaaS"], area


def test_microsofts_table_and_diagram_disagree_exactly_where_the_chapter_says():
    assert source_differences() == [
        ("Configurations and settings", "*", "(row)", "(no row)"),
        ("Client devices", "SaaS", "shared", "customer"),
        ("Applications", "SaaS", "shared", "provider"),
        ("Identity and directory infrastructure", "*", "(no row)", "(row)"),
    ]
    # the diagram's extra row, as the figure caption quotes it
    assert [MICROSOFT_DIAGRAM["Identity and directory infrastructure"][m]
            for m in MICROSOFT_MODELS] == ["customer", "customer", "shared", "shared"]


def test_both_versions_keep_data_and_identities_with_the_customer():
    for table, rows in ((MICROSOFT_TABLE, ("Customer data", "Identities and users")),
                        (MICROSOFT_DIAGRAM, ("Information and data", "Accounts and identities"))):
        for row in rows:
            assert {table[row][m] for m in MICROSOFT_MODELS} == {"customer"}, row
    # devices are the customer's in every column of the diagram only
    assert {MICROSOFT_DIAGRAM["Devices (Mobile and PCs)"][m] for m in MICROSOFT_MODELS} == \
        {"customer"}
    assert set(DIAGRAM_ROW.values()) - {None} <= set(MICROSOFT_DIAGRAM)


def test_both_versions_give_the_counts_the_chapter_quotes():
    for table in (MICROSOFT_TABLE, MICROSOFT_DIAGRAM):
        count = {m: sum(table[a][m] == "customer" for a in table) for m in MICROSOFT_MODELS}
        assert (count["IaaS"], count["SaaS"]) == (7, 3)


# --- numbers quoted in the chapter's solutions and alt text ----------------------------------

def test_solution_13_2_prints_the_decisions_it_states():
    from solutions import run_code, solution
    body = solution("13-cloud-security.ipynb", "ex-13-2")
    assert run_code(body)[1].split() == ["Allow", "ExplicitDeny"]
    assert "**Allow**" in body and "**ExplicitDeny**" in body


def test_solution_13_3_quotes_what_its_code_computes():
    from solutions import run_code, solution
    body = solution("13-cloud-security.ipynb", "ex-13-3")
    rows = [line.split() for line in run_code(body)[1].splitlines()]
    (base_h, base_max), (lossy_h, lossy_max), (hourly_h, hourly_max) = [
        (float(r[2]), float(r[3])) for r in rows]
    assert f"about {base_h:.0f} to about {lossy_h:.0f} hours" in body
    assert "more than ten times" in body and lossy_h > 10 * base_h
    assert f"about {hourly_h:.0f} hours" in body
    assert "no hole stays open longer than an hour" in body
    hourly = run_remediation(ExposureModel(delivery_loss=0.2, sweep_period_h=1.0), seed=3)
    assert hourly.durations_s("auto").max() <= 3600.0
    lossy = run_remediation(ExposureModel(delivery_loss=0.2), seed=3)
    lost = sum(not e.delivered for e in lossy.exposures)
    assert f"({lost} of the {len(lossy.exposures)} holes in this run)" in body
    # the numbers as the solution prints them (registered in tests/test_solution_numbers.py)
    assert (lost, len(lossy.exposures)) == (16, 54)
    assert (round(base_h), round(lossy_h), round(hourly_h)) == (17, 224, 8)
    assert "just over a minute" in body and 60 < np.median(lossy.durations_s("auto")) < 120
    assert lossy_max <= 24.0 and base_max <= 24.0       # "up to a day each"


def test_exposure_figure_alt_text_matches_the_run():
    from solutions import alt_text
    alt = alt_text("13-cloud-security.ipynb", "fig-13-exposure")
    run = run_remediation(ExposureModel(), seed=3)
    review = run.model.review_period_h * 3600.0
    t = np.arange(0.0, run.model.horizon_days * 86400.0, 60.0)
    manual = run.open_over_time("manual", t)
    full_weeks = int(t[-1] // review)
    peaks = [manual[(t >= k * review) & (t < (k + 1) * review)].max() for k in range(full_weeks)]
    assert f"peaks at between {min(peaks)} and {max(peaks)} in each full week" in alt
    lost = [e for e in run.exposures if not e.delivered]
    assert len(lost) == 1 and "except for one rule" in alt
    assert f"around day {lost[0].event.time_s / 86400:.0f}" in alt
    assert f"after about {lost[0].auto_s / 3600:.0f} hours" in alt
    hours = run.durations_s("manual") / 3600
    assert f"after roughly {hours.min():.0f} to {hours.max():.0f} hours" in alt
