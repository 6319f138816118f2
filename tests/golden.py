"""Regenerate golden files (`make golden`). Read the diff before committing it."""

from __future__ import annotations

import tempfile
from pathlib import Path

from .helpers import INVALID, make_project, run


def regenerate_diagnostics() -> None:
    for case in sorted(p for p in INVALID.glob("*/*") if p.is_dir()):
        with tempfile.TemporaryDirectory() as tmp:
            root = make_project(Path(tmp) / "project", case)
            _, out, _ = run("--root", str(root), "check")
        (case / "expected.txt").write_text(out, encoding="utf-8")
        print(f"wrote {case.relative_to(INVALID.parent.parent.parent)}/expected.txt")


if __name__ == "__main__":
    regenerate_diagnostics()
