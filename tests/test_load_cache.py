"""The load cache (generator/load_cache.py): a build takes from it what an earlier build parsed from the same
bytes, parses again exactly what changed, and writes the same pages as a build without it."""

from __future__ import annotations

import contextlib
import io
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from generator import cli, fastyaml, load
from generator.build import DOCS, generate
from generator.load_cache import BIBLIOGRAPHY, FOLDER, RECORDS

from .conftest import copy_project
from .helpers import tree_digest


class Parses:
    """How many record texts the fast path parsed and how many bibliographies were parsed, in this process."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.records = 0
        self.bibliographies = 0
        plain, bib = fastyaml.parse_plain, load.parse_bibliography

        def counted_plain(*args: object, **kwargs: object) -> object:
            self.records += 1
            return plain(*args, **kwargs)  # type: ignore[arg-type]

        def counted_bib(*args: object, **kwargs: object) -> object:
            self.bibliographies += 1
            return bib(*args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(fastyaml, "parse_plain", counted_plain)
        monkeypatch.setattr(load, "parse_bibliography", counted_bib)
        # one process: a bibliography read by a second process would not be counted here
        monkeypatch.setattr(load, "PARALLEL_BIB_BYTES", 1 << 40)

    def reset(self) -> None:
        self.records = self.bibliographies = 0


def generated(root: Path) -> str:
    """Run the generator step; its messages (it must succeed)."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        ok, _ = generate(root)
    assert ok and "Traceback" not in err.getvalue(), err.getvalue()
    return err.getvalue()


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Path]:
    yield copy_project(tmp_path / "project")


SUMMARY = "summary: >-\n  "  # how a record's summary begins


def records(root: Path) -> list[Path]:
    return sorted((root / "evidence/studies").glob("*.yaml"))


def test_a_warm_cache_parses_nothing_and_changes_nothing(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parses = Parses(monkeypatch)
    generated(project)
    n = len(records(project))
    assert (parses.records, parses.bibliographies) == (n, 1)
    assert (project / FOLDER / RECORDS).is_file() and (project / FOLDER / BIBLIOGRAPHY).is_file()
    before = tree_digest(project / DOCS)
    parses.reset()
    generated(project)
    assert (parses.records, parses.bibliographies) == (0, 0)
    assert tree_digest(project / DOCS) == before
    # and the same pages as a build that never had a cache
    shutil.rmtree(project / FOLDER)
    shutil.rmtree(project / DOCS)
    generated(project)
    assert tree_digest(project / DOCS) == before


def test_an_edited_record_is_parsed_again_and_shows(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parses = Parses(monkeypatch)
    generated(project)
    record = next(r for r in records(project) if SUMMARY in r.read_text(encoding="utf-8"))
    record.write_text(record.read_text(encoding="utf-8").replace(SUMMARY, SUMMARY + "Cachetest. ", 1),
                      encoding="utf-8")
    parses.reset()
    generated(project)
    assert (parses.records, parses.bibliographies) == (1, 0)
    page = (project / DOCS / "studies" / f"{record.stem}.md").read_text(encoding="utf-8")
    assert "Cachetest" in page
    # an edit back to the earlier text is a text the cache still holds (it keeps what the last load used)
    record.write_text(record.read_text(encoding="utf-8").replace("Cachetest. ", "", 1), encoding="utf-8")
    parses.reset()
    generated(project)
    assert parses.records == 1  # the earlier text was dropped when the edit replaced it
    assert "Cachetest" not in (project / DOCS / "studies" / f"{record.stem}.md").read_text(encoding="utf-8")


def test_an_edited_bibliography_is_parsed_again_and_shows(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parses = Parses(monkeypatch)
    generated(project)
    bib = project / "references.bib"
    key = records(project)[0].stem
    text = bib.read_text(encoding="utf-8")
    title = text.index("title", text.index(f"{{{key},"))
    brace = text.index("{", title) + 1
    bib.write_text(text[:brace] + "Cachetest " + text[brace:], encoding="utf-8")
    parses.reset()
    generated(project)
    assert (parses.records, parses.bibliographies) == (0, 1)
    assert "Cachetest" in (project / DOCS / "studies" / f"{key}.md").read_text(encoding="utf-8")
    parses.reset()
    generated(project)
    assert parses.bibliographies == 0


@pytest.mark.parametrize("name", [RECORDS, BIBLIOGRAPHY])
@pytest.mark.parametrize("damage", ["truncated", "flipped", "garbage"])
def test_a_damaged_cache_is_read_as_empty(project: Path, monkeypatch: pytest.MonkeyPatch, name: str,
                                          damage: str) -> None:
    parses = Parses(monkeypatch)
    generated(project)
    before = tree_digest(project / DOCS)
    path = project / FOLDER / name
    data = path.read_bytes()
    if damage == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "flipped":  # one byte of the body changed: its checksum no longer matches
        at = len(data) - 100
        path.write_bytes(data[:at] + bytes([data[at] ^ 0x55]) + data[at + 1:])
    else:
        path.write_bytes(b"not a cache file\n")
    parses.reset()
    generated(project)
    expected = (len(records(project)), 0) if name == RECORDS else (0, 1)
    assert (parses.records, parses.bibliographies) == expected
    assert tree_digest(project / DOCS) == before


def test_a_cache_from_other_code_is_not_used(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parses = Parses(monkeypatch)
    generated(project)
    monkeypatch.setattr("generator.load_cache.FORMAT", b"atlas-load 0")
    parses.reset()
    generated(project)
    assert (parses.records, parses.bibliographies) == (len(records(project)), 1)


def test_a_record_with_a_problem_is_reported_every_time(project: Path) -> None:
    generated(project)
    record = records(project)[5]
    record.write_text(record.read_text(encoding="utf-8") + "summary: twice\n", encoding="utf-8")
    outs = []
    for _ in range(2):
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            ok, _ = generate(project)
        assert not ok
        outs.append(err.getvalue())
    assert outs[0] == outs[1]
    assert f"evidence/studies/{record.name}:" in outs[0] and "duplicate" in outs[0]


def test_check_reads_every_file_whatever_the_cache_holds(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parses = Parses(monkeypatch)
    generated(project)
    parses.reset()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        assert cli.main(["--root", str(project), "check"]) == 0
    assert (parses.records, parses.bibliographies) == (len(records(project)), 1)
