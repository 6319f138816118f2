"""build._sync: build/docs gets exactly the changed files, in one burst after every comparison."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from generator import build


def _pages(n: int, changed: frozenset[int] = frozenset()) -> dict[str, str]:
    return {f"studies/s{i:03d}.md": f"# Study {i}{' (changed)' if i in changed else ''}\n" for i in range(n)}


def test_sync_writes_the_changed_files_and_removes_the_gone(tmp_path: Path) -> None:
    docs, manifest = tmp_path / "docs", tmp_path / "cache/docs.json"
    assert build._sync(docs, {**_pages(5), "old/gone.md": "x"}, manifest) == 6
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
    compared = 0
    at_write: list[int] = []
    real_sha1, real_write = hashlib.sha1, Path.write_bytes

    def counting_sha1(data: bytes) -> Any:
        nonlocal compared
        compared += 1
        return real_sha1(data)

    def recording_write(self: Path, data: bytes) -> int:
        at_write.append(compared)
        return real_write(self, data)

    monkeypatch.setattr(hashlib, "sha1", counting_sha1)
    monkeypatch.setattr(Path, "write_bytes", recording_write)
    build._sync(docs, _pages(50, frozenset({2, 40})), manifest)
    assert at_write == [50, 50]
