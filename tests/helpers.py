"""Shared test helpers: fixture projects, running the `evidence` command in-process, and watching the second
processes it starts."""

from __future__ import annotations

import contextlib
import hashlib
import io
import shutil
from pathlib import Path
from typing import Any

import pytest

from generator import forked
from generator.cli import main

FIXTURES = Path(__file__).parent / "fixtures"
BASE = FIXTURES / "base"
INVALID = FIXTURES / "invalid"
ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus" / "bib"


def make_project(dest: Path, overlay: Path | None = None) -> Path:
    """Copy the small valid fixture base to dest, then lay a case's files over it.

    A case may list paths to delete from the base in a file named `_delete`, and symbolic links
    to make in `_symlink` ("link target" per line, the target relative to the project and written
    with a line of YAML if it does not exist), since git cannot hold a link that leaves the project.
    """
    shutil.copytree(BASE, dest)
    if overlay is not None:
        for src in sorted(overlay.rglob("*")):
            rel = src.relative_to(overlay)
            if rel.name in ("expected.txt", "_delete", "_symlink", "args"):
                continue
            target = dest / rel
            if src.is_dir():
                if target.is_file():
                    target.unlink()  # the case replaces a base file with a directory
                target.mkdir(parents=True, exist_ok=True)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, target)
        deletions = overlay / "_delete"
        if deletions.is_file():
            for line in deletions.read_text().split():
                (dest / line).unlink()
        links = overlay / "_symlink"
        if links.is_file():
            for line in links.read_text().splitlines():
                link, link_target = line.split()
                outside = (dest / link_target).resolve()
                if not outside.exists():
                    outside.write_text("secret: text from outside the project\n", encoding="utf-8")
                (dest / link).symlink_to(outside)
    return dest


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse usage errors
            code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def tree_digest(site: Path) -> dict[str, str]:
    """Every file under `site` by its relative path, with the SHA-256 of its bytes: two trees are byte-identical
    when their digests are equal."""
    return {p.relative_to(site).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(site.rglob("*")) if p.is_file()}


class ForkedJobs:
    """The jobs given to second processes (generator.forked.Forked) while a test runs, each with its arguments;
    the processes start as they would."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.started: list[tuple[Any, tuple[Any, ...]]] = []
        original = forked.Forked.__init__

        def spy(process: forked.Forked, job: Any, *args: Any) -> None:
            self.started.append((job, args))
            original(process, job, *args)
        monkeypatch.setattr(forked.Forked, "__init__", spy)

    @property
    def jobs(self) -> list[Any]:
        return [job for job, _ in self.started]

    def args(self, job: Any) -> list[tuple[Any, ...]]:
        """The arguments of every process started with `job`."""
        return [args for started, args in self.started if started is job]
