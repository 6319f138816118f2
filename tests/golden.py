"""Regenerate golden files (`make golden`, or `make golden SET=render` for one set). Read the diff before committing it."""

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


GOLDEN_RENDER = INVALID.parent.parent / "golden" / "render"


def render_fixture(dest: Path) -> dict[str, str]:
    """Generate the pages of the small fixture base; returns path -> text."""
    import contextlib
    import io
    import os

    from generator.build import DOCS, generate

    root = make_project(dest)
    os.environ.pop("ATLAS_REPO_URL", None)
    with contextlib.redirect_stderr(io.StringIO()):
        ok, _ = generate(root, quiet=True)
    assert ok
    docs = root / DOCS
    return {p.relative_to(docs).as_posix(): p.read_text(encoding="utf-8")
            for p in sorted(docs.rglob("*")) if p.is_file() and not p.relative_to(docs).as_posix().startswith("assets/")}


def regenerate_render() -> None:
    import shutil

    with tempfile.TemporaryDirectory() as tmp:
        pages = render_fixture(Path(tmp) / "project")
    shutil.rmtree(GOLDEN_RENDER, ignore_errors=True)
    for rel, text in pages.items():
        target = GOLDEN_RENDER / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    print(f"wrote {len(pages)} files under tests/golden/render/")


def regenerate_references() -> None:
    from .test_citing import GOLDEN, golden_references

    GOLDEN.write_text(golden_references(), encoding="utf-8")
    print(f"wrote {GOLDEN.name}")


SETS = {"diagnostics": regenerate_diagnostics, "render": regenerate_render, "references": regenerate_references}


def main(argv: list[str]) -> int:
    """`python -m tests.golden [SET ...]`: regenerate the named sets (all when none is named)."""
    unknown = [a for a in argv if a not in SETS]
    if unknown:
        print(f"unknown golden set {', '.join(unknown)}; the sets are: {', '.join(SETS)}")
        return 2
    for name in argv or list(SETS):
        SETS[name]()
    return 0


if __name__ == "__main__":
    import sys

    raise SystemExit(main(sys.argv[1:]))
