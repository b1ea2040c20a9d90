"""The kernel-free views of the widget demos: one frame per value, each with its own alt text
that states the numbers of that frame, and a slider that starts on the requested value."""
import re

import pytest

from virtbook.widgets import cloudcost, consolidation, cpu, memory

SWEEPS = [
    (cpu.pcpu_sweep, dict(pcpus=(2, 4), start=4), ["2 pCPUs", "4 pCPUs"], "on 2 pCPUs"),
    (memory.ram_sweep, dict(ram_gib=(16, 28), start=16), ["16 GiB", "28 GiB"], "on a 28 GiB host"),
    (consolidation.servers_sweep, dict(servers=(2, 12), start=2), ["2 servers", "12 servers"],
     "Consolidation of 12 servers"),
    (cloudcost.vms_sweep, dict(vms=(1, 8), start=8), ["1 VMs", "8 VMs"], "for 1 VMs on 1 owned server:"),
]


@pytest.mark.parametrize("sweep, kwargs, labels, other_alt", SWEEPS,
                         ids=[s[0].__module__.split(".")[-1] for s in SWEEPS])
def test_sweep_has_a_frame_and_an_alt_text_per_value(sweep, kwargs, labels, other_alt):
    html = sweep(**kwargs)
    assert html.count("data:image/png;base64,") == len(labels)
    assert all(f'"{label}"' in html for label in labels)
    shown = re.search(r'<img src="[^"]+" alt="([^"]+)"', html).group(1)
    assert str(kwargs["start"]) in shown  # the first frame shown is the requested one
    assert other_alt in html  # the other frame's alt text, swapped in by the slider


@pytest.mark.parametrize("sweep, kwargs", [(s[0], s[1]) for s in SWEEPS],
                         ids=[s[0].__module__.split(".")[-1] for s in SWEEPS])
def test_sweep_refuses_a_start_that_is_not_swept(sweep, kwargs):
    values = next(v for k, v in kwargs.items() if k != "start")
    with pytest.raises(ValueError, match="start must be one of"):
        sweep(**{**kwargs, "start": max(values) + 1})
