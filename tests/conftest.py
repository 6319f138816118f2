"""Fixtures that build real sites once per session (each build takes a few seconds)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import settings

from .helpers import ROOT, run

# CI explores the same examples on every run (a failure there is reproducible); locally, new ones each time.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

PROJECT_PARTS = ("content", "evidence", "overrides", "references.bib", "mkdocs.yml", "schema")


def copy_project(dest: Path) -> Path:
    dest.mkdir(parents=True)
    for part in PROJECT_PARTS:
        src = ROOT / part
        if src.is_dir():
            shutil.copytree(src, dest / part)
        else:
            shutil.copyfile(src, dest / part)
    return dest


def build_site(root: Path) -> Path:
    code, out, err = run("--root", str(root), "build", "--quiet")
    assert code == 0, out + err
    return root / "site"


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped evidence base, built into a temporary copy of the project."""
    root = copy_project(tmp_path_factory.mktemp("atlas") / "project")
    return build_site(root)
