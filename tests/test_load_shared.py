"""Loading on two cores changes nothing it gives: records read by a second process (load._SharedRecords) and a
bibliography read ahead, before the program's own imports (load.read_ahead), give what a load in one
process gives, diagnostics and their order included; a second process that fails, or a read ahead nobody
takes, costs nothing but time."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

import generator.load as load
from generator import cli, forked
from generator.check import check
from generator.check_bib import bibliography_diagnostics
from generator.csl import csl_item
from generator.load_cache import LoadCache

from .helpers import INVALID, ROOT, ForkedJobs, make_project

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="processes are forked only where fork exists")

CASES = sorted(p for p in INVALID.glob("*/*") if p.is_dir())


def _loaded(project: load.Loaded) -> tuple[Any, ...]:
    docs = {name: [(k, d.path, d.data, d.origin) for k, d in getattr(project, name).items()]
            for name in ("records", "codebook", "screening")}
    return (docs, project.record_paths, project.diagnostics, [d.message for d in project.diagnostics],
            project.files, project.bib.entries, project.bib.text)


def _slow_here(monkeypatch: pytest.MonkeyPatch) -> None:
    """The records read in this process take a little longer, so that the second process takes some of them
    even in a small base (it starts from the last, while this one reads from the first)."""
    parent, original = os.getpid(), load.load_record

    def slow(*args: Any) -> Any:
        if os.getpid() == parent:
            time.sleep(0.005)
        return original(*args)
    monkeypatch.setattr(load, "load_record", slow)


@pytest.mark.parametrize("case", [None, *CASES], ids=["base", *(f"{c.parent.name}/{c.name}" for c in CASES)])
def test_records_read_on_two_cores_are_the_ones_read_here(case: Path | None, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    root = ROOT if case is None else make_project(tmp_path / "project", case)
    monkeypatch.setattr(load, "SHARED_RECORDS", 1 << 30)
    here = _loaded(load.load_project(root))
    checked = check(load.load_project(root)).diagnostics  # the check reads some records again: a load of its own
    monkeypatch.setattr(load, "SHARED_RECORDS", 0)
    monkeypatch.setattr(forked, "available", lambda: True)  # a one-core machine still tests the split
    _slow_here(monkeypatch)
    sent: list[int] = []
    original = load._SharedRecords.finish

    def spy(shared: load._SharedRecords) -> dict[int, Any]:
        answer = original(shared)
        sent.append(len(answer))
        return answer
    monkeypatch.setattr(load._SharedRecords, "finish", spy)
    assert _loaded(load.load_project(root)) == here
    assert check(load.load_project(root)).diagnostics == checked
    if case is None:
        assert sent and sent[0] > 0, "the second process read some of the records"


def test_with_the_load_cache_the_records_read_there_are_kept_as_here(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A build's load: what the second process read is stored (and what the cache held is counted as a hit)
    exactly as if this process had read it."""
    root = make_project(tmp_path / "project")
    monkeypatch.setattr(load, "SHARED_RECORDS", 1 << 30)
    alone = LoadCache(tmp_path / "alone")
    here = load.load_project(root, cache=alone)
    monkeypatch.setattr(load, "SHARED_RECORDS", 0)
    monkeypatch.setattr(forked, "available", lambda: True)
    _slow_here(monkeypatch)
    for run in ("cold", "warm"):
        shared = LoadCache(tmp_path / "shared")
        both = load.load_project(root, cache=shared)
        assert _loaded(both) == _loaded(here), run
        assert shared._used == alone._used, run
        assert shared.hits == (0 if run == "cold" else len(here.records)), run
        shared.save()


def test_if_the_record_reading_process_dies_the_records_are_read_here(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_project(tmp_path / "project", INVALID / "unknown-country/uk-and-france-name")
    monkeypatch.setattr(load, "SHARED_RECORDS", 1 << 30)
    here = load.load_project(root)
    monkeypatch.setattr(load, "SHARED_RECORDS", 0)
    monkeypatch.setattr(forked, "available", lambda: True)
    monkeypatch.setattr(load, "_read_shared", lambda *_: os._exit(3))
    assert _loaded(load.load_project(root)) == _loaded(here)


def test_the_records_are_not_shared_while_the_bibliography_is_read_on_the_other_core(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Both cores are busy then: a third process would slow the bibliography's (the check at 1,000 studies
    lost 0.01 s to it)."""
    monkeypatch.setattr(load, "SHARED_RECORDS", 0)
    monkeypatch.setattr(load, "PARALLEL_BIB_BYTES", 0)
    monkeypatch.setattr(forked, "available", lambda: True)
    parse = load.load_bibliography

    def slow_parse(*args: Any) -> Any:
        time.sleep(1)  # still at work when the records are reached
        return parse(*args)
    monkeypatch.setattr(load, "load_bibliography", slow_parse)
    started = ForkedJobs(monkeypatch)
    load.load_project(ROOT)
    assert load._bibliography_worker in started.jobs
    assert load._read_shared not in started.jobs


def test_a_read_ahead_is_taken_by_the_load_that_asks_for_it(monkeypatch: pytest.MonkeyPatch) -> None:
    here = load.load_project(ROOT, bib_check=bibliography_diagnostics)
    monkeypatch.setattr(load, "PARALLEL_BIB_BYTES", 0)
    monkeypatch.setattr(forked, "available", lambda: True)
    started = ForkedJobs(monkeypatch)
    with load.read_ahead(ROOT, check=load.BIB_CHECK):
        assert started.jobs == [load._ahead_worker], "started at once, before the load"
        ahead = load.load_project(ROOT, bib_check=bibliography_diagnostics)
    assert started.jobs == [load._ahead_worker], "the load took it and started no other"
    assert _loaded(ahead) == _loaded(here)
    assert ahead.bib_checked == bibliography_diagnostics(ahead.bib)
    assert load._AHEAD == [] and not forked._RUNNING


def test_a_read_ahead_makes_the_csl_items_a_build_asks_for(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(load, "PARALLEL_BIB_BYTES", 0)
    monkeypatch.setattr(forked, "available", lambda: True)
    with load.read_ahead(ROOT, items=load.CSL_ITEMS, check=load.BIB_CHECK):
        time.sleep(2)  # the second process has made every item before the records are read
        loaded = load.load_project(ROOT, csl=csl_item, bib_check=bibliography_diagnostics)
    assert loaded.bib.csl == {key: csl_item(entry) for key, entry in loaded.bib.entries.items()}


@pytest.mark.parametrize("asked", [{}, {"csl": csl_item}, {"bib_check": bibliography_diagnostics, "csl": csl_item}],
                         ids=["nothing", "items only", "items and checks"])
def test_a_read_ahead_for_other_functions_is_stopped_and_the_load_reads_as_without_it(
        asked: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    here = load.load_project(ROOT, **asked)
    monkeypatch.setattr(load, "PARALLEL_BIB_BYTES", 0)
    monkeypatch.setattr(forked, "available", lambda: True)
    started = ForkedJobs(monkeypatch)
    with load.read_ahead(ROOT, check=load.BIB_CHECK):  # checks only
        elsewhere = load.load_project(ROOT, **asked)
        assert not forked._RUNNING, "the read ahead was stopped, not left running"
    assert started.jobs == [load._ahead_worker, load._bibliography_worker]
    assert _loaded(elsewhere) == _loaded(here)
    assert elsewhere.bib_checked == (bibliography_diagnostics(here.bib) if "bib_check" in asked else None)


def test_a_read_ahead_is_stopped_when_the_load_cache_holds_the_bibliography(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_project(tmp_path / "project")
    cache = LoadCache(tmp_path / "cache")
    load.load_project(root, cache=cache, csl=csl_item)
    cache.save()
    monkeypatch.setattr(load, "PARALLEL_BIB_BYTES", 0)
    monkeypatch.setattr(forked, "available", lambda: True)
    started = ForkedJobs(monkeypatch)
    ended: list[bool] = []
    original = load._Ahead.end
    def end(ahead: load._Ahead) -> None:
        ended.append(True)
        original(ahead)
    monkeypatch.setattr(load._Ahead, "end", end)
    with load.read_ahead(root, items=load.CSL_ITEMS, check=load.BIB_CHECK):
        load.load_project(root, cache=LoadCache(tmp_path / "cache"), csl=csl_item, bib_check=bibliography_diagnostics)
        assert ended == [True] and not forked._RUNNING
    assert started.jobs == [load._ahead_worker]


def test_a_read_ahead_nobody_takes_is_stopped_when_its_block_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(load, "PARALLEL_BIB_BYTES", 0)
    monkeypatch.setattr(forked, "available", lambda: True)
    with load.read_ahead(ROOT, check=load.BIB_CHECK):
        assert len(load._AHEAD) == 1 and len(forked._RUNNING) == 1
    assert load._AHEAD == [] and not forked._RUNNING
    with pytest.raises(RuntimeError), load.read_ahead(ROOT, check=load.BIB_CHECK):
        raise RuntimeError  # a command that fails before its load
    assert load._AHEAD == [] and not forked._RUNNING


def test_no_read_ahead_for_a_small_bibliography_or_one_core(monkeypatch: pytest.MonkeyPatch) -> None:
    started = ForkedJobs(monkeypatch)
    with load.read_ahead(ROOT, check=load.BIB_CHECK):  # the shipped references.bib is below PARALLEL_BIB_BYTES
        pass
    monkeypatch.setattr(load, "PARALLEL_BIB_BYTES", 0)
    monkeypatch.setattr(forked, "available", lambda: False)
    with load.read_ahead(ROOT, check=load.BIB_CHECK):
        pass
    assert started.jobs == []


def test_if_the_read_ahead_dies_the_bibliography_is_read_here(monkeypatch: pytest.MonkeyPatch) -> None:
    here = load.load_project(ROOT, bib_check=bibliography_diagnostics)
    monkeypatch.setattr(load, "PARALLEL_BIB_BYTES", 0)
    monkeypatch.setattr(forked, "available", lambda: True)
    monkeypatch.setattr(load, "_ahead_worker", lambda *_: os._exit(3))
    with load.read_ahead(ROOT, check=load.BIB_CHECK):
        elsewhere = load.load_project(ROOT, bib_check=bibliography_diagnostics)
    assert _loaded(elsewhere) == _loaded(here)


@pytest.mark.parametrize("command", [["check"], ["generate", "--quiet"]])
def test_the_commands_read_ahead_and_say_what_one_process_says(
        command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_project(tmp_path / "project", INVALID / "unknown-country/uk-and-france-name")
    assert cli.main(["--root", str(root), *command]) == 1
    alone = capsys.readouterr()
    monkeypatch.setattr(load, "PARALLEL_BIB_BYTES", 0)
    monkeypatch.setattr(forked, "available", lambda: True)
    started = ForkedJobs(monkeypatch)
    assert cli.main(["--root", str(root), *command]) == 1
    assert capsys.readouterr() == alone
    assert started.jobs[0] is load._ahead_worker
    assert load._bibliography_worker not in started.jobs


def test_a_build_reads_no_bibliography_ahead_that_its_load_cache_holds(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A rebuild's load takes the bibliography from the cache: no process reads it ahead for nothing. A check
    (no cache) still reads it ahead, and so does a build once references.bib has changed."""
    from generator.load_cache import FOLDER, may_hold_bibliography

    root = make_project(tmp_path / "project")
    bib = root / "references.bib"
    assert not may_hold_bibliography(root / FOLDER, bib)
    cache = LoadCache(root / FOLDER)
    load.load_project(root, cache=cache, csl=csl_item)
    cache.save()
    assert may_hold_bibliography(root / FOLDER, bib)
    monkeypatch.setattr(load, "PARALLEL_BIB_BYTES", 0)
    monkeypatch.setattr(forked, "available", lambda: True)
    started = ForkedJobs(monkeypatch)
    with load.read_ahead(root, items=load.CSL_ITEMS, check=load.BIB_CHECK):
        pass
    assert started.jobs == []
    with load.read_ahead(root, check=load.BIB_CHECK):
        pass
    assert started.jobs == [load._ahead_worker]
    bib.write_text(bib.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert not may_hold_bibliography(root / FOLDER, bib)
    with load.read_ahead(root, items=load.CSL_ITEMS, check=load.BIB_CHECK):
        pass
    assert started.jobs == [load._ahead_worker, load._ahead_worker]
