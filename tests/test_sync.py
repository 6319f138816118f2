"""build._sync: build/docs gets exactly the changed files, in one burst after every comparison."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest

from generator import build


def _pages(n: int, changed: frozenset[int] = frozenset()) -> dict[str, bytes]:
    return {f"studies/s{i:03d}.md": f"# Study {i}{' (changed)' if i in changed else ''}\n".encode() for i in range(n)}


def test_sync_writes_the_changed_files_and_removes_the_gone(tmp_path: Path) -> None:
    docs, manifest = tmp_path / "docs", tmp_path / "cache/docs.json"
    assert build._sync(docs, {**_pages(5), "old/gone.md": b"x"}, manifest) == 6
    before = {p: p.stat().st_mtime_ns for p in docs.rglob("*.md")}
    assert build._sync(docs, _pages(5, frozenset({3})), manifest) == 2  # one written, one deleted
    assert not (docs / "old").exists()  # and its folder, now empty
    after = {p: p.stat().st_mtime_ns for p in docs.rglob("*.md")}
    assert [p.name for p in after if after[p] != before[p]] == ["s003.md"]  # the others were not touched
    assert (docs / "studies/s003.md").read_text(encoding="utf-8") == "# Study 3 (changed)\n"
    assert build._sync(docs, _pages(5, frozenset({3})), manifest) == 0


def test_sync_compares_every_file_before_it_writes_any(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`mkdocs serve` rebuilds 0.1 s after the last change it sees: a write in the middle of the
    comparisons started a rebuild on a half-written tree, and a second one after the rest."""
    docs, manifest = tmp_path / "docs", tmp_path / "cache/docs.json"
    build._sync(docs, _pages(50), manifest)
    looked_at: set[str] = set()
    at_write: list[int] = []
    real_stat, real_open = os.stat, os.open

    def recording_stat(path: Any, *args: Any, **kwargs: Any) -> Any:
        looked_at.add(os.fspath(path))
        return real_stat(path, *args, **kwargs)

    def recording_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if flags & os.O_CREAT and Path(path).is_relative_to(docs):  # a page written, not the manifest after them
            at_write.append(len({os.fspath(docs / rel) for rel in _pages(50)} & looked_at))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "stat", recording_stat)
    monkeypatch.setattr(os, "open", recording_open)
    build._sync(docs, _pages(50, frozenset({2, 40})), manifest)
    assert at_write == [50, 50]  # every file was looked at before the first was written


def _written(docs: Path) -> dict[str, bytes]:
    return {p.relative_to(docs).as_posix(): p.read_bytes() for p in sorted(docs.rglob("*")) if p.is_file()}


def test_many_writes_are_shared_with_a_second_process_and_give_the_same_docs(tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """From PARALLEL_WRITES files to write, a forked process writes the second half; the files and the
    manifest (hash, size, mtime of each) are those one process writes, and a helper that fails changes nothing."""
    from generator import forked

    pages = {**_pages(300), **{f"deep/{i % 7}/p{i}.md": f"page {i}\n".encode() for i in range(100)}}
    monkeypatch.setattr(build, "PARALLEL_WRITES", 10**9)
    one = tmp_path / "one"
    assert build._sync(one / "docs", pages, one / "docs.json") == 400
    if not forked.available():
        pytest.skip("no second core or no fork here")
    started: list[int] = []
    real = forked.Forked

    class Spy(real):  # type: ignore[misc, valid-type]
        def __init__(self, job: Any, *args: Any) -> None:
            started.append(len(args[1]))
            super().__init__(job, *args)

    monkeypatch.setattr(forked, "Forked", Spy)
    monkeypatch.setattr(build, "PARALLEL_WRITES", 100)
    two = tmp_path / "two"
    assert build._sync(two / "docs", pages, two / "docs.json") == 400
    assert started == [200]
    assert _written(two / "docs") == _written(one / "docs")
    manifest = json.loads((two / "docs.json").read_text(encoding="utf-8"))
    assert sorted(manifest) == sorted(pages)
    for rel, (digest, size, mtime) in manifest.items():
        st = (two / "docs" / rel).stat()
        assert [digest, size, mtime] == [hashlib.sha1(pages[rel]).hexdigest(), st.st_size, st.st_mtime_ns]

    def dying(docs: Path, writes: list[Any]) -> dict[str, list[Any]]:
        if os.getpid() != parent:
            os._exit(3)  # the helper dies before it writes anything
        return real_write(docs, writes)

    parent = os.getpid()
    real_write = build._write_files
    monkeypatch.setattr(build, "_write_files", dying)
    three = tmp_path / "three"
    assert build._sync(three / "docs", pages, three / "docs.json") == 400
    assert _written(three / "docs") == _written(one / "docs")
    assert sorted(json.loads((three / "docs.json").read_text(encoding="utf-8"))) == sorted(pages)
