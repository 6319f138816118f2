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
    return [w for w in re.findall(r"[a-z0-9]+", text.lower()) if not w.isdigit()]  # numbers (DOIs, pages) are not prose


def shingles(text: str) -> set[tuple[str, ...]]:
    w = words(text)
    return {tuple(w[i:i + SHINGLE]) for i in range(len(w) - SHINGLE + 1)}


def our_texts() -> dict[str, str]:
    texts: dict[str, str] = {}
    for path in RECORDS:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        texts[f"{path.name}:summary"] = data["summary"]
        texts[f"{path.name}:coding_note"] = data.get("coding_note", "")
        for i, c in enumerate(data.get("claims") or []):
            texts[f"{path.name}:claims[{i}]"] = c["claim"]
        for i, src in enumerate(data.get("sources") or []):
            texts[f"{path.name}:sources[{i}].note"] = src["note"]
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


PASSAGES = ROOT / "evidence/passages"


def passages() -> dict[str, str]:
    """The source texts coders read, kept verbatim (never published) so that copying can be caught."""
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted(PASSAGES.glob("*.txt"))}


def test_every_record_keeps_the_passages_its_coding_read() -> None:
    kept = passages()
    assert sorted(kept) == sorted(p.stem for p in RECORDS)
    for key, text in kept.items():
        assert re.search(r"^# url: https?://\S+$", text, re.M), f"{key}: no '# url:' line names where it was read"
        assert len(words(text)) > 30, key


def test_no_text_copies_a_source_it_was_coded_from() -> None:
    read = {key: shingles(text) for key, text in passages().items()}
    bib, _ = load_bibliography(ROOT / "references.bib", "references.bib")
    titles = set().union(*(shingles(e.fields.get("title", "") + " " + e.fields.get("booktitle", ""))
                           for e in bib.entries.values()))
    everything = set().union(*read.values()) - titles  # citing a work's title is not copying
    copied = {}
    # what coders wrote from the sources: records and codebook definitions (content pages cite works by
    # their full reference, which shares author and container names with the passages; the founding
    # chapter's abstract is checked against them above)
    for name, text in our_texts().items():
        if name.startswith("content/"):
            continue
        shared = shingles(text) & everything
        if shared:
            copied[name] = sorted(" ".join(s) for s in shared)[:2]
    assert copied == {}


def test_the_shingle_check_can_fail() -> None:
    a = "public servants and citizens act jointly to deliver public services"
    assert shingles(a) & shingles("In practice " + a + " today")


def test_every_reference_of_the_chapter_has_an_entry_and_a_record() -> None:
    bib, diags = load_bibliography(ROOT / "references.bib", "references.bib")
    assert diags == []
    records = {p.stem for p in RECORDS}
    # the chapter's 37 references and the chapter itself; the other entries are codebook sources
    founding = {p.stem for p in RECORDS if yaml.safe_load(p.read_text(encoding="utf-8")).get("route",
                                                                                        "founding-list") == "founding-list"}
    assert len(founding) == 38
    assert records <= set(bib.entries)
    sources = set()
    for path in (ROOT / "evidence/codebook").glob("*.yaml"):
        sources |= {t["source"] for t in yaml.safe_load(path.read_text(encoding="utf-8"))["terms"] if "source" in t}
    assert set(bib.entries) - records == sources - records


@pytest.mark.parametrize("path", RECORDS, ids=[p.stem for p in RECORDS])
def test_records_say_what_their_coding_rests_on(path: Path) -> None:
    """The basis (schema), the coding note (check: coding-note-short), the sources (schema) and arguments-only
    works (check: claim-kind-mismatch) are located diagnostics of `evidence check --strict`, run on the base
    by test_cli.py::test_shipped_evidence_base_is_clean_in_strict_mode; this keeps the one judgement that
    check cannot make from words alone."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if data["basis"] != "full-text":
        assert all(src["kind"] != "full-text" or "not" in src["note"] or "only" in src["note"].lower()
                   for src in data["sources"]), "a full text listed as read makes the basis full-text"


def test_the_search_logs_run_exactly_the_protocols_queries() -> None:
    """Every query of the written protocol is in a log, with the same text, and no other query is."""
    protocol = (ROOT / "content/protocol.md").read_text(encoding="utf-8")
    written = dict(re.findall(r"^\| (q\d{2,3}) \| (.+?) \|$", protocol, re.M))
    logged: dict[str, str] = {}
    for path in sorted((ROOT / "evidence/screening").glob("search-*.yaml")):
        logged.update(yaml.safe_load(path.read_text(encoding="utf-8"))["queries"])
    # the supplementary queries (q33-q40) were not needed: each screener had 64 candidates
    run_ids = {q for q in written if not 33 <= int(q[1:]) <= 40}
    assert logged == {q: written[q] for q in run_ids}


def test_the_flow_adds_up() -> None:
    from generator.check import check
    from generator.load import load_project
    from generator.model import build_model

    loaded = load_project(ROOT)
    result = check(loaded)
    model = build_model(result.records, result.codebook, loaded.bib, loaded.record_paths, result.corrected,
                        result.screening)
    assert model.flows, "the shipped base has screening logs"
    for flow in model.flows:
        assert flow.identified == flow.duplicates + flow.screened
        assert flow.screened == flow.excluded_total + flow.included
        assert flow.included == flow.coded + flow.deferred
    search = next(f for f in model.flows if f.route == "search")
    assert search.identified >= 150  # the floor for screening
    routes = {s.codes["route"][0] for s in model.studies.values()}
    assert routes == {"founding-list", "search", "review"}
