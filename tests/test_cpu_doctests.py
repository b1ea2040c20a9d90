"""The examples in virtbook.cpu's docstrings run and print what they claim."""
from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "virtbook.cpu",
    "virtbook.cpu.classic",
    "virtbook.cpu.model",
    "virtbook.cpu.engine",
    "virtbook.cpu.scenarios",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    failures, tried = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert tried > 0
    assert failures == 0


def test_core_is_pure():
    # The core never imports UI code (DESIGN.md: notebooks -> widgets -> cores).
    import sys

    import virtbook.cpu  # noqa: F401

    for mod in list(sys.modules):
        if mod.startswith("virtbook.cpu"):
            source = importlib.import_module(mod).__dict__
            assert "matplotlib" not in source and "ipywidgets" not in source
    from pathlib import Path

    pkg = Path(virtbook.cpu.__file__).parent
    for path in pkg.glob("*.py"):
        text = path.read_text()
        assert "import matplotlib" not in text and "import ipywidgets" not in text
        code = [ln.strip() for ln in text.splitlines() if not ln.strip().startswith(">>>")]
        assert not any(ln.startswith("print(") for ln in code)
