"""Every real-world BibTeX file in ../shared/corpus/bib loads: each entry is read or reported."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from generator.load import load_bibliography

from .helpers import CORPUS

FILES = sorted(CORPUS.rglob("*.bib")) if CORPUS.is_dir() else []
ENTRY_START = re.compile(r"\s*@(?!string\b|comment\b|preamble\b)[A-Za-z]+\s*[{(]", re.I)


@pytest.mark.skipif(not FILES, reason="../shared/corpus is not beside this checkout")
@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_every_entry_is_read_or_reported(path: Path) -> None:
    started = time.monotonic()
    bib, diags = load_bibliography(path, path.name)
    elapsed = time.monotonic() - started
    assert elapsed < 60, "loading must never hang"  # a generous bound: it fails only on a hang
    lines = path.read_bytes().decode("utf-8", errors="replace").split("\n")
    starts = [n for n, line in enumerate(lines, 1) if ENTRY_START.match(line)]
    accounted = {e.line for e in bib.entries.values()} | {d.line for d in diags}
    assert [n for n in starts if n not in accounted] == []
    for d in diags:
        assert d.path == path.name and d.line >= 1 and d.code.startswith(("bib-", "file-", "unsafe-character"))


def test_known_problems_in_the_corpus_are_reported() -> None:
    if not FILES:
        pytest.skip("corpus missing")
    bib, diags = load_bibliography(CORPUS / "real" / "bbt_873_parens_ai_bib.bib", "x.bib")
    codes = [str(d.code) for d in diags]
    assert codes.count("bib-duplicate-key") == 14  # the README of the corpus counts 14 duplicate keys
    assert len(bib.entries) == 974
    bib, diags = load_bibliography(CORPUS / "real" / "tugboat.bib", "t.bib")
    assert len(bib.entries) == 3644 and diags == []
