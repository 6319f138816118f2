"""Issue 14: real-world input gives located diagnostics, never a crash, and never loses text silently."""

from __future__ import annotations

import difflib
import json
import re
from pathlib import Path

import pycountry
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.check import KeyIndex, check, key_problem
from generator.codebook import suggest_country
from generator.csl import csl_item
from generator.exports import bibtex_of
from generator.load import _UNSAFE, load_project, parse_bibliography, parse_yaml, skeleton
from generator.model import build_model

from .helpers import FIXTURES, ROOT, make_project, run

SAMPLES = FIXTURES / "realworld"
SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- traditions -------------------------------------------------------------------------

def test_every_iso_country_is_in_a_tradition_or_stated_unassigned() -> None:
    doc, diags = parse_yaml((ROOT / "evidence/codebook/traditions.yaml").read_text(encoding="utf-8"), "t.yaml")
    assert doc is not None and diags == []  # read as the checker reads it: NO is Norway, not false
    data = doc.data
    placed = [c for term in data["terms"] for c in term["countries"]]
    unassigned = [c for group in data["unassigned"] for c in group["countries"]]
    assert all(group["reason"].strip() for group in data["unassigned"])
    everything = placed + unassigned
    assert len(everything) == len(set(everything)), "a country is in one place only"
    assert sorted(set(everything)) == sorted(c.alpha_2 for c in pycountry.countries)


def test_a_study_from_any_country_passes_strict(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    (root / "evidence/codebook/traditions.yaml").write_text(
        (ROOT / "evidence/codebook/traditions.yaml").read_text(encoding="utf-8").replace("source: peters2021",
                                                                                       "source: lee2019")
        .replace("source: painter2010", "source: lee2019"), encoding="utf-8")
    record = root / "evidence/studies/smith2020.yaml"
    codes = ", ".join(sorted(c.alpha_2 for c in pycountry.countries if c.alpha_2 != "NO"))
    text = record.read_text(encoding="utf-8").replace("countries: [GB]\nsectors", f"countries: [{codes}, NO]\nsectors", 1)
    record.write_text(text, encoding="utf-8")
    assert run("--root", str(root), "check", "--strict")[0] == 0


# --- YAML integers of any length ---------------------------------------------------------

@SETTINGS
@given(st.integers(min_value=1, max_value=20_000), st.sampled_from(["summary", "countries", "coding_note", "x"]))
def test_integers_of_any_length_load_or_are_reported(digits: int, name: str) -> None:
    number = "9" * digits
    doc, diags = parse_yaml(f"{name}: {number}\nother: [1, {number}]\n", "x.yaml")
    if digits <= 4000:
        assert doc is not None and doc.data[name] == int(number) and diags == []
    else:
        assert [(d.code, d.line) for d in diags] == [("yaml-number-too-long", 1), ("yaml-number-too-long", 2)]


@pytest.mark.parametrize("fmt", ["text", "json", "github"])
def test_a_huge_integer_is_reported_in_every_output_format(tmp_path: Path, fmt: str) -> None:
    root = make_project(tmp_path / "p")
    (root / "evidence/dataset.yaml").write_text(
        (root / "evidence/dataset.yaml").read_text(encoding="utf-8") + "extra: " + "1" * 5000 + "\n", encoding="utf-8")
    code, out, err = run("--root", str(root), "check", "--format", fmt)
    assert code == 1 and "internal error" not in err
    if fmt == "json":
        found = [d for d in json.loads(out) if d["code"] == "yaml-number-too-long"]
        assert found and found[0]["path"] == "evidence/dataset.yaml" and found[0]["line"] > 1
    elif fmt == "github":
        assert re.search(r"::error file=evidence/dataset.yaml,line=\d+,col=\d+,title=yaml-number-too-long::", out)
    else:
        assert "error[yaml-number-too-long]" in out


# --- BibTeX: '%', macros, crossref, unsafe characters -------------------------------------

WORD = st.from_regex(r"[A-Za-z0-9]{1,8}", fullmatch=True)
PIECE = st.one_of(WORD, WORD.map(lambda w: "{" + w + "}"), st.sampled_from(["%", "50%", " -- ", "~", "\\&"]))


@SETTINGS
@given(st.lists(PIECE, min_size=1, max_size=12))
def test_percent_in_bibtex_text_never_cuts_the_value(pieces: list[str]) -> None:
    title = " ".join(pieces)
    bib, diags = parse_bibliography("@article{a2020,\n  title = {" + title + "},\n  journal = {J},\n}\n", "r.bib")
    assert diags == []
    shown = csl_item(bib.entries["a2020"])["title"]
    for word in re.findall(r"[A-Za-z0-9]+", title.replace("\\&", " ")):
        assert word in shown, (title, shown)
    assert shown.count("%") == title.count("%")


def test_percent_is_kept_in_title_reference_and_export() -> None:
    bib, diags = parse_bibliography(
        "@article{a2020,\n  title = {Co-production raised turnout by 50% in {UK} councils},\n  journal = {J},\n"
        "  url = {https://example.org/a%20b},\n}\n", "r.bib")
    entry = bib.entries["a2020"]
    assert diags == []
    # braces become a nocase span in CSL (so that title-casing styles keep "UK"); the % survives
    assert csl_item(entry)["title"] == 'Co-production raised turnout by 50% in <span class="nocase">UK</span> councils'
    assert entry.fields["url"] == "https://example.org/a%20b"  # verbatim fields keep a bare %
    assert entry.fields["title"] == r"Co-production raised turnout by 50\% in {UK} councils"  # valid LaTeX on export


MACRO = st.from_regex(r"[a-z]{2,6}", fullmatch=True).filter(lambda m: m[:3] not in
                                                             {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug",
                                                              "sep", "oct", "nov", "dec"})


@SETTINGS
@given(st.dictionaries(MACRO, WORD, max_size=4), st.lists(MACRO, min_size=1, max_size=4))
def test_macros_are_expanded_or_reported_with_their_line(defined: dict[str, str], used: list[str]) -> None:
    strings = "".join(f"@string{{{k} = {{{v}}}}}\n" for k, v in defined.items())
    value = " # ".join([*used, '" end"'])
    text = strings + "@article{a2020,\n  title = {T},\n  journal = " + value + ",\n}\n"
    bib, diags = parse_bibliography(text, "r.bib")
    journal_line = len(defined) + 3
    undefined = [m for m in used if m not in defined]
    assert [(d.code, d.line) for d in diags] == [("bib-undefined-macro", journal_line)] * len(undefined)
    expected = "".join(defined.get(m, m) for m in used) + " end"
    assert bib.entries["a2020"].fields["journal"] == expected


PARENT_FIELDS = ["booktitle", "publisher", "year", "address", "editor"]


@SETTINGS
@given(st.sets(st.sampled_from(PARENT_FIELDS)), st.booleans(), st.sampled_from(["crossref", "xdata"]))
def test_crossref_and_xdata_children_inherit_what_they_lack(own: set[str], parent_first: bool, kind: str) -> None:
    child = "@incollection{child2020,\n  author = {A, B},\n  title = {Chapter},\n" + "".join(
        f"  {f} = {{own {f}}},\n" for f in sorted(own)) + f"  {kind} = {{Parent2020}},\n}}\n"
    parent_type = "xdata" if kind == "xdata" else "book"
    parent = f"@{parent_type}{{parent2020,\n  title = {{The Book}},\n" + "".join(
        f"  {f} = {{parent {f}}},\n" for f in PARENT_FIELDS if f != "booktitle") + "}\n"
    bib, diags = parse_bibliography(parent + child if parent_first else child + parent, "r.bib")
    assert diags == []
    fields = bib.entries["child2020"].fields
    assert "crossref" not in fields and "xdata" not in fields
    for f in PARENT_FIELDS:
        if f in own:
            assert fields[f] == f"own {f}"
        elif f == "booktitle":  # a book's title becomes a chapter's booktitle; xdata maps nothing
            assert fields.get(f) == ("The Book" if kind == "crossref" else None)
        else:
            assert fields[f] == f"parent {f}"
    assert fields["title"] == "Chapter"  # the parent's title never replaces the child's


def test_crossref_fields_reach_the_reference_and_the_exports(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    bib = root / "references.bib"
    text = bib.read_text(encoding="utf-8")
    text = text.replace("  booktitle = {A handbook of examples},\n  editor    = {Park, Eun and Olsen, Finn},\n"
                        "  publisher = {Example Press},\n  address   = {Oslo},\n  year      = {2018},\n",
                        "  crossref  = {park2018},\n")
    text += ("\n@book{park2018,\n  editor    = {Park, Eun and Olsen, Finn},\n  title     = {A handbook of examples},\n"
             "  publisher = {Example Press},\n  address   = {Oslo},\n  year      = {2018},\n}\n")
    bib.write_text(text, encoding="utf-8")
    loaded = load_project(root)
    result = check(loaded)
    assert [d.code for d in result.diagnostics] == []  # the parent is not reported as unused
    model = build_model(result.records, result.codebook, loaded.bib, loaded.record_paths)
    study = model.studies["muller2018"]
    assert study.csl["container-title"] == "A handbook of examples" and study.csl["publisher"] == "Example Press"
    exported = bibtex_of(study)
    assert re.search(r"booktitle\s*=\s*\{A handbook of examples\}", exported)
    assert "crossref" not in exported
    again, diags = parse_bibliography(exported, "x.bib")
    assert diags == [] and again.entries["muller2018"].fields["publisher"] == "Example Press"


UNSAFE_CHARS = st.sampled_from(["\x00", "\x07", "\x1b", "\x7f", "\u200b", "\u200d", "\u202e", "\u2066", "\ufeff"])


@SETTINGS
@given(UNSAFE_CHARS, st.sampled_from(["title", "journal", "doi", "author"]), st.integers(0, 5))
def test_unsafe_characters_in_bibtex_are_refused_with_the_line(ch: str, name: str, at: int) -> None:
    values = {"author": "Smith, Ann", "title": "Title", "journal": "Journal", "doi": "10.1234/abc"}
    value = values[name]
    values[name] = value[:at] + ch + value[at:]
    order = ["author", "title", "journal", "doi"]
    text = "@article{a2020,\n" + "".join(f"  {f} = {{{values[f]}}},\n" for f in order) + "}\n"
    _, diags = parse_bibliography(text, "r.bib")
    assert _UNSAFE.search(ch)
    assert ("unsafe-character", order.index(name) + 2) in [(d.code, d.line) for d in diags]


def test_a_doi_ending_in_a_zero_width_space_fails_check(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    bib = root / "references.bib"
    bib.write_text(bib.read_text(encoding="utf-8").replace("example.2020.1}", "example.2020.1\u200b}"), encoding="utf-8")
    code, out, _ = run("--root", str(root), "check")
    assert code == 1 and "references.bib:9:1: error[unsafe-character] field 'doi' of 'smith2020'" in out


# --- empty keys, line endings, keys ---------------------------------------------------------

@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_every_line_ending_gives_the_right_lines(newline: str) -> None:
    text = "@article{,\n  title = {A},\n}\n\n@article{,\n  title = {B},\n}\n\n@book{b2020,\n  title = x,\n}\n"
    bib, diags = parse_bibliography(text.replace("\n", newline), "r.bib")
    assert [(d.code, d.line) for d in diags] == [("bib-no-key", 1), ("bib-no-key", 5), ("bib-undefined-macro", 10)]
    assert bib.entries["b2020"].line == 9


@pytest.mark.parametrize("key", ["-smith2020", "smith.2020", "Smith2020", "sm\u0456th2020", "\u212aim2020", "smith 2020"])
def test_new_refuses_keys_that_check_rejects(tmp_path: Path, key: str) -> None:
    root = make_project(tmp_path / "p")
    code, _, err = run("--root", str(root), "new", "--", key)
    assert code == 1 and "is not a valid key" in err and "hint:" in err
    assert not any(p.name.startswith(key) for p in (root / "evidence/studies").iterdir())
    assert key_problem(key) is not None


def test_a_confusable_key_is_named() -> None:
    _, hint = key_problem("bova\u0456rd2007") or ("", "")
    assert "U+0456 CYRILLIC SMALL LETTER BYELORUSSIAN-UKRAINIAN I" in hint and "'bovaird2007'" in hint
    assert skeleton("\u212aim2020") == skeleton("kim2020") == "kim2020"


@SETTINGS
@given(st.lists(st.from_regex(r"[a-z]{2,9}(19|20)[0-9]{2}[ab]?", fullmatch=True), min_size=1, max_size=60, unique=True),
       st.from_regex(r"[a-z]{2,9}(19|20)[0-9]{2}", fullmatch=True))
def test_the_key_index_suggests_what_difflib_over_every_key_would(keys: list[str], wanted: str) -> None:
    assert KeyIndex(keys).near(wanted) == difflib.get_close_matches(wanted, keys, n=3, cutoff=0.6)


def test_the_key_index_finds_a_typo_among_seven_thousand_keys() -> None:
    import random

    rng = random.Random(14)
    keys = sorted({"".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 10)))
                   + str(rng.randint(1950, 2025)) for _ in range(7000)})
    index = KeyIndex(keys)
    for key in rng.sample(keys, 50):
        typo = key[:1] + key[2:] if len(key) > 6 else key + "x"  # a letter left out
        assert index.near(typo)[0] == difflib.get_close_matches(typo, keys, n=1, cutoff=0.6)[0]


def test_country_suggestions_are_precomputed() -> None:
    assert suggest_country("Tanzania") == "TZ" and suggest_country("England") == "GB"
    assert suggest_country("Viet Nam") == "VN" and suggest_country("Frnace") == "FR"
    assert suggest_country("Zzzz") is None


# --- files: encodings, symlinks, samples -----------------------------------------------------

@pytest.mark.parametrize("target", ["references.bib", "evidence/codebook/logics.yaml", "evidence/dataset.yaml"])
def test_symlinks_that_leave_the_project_are_refused(tmp_path: Path, target: str) -> None:
    root = make_project(tmp_path / "p")
    outside = tmp_path / "secret.txt"
    outside.write_text("password: hunter2\n", encoding="utf-8")
    (root / target).unlink()
    (root / target).symlink_to(outside)
    code, out, _ = run("--root", str(root), "check")
    assert code == 1 and f"{target}:1:1: error[file-outside-project]" in out
    assert "hunter2" not in out and "password" not in out


def test_symlinks_inside_the_project_are_followed(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    (root / "shared").mkdir()
    record = root / "evidence/studies/smith2020.yaml"
    (root / "shared/smith2020.yaml").write_text(record.read_text(encoding="utf-8"), encoding="utf-8")
    record.unlink()
    record.symlink_to(root / "shared/smith2020.yaml")
    assert run("--root", str(root), "check", "--strict")[0] == 0


SAMPLE_FILES = sorted(SAMPLES.glob("*.bib"))


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=[p.name for p in SAMPLE_FILES])
def test_each_failure_sample_gives_its_diagnostics(path: Path) -> None:
    from generator.load import load_bibliography

    expected = [tuple(line.split()[:2]) for line in path.with_suffix(".expected").read_text().splitlines() if line]
    _, diags = load_bibliography(path, path.name)
    assert [(d.code, str(d.line)) for d in sorted(diags)] == [(c, n) for c, n in expected]


def test_fmt_never_writes_through_a_link_that_leaves_the_project(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    outside = tmp_path / "outside.yaml"
    outside.write_text("summary:   spaced   out\nlogics: [state,  market]\n", encoding="utf-8")
    (root / "evidence/studies/leak2020.yaml").symlink_to(outside)
    code, _, err = run("--root", str(root), "fmt")
    assert code == 1 and "leak2020.yaml: not formatted" in err
    assert outside.read_text(encoding="utf-8") == "summary:   spaced   out\nlogics: [state,  market]\n"


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_yaml_lines_are_right_with_every_line_ending(newline: str) -> None:
    _, diags = parse_yaml("a: 1\nb:\n\t- x\n".replace("\n", newline), "x.yaml")
    assert [(d.code, d.line) for d in diags] == [("yaml-tab", 3)]
    _, diags = parse_yaml("a: 1\nb: 0012\n".replace("\n", newline), "x.yaml")
    assert [(d.code, d.line) for d in diags] == [("yaml-ambiguous", 2)]


def test_a_parents_own_booktitle_wins_over_its_title() -> None:
    bib, diags = parse_bibliography(
        "@incollection{c2020,\n  author = {A, B},\n  title = {Chapter},\n  crossref = {p2020},\n}\n\n"
        "@book{p2020,\n  title = {Short},\n  booktitle = {The Full Book Title},\n  publisher = {P},\n  year = {2020},\n}\n",
        "r.bib")
    assert diags == [] and bib.entries["c2020"].fields["booktitle"] == "The Full Book Title"


def test_bibtex_encoding_columns_count_characters(tmp_path: Path) -> None:
    from generator.load import load_bibliography

    path = tmp_path / "r.bib"
    path.write_bytes("@article{a2020,\n  title = {Ää \xe9".encode()[:-1] + b"\xe9},\n}\n")
    _, diags = load_bibliography(path, "r.bib")
    assert [(d.code, d.line, d.column) for d in diags] == [("file-encoding", 2, 15)]
