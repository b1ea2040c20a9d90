"""Shared fixtures: the project's root and its table of contents."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


def in_ci() -> bool:
    """True under CI (GitHub Actions and .ci/run set CI=true): optional tests must then run."""
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")
