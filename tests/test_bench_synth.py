"""The benchmark's synthetic base is in the current record format, and an atlas with no screening
logs and no corrections file still builds (the navigation names both pages)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from .helpers import ROOT, run


def test_a_synthetic_base_checks_strictly_and_builds(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("synth", ROOT / "bench/synth.py")
    assert spec and spec.loader
    synth = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(synth)
    root = synth.synthesise(25, tmp_path / "atlas")
    assert not (root / "evidence/screening").exists() and not (root / "evidence/CORRECTIONS.md").exists()
    code, out, err = run("--root", str(root), "check")
    assert (code, out) == (0, ""), out
    code, out, err = run("--root", str(root), "build", "--quiet")
    assert code == 0, out + err
    assert "No screening log has been recorded yet" in (root / "site/screening/index.html").read_text(encoding="utf-8")
