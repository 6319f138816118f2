"""`mkdocs build` renders half of the pages in a second process (generator/site_cache.py, `on_env`).

The site, the page cache's manifest and the warnings must be exactly those of a build in one process,
whether the second process works, dies, or renders a page that warns."""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mkdocs.commands.build import build as mkdocs_build
from mkdocs.config import load_config
from mkdocs.exceptions import Abort

from generator import forked, site_cache
from generator.build import generate

from .conftest import copy_project
from .helpers import tree_digest


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the project with the shipped base's pages generated into build/docs."""
    root = copy_project(tmp_path_factory.mktemp("parallel") / "project")
    ok, _ = generate(root, quiet=True)
    assert ok
    return root


@pytest.fixture
def in_project(project: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.chdir(project)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764288000")
    monkeypatch.setattr(forked, "available", lambda: True)  # a one-core machine still tests the split
    yield project
    shutil.rmtree(project / site_cache.CACHE_DIR, ignore_errors=True)


class Spy:
    """Counts the second processes started, and which pages each was given."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.shares: list[list[str]] = []
        real = forked.Forked

        def spy(job: Any, jobs: list[Any], *args: Any) -> Any:
            self.shares.append([page.file.src_uri for page, *_ in jobs])
            return real(job, jobs, *args)

        monkeypatch.setattr(forked, "Forked", spy)


def build(root: Path, site: Path) -> tuple[dict[str, str], str]:
    """A full build (no page cache) in this process: the site's files and the manifest it stored."""
    shutil.rmtree(root / site_cache.CACHE_DIR, ignore_errors=True)
    config = load_config(str(root / "mkdocs.yml"), site_dir=str(site))
    mkdocs_build(config)
    manifests = sorted((root / site_cache.CACHE_DIR).glob("manifest-*.json"))
    assert len(manifests) == 1
    return tree_digest(site), manifests[0].read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def one_process(project: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], str]:
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(project)
        mp.setenv("SOURCE_DATE_EPOCH", "1764288000")
        mp.setattr(site_cache, "PARALLEL_PAGES", 10**9)
        started: list[Any] = []
        mp.setattr(forked, "Forked", lambda *a: started.append(a))
        out = build(project, tmp_path_factory.mktemp("one") / "site")
        assert started == []
    shutil.rmtree(project / site_cache.CACHE_DIR, ignore_errors=True)
    return out


def test_two_processes_write_the_site_one_process_writes(in_project: Path, tmp_path: Path,
                                                          one_process: tuple[dict[str, str], str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    spy = Spy(monkeypatch)
    site, manifest = build(in_project, tmp_path / "site")
    assert len(spy.shares) == 1
    share = spy.shares[0]
    pages = sum(1 for _ in (in_project / "build/docs").rglob("*.md"))
    # the second half (rounded up) of the pages MkDocs renders, which are all but a few of build/docs
    assert pages / 2 - 40 <= len(share) <= (pages + 1) // 2
    assert site == one_process[0]
    assert manifest == one_process[1]  # the anchors and anchored links of every page, as one process finds them


def test_a_second_process_that_dies_changes_nothing(in_project: Path, tmp_path: Path,
                                                    one_process: tuple[dict[str, str], str],
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    def dies(*args: Any) -> None:  # noqa: ARG001
        os._exit(3)

    monkeypatch.setattr(site_cache, "_render_share", dies)
    spy = Spy(monkeypatch)
    with caplog.at_level(logging.INFO, logger="mkdocs"):
        assert build(in_project, tmp_path / "site") == one_process
    assert len(spy.shares) == 1
    assert "atlas-cache: the second render process failed; its pages are rendered here" in caplog.messages


def test_a_warning_in_the_second_process_is_logged_once_and_fails_a_strict_build(
        in_project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    page = in_project / "build/docs/zz/warn.md"  # last in MkDocs' order: in the second process's share
    page.parent.mkdir()
    page.write_text("# A page\n\nA link to [nothing](missing.md).\n", encoding="utf-8")
    spy = Spy(monkeypatch)
    try:
        with caplog.at_level(logging.INFO, logger="mkdocs"), pytest.raises(Abort, match="1 warnings in strict mode"):
            build(in_project, tmp_path / "site")
    finally:
        shutil.rmtree(page.parent)
    assert len(spy.shares) == 1 and "zz/warn.md" in spy.shares[0]
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings == ["Doc file 'zz/warn.md' contains a link 'missing.md', but the target 'zz/missing.md' is not "
                        "found among documentation files."]
