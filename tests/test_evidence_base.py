"""The shipped evidence base as the product: complete, honest, in our own words."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from generator.load import load_bibliography

from .helpers import ROOT

SEEDS = ROOT.parent / "shared" / "seeds"
RECORDS = sorted((ROOT / "evidence/studies").glob("*.yaml"))
SHINGLE = 8  # words in a row that count as copying


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def shingles(text: str) -> set[tuple[str, ...]]:
    w = words(text)
    return {tuple(w[i:i + SHINGLE]) for i in range(len(w) - SHINGLE + 1)}


def our_texts() -> dict[str, str]:
    texts: dict[str, str] = {}
    for path in RECORDS:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        texts[f"{path.name}:summary"] = data["summary"]
        texts[f"{path.name}:coding_note"] = data.get("coding_note", "")
        for i, f in enumerate(data.get("findings") or []):
            texts[f"{path.name}:findings[{i}]"] = f["claim"]
    for path in sorted((ROOT / "evidence/codebook").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for term in data["terms"]:
            texts[f"{path.name}:{term['slug']}"] = term["definition"]
    for path in sorted((ROOT / "content").rglob("*.md")):
        texts[str(path.relative_to(ROOT))] = path.read_text(encoding="utf-8")
    return texts


@pytest.mark.skipif(not SEEDS.is_dir(), reason="../shared/seeds is not beside this checkout")
def test_no_text_copies_the_founding_chapter() -> None:
    seed = " ".join(p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt")))
    abstract = seed.split("Abstract", 1)[1].split("This is a preview", 1)[0]
    copied = {name: sorted(" ".join(s) for s in shingles(text) & shingles(abstract))[:2]
              for name, text in our_texts().items() if shingles(text) & shingles(abstract)}
    assert copied == {}


def test_the_shingle_check_can_fail() -> None:
    a = "public servants and citizens act jointly to deliver public services"
    assert shingles(a) & shingles("In practice " + a + " today")


def test_every_reference_of_the_chapter_has_an_entry_and_a_record() -> None:
    bib, diags = load_bibliography(ROOT / "references.bib", "references.bib")
    assert diags == []
    records = {p.stem for p in RECORDS}
    # the chapter's 37 references and the chapter itself; painter2010 and peters2021 are codebook sources
    assert len(records) == 38
    assert records <= set(bib.entries)
    assert set(bib.entries) - records == {"painter2010", "peters2021"}


@pytest.mark.parametrize("path", RECORDS, ids=[p.stem for p in RECORDS])
def test_records_say_what_their_coding_rests_on(path: Path) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert data["basis"] in {"full-text", "abstract", "publisher-description", "secondary"}
    assert len(data.get("coding_note", "")) > 80
    if data.get("study_type") == "conceptual":
        assert not data.get("findings"), "conceptual works are coded without findings of their own"
    for f in data.get("findings") or []:
        assert f["locator"]
