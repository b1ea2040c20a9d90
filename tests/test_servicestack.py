"""The service-stack figure of chapter 11 and the responsibility matrix of chapter 13 agree, draw
what their data says, and carry alt text computed from that data."""
import matplotlib.pyplot as plt
import pytest

from virtbook import servicestack as ss
from virtbook.figures import servicestack as drawn
from solutions import alt_text
from virtbook.cloudsec import RESPONSIBILITY, RESPONSIBILITY_AREAS, SERVICE_MODELS


def _alt(notebook: str, name: str) -> str:
    return alt_text(notebook, name)


# --- the data --------------------------------------------------------------------------------

def test_the_customer_runs_fewer_layers_as_the_model_abstracts():
    counts = [ss.customer_layers(m) for m in SERVICE_MODELS]
    assert counts == [7, 4, 2, 2, 1]
    assert counts == sorted(counts, reverse=True)


def test_columns_follow_nists_wording():
    # IaaS: the consumer controls operating systems and applications, not the infrastructure
    assert ss.managed_by("Operating system", "IaaS") == "customer"
    assert ss.managed_by("Virtualization", "IaaS") == "provider"
    # PaaS: not the operating systems; SaaS: not even the application
    assert ss.managed_by("Operating system", "PaaS") == "provider"
    assert ss.managed_by("Application", "PaaS") == "customer"
    assert ss.managed_by("Application", "SaaS") == "provider"
    assert {ss.managed_by("Data, users and access", m) for m in SERVICE_MODELS} == {"customer"}


def test_the_stack_agrees_with_the_responsibility_matrix():
    assert ss.inconsistencies() == []
    for layer, rows in ss.MATRIX_ROWS.items():
        assert set(rows) <= set(RESPONSIBILITY_AREAS), layer


def test_a_contradiction_with_the_matrix_is_found():
    managed = {layer: dict(row) for layer, row in ss.MANAGED_BY.items()}
    managed["Data, users and access"]["SaaS"] = "provider"      # the matrix says customer
    managed["Operating system"]["IaaS"] = "provider"             # the matrix says customer
    found = ss.inconsistencies(managed=managed)
    assert ("Data, users and access", "Customer data", "SaaS",
            "provider runs it, customer secures it alone") in found
    assert ("Operating system", "Operating system", "IaaS",
            "provider runs it, customer secures it alone") in found
    matrix = {a: dict(r) for a, r in RESPONSIBILITY.items()}
    matrix["Applications"]["PaaS"] = "provider"                  # but the customer runs it
    assert ss.inconsistencies(matrix=matrix) == [
        ("Application", "Applications", "PaaS", "customer runs it, provider secures it alone")]


def test_customer_layers_must_be_a_run_from_the_top(monkeypatch):
    broken = {layer: dict(row) for layer, row in ss.MANAGED_BY.items()}
    broken["Virtualization"]["SaaS"] = "customer"
    monkeypatch.setattr(ss, "MANAGED_BY", broken)
    with pytest.raises(ValueError, match="run from the top"):
        ss.customer_layers("SaaS")


def test_bad_names_are_refused():
    with pytest.raises(ValueError, match="model must be one of"):
        ss.customer_layers("DaaS")
    with pytest.raises(ValueError, match="layer must be one of"):
        ss.managed_by("Firmware", "IaaS")
    with pytest.raises(ValueError, match="models must be one of"):
        drawn.draw_service_stack(models=("IaaS", "XaaS"))


# --- what is drawn ---------------------------------------------------------------------------

def test_the_stack_draws_one_labelled_box_per_layer_and_the_handover_lines():
    before = len(plt.get_fignums())
    fig = drawn.draw_service_stack()
    ax = fig.axes[0]
    boxes = {p.get_gid(): p for p in ax.patches if (p.get_gid() or "").startswith("layer:")}
    assert len(boxes) == len(ss.STACK_LAYERS) * len(SERVICE_MODELS)
    words = [t.get_text() for t in ax.texts]
    for model in SERVICE_MODELS:
        assert words.count(model) == 1
    assert words.count("customer") == sum(ss.customer_layers(m) for m in SERVICE_MODELS)
    provider_face = boxes["layer:Virtualization:IaaS"].get_facecolor()
    customer_face = boxes["layer:Operating system:IaaS"].get_facecolor()
    assert provider_face != customer_face
    # not colour alone: provider boxes are hatched, customer boxes are not
    assert boxes["layer:Virtualization:IaaS"].get_hatch() and \
        not boxes["layer:Operating system:IaaS"].get_hatch()
    lines = {ln.get_gid(): ln for ln in ax.lines if (ln.get_gid() or "").startswith("handover:")}
    assert set(lines) == {f"handover:{m}" for m in SERVICE_MODELS if m != "On-premises"}
    for model in ("IaaS", "PaaS", "FaaS", "SaaS"):
        y = lines[f"handover:{model}"].get_ydata()[0]
        assert round(y) == ss.customer_layers(model)
    assert len(plt.get_fignums()) == before


def test_the_stack_draws_into_a_given_axes_and_a_subset_of_models():
    from virtbook.figures import style
    fig, ax = style.figure(4, 3)
    assert drawn.draw_service_stack(ax=ax, models=("IaaS", "SaaS")) is fig
    assert {t.get_text() for t in ax.texts} >= {"IaaS", "SaaS"}
    assert "PaaS" not in {t.get_text() for t in ax.texts}


def test_the_matrix_letters_every_cell_and_stars_the_diagrams_disagreements():
    fig = drawn.draw_responsibility_matrix()
    ax = fig.axes[0]
    cells = {p.get_gid(): p for p in ax.patches if (p.get_gid() or "").startswith("cell:")}
    assert len(cells) == len(RESPONSIBILITY_AREAS) * len(SERVICE_MODELS)
    letters = [t.get_text() for t in ax.texts]
    starred = sorted(t for t in letters if t.endswith("*"))
    assert starred == ["S*", "S*"]                     # client devices and applications, SaaS
    assert cells["cell:Client devices:SaaS"].get_linewidth() > \
        cells["cell:Client devices:PaaS"].get_linewidth()
    want = {"customer": "C", "shared": "S", "provider": "P"}
    assert sum(t.rstrip("*") == "C" for t in letters) == sum(
        want[RESPONSIBILITY[a][m]] == "C" for a in RESPONSIBILITY_AREAS for m in SERVICE_MODELS)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert "Configurations and settings*" in labels
    assert "FaaS (book)" in [t.get_text() for t in ax.get_xticklabels()]


def test_the_plain_matrix_has_no_stars():
    ax = drawn.draw_responsibility_matrix(mark_diagram=False).axes[0]
    assert not any(t.get_text().endswith("*") for t in ax.texts)


# --- alt text --------------------------------------------------------------------------------

def test_alt_texts_in_the_chapters_are_computed_from_the_data():
    assert _alt("11-everything-as-a-service.ipynb", "fig-11-stack") == drawn.describe_service_stack()
    assert _alt("13-cloud-security.ipynb", "fig-13-matrix") == \
        drawn.describe_responsibility_matrix()


def test_stack_alt_text_names_every_handover():
    text = drawn.describe_service_stack()
    assert "Under On-premises, the customer runs all seven layers." in text
    assert "Under IaaS, the customer runs the top four layers, down to operating system" in text
    assert "Under SaaS, the customer runs only the top layer" in text
