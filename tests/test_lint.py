"""The code is ruff- and mypy-clean (STYLE.md); the suite fails when it is not."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest

from .helpers import ROOT


@pytest.mark.parametrize("tool,args", [
    ("ruff", ["check", "generator", "tests"]),
    ("mypy", ["generator", "tests"]),
])
def test_clean(tool: str, args: list[str]) -> None:
    if importlib.util.find_spec(tool) is None:
        pytest.skip(f"{tool} is not installed (make test installs it)")
    result = subprocess.run([sys.executable, "-m", tool, *args], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
