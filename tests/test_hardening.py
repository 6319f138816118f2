"""Hostile and arbitrary input: always diagnostics, never an exception, a hang, or a partial site."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from generator.check import check
from generator.load import load_project, parse_bibliography, parse_yaml

from .conftest import build_site, copy_project
from .helpers import make_project, run

EXAMPLES = int(os.environ.get("HYPOTHESIS_EXAMPLES", "300"))  # raise it for a longer local search
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
YAML_ALPHABET = st.sampled_from([*"abcNOyes012:-[]{},#&*!|>'\"\t\n \\%@`?", "\u202e", "é", "\x00"])


@SETTINGS
@given(st.text(alphabet=YAML_ALPHABET, max_size=200))
def test_any_text_loads_to_data_or_located_diagnostics(text: str) -> None:
    doc, diags = parse_yaml(text, "x.yaml")
    assert doc is not None or diags
    for d in diags:
        assert d.path == "x.yaml" and d.line >= 1 and d.column >= 1 and d.message


@SETTINGS
@given(st.text(max_size=300))
def test_any_unicode_text_loads_without_exception(text: str) -> None:
    parse_yaml(text, "x.yaml")


# integers of any length, anywhere a scalar can stand (int() refuses more than 4,300 digits)
LONG_INT = st.integers(min_value=1, max_value=9000).map(lambda n: "-" * (n % 2) + "8" * n)


@SETTINGS
@given(st.lists(st.one_of(st.text(alphabet=YAML_ALPHABET, max_size=20), LONG_INT), max_size=6))
def test_any_text_with_long_integers_loads_to_data_or_located_diagnostics(parts: list[str]) -> None:
    text = "".join(f"k{i}: {part}\n" for i, part in enumerate(parts))
    doc, diags = parse_yaml(text, "x.yaml")
    assert doc is not None or diags
    for d in diags:
        assert d.line >= 1 and d.column >= 1


BIB_PIECES = st.sampled_from([*"{}(),=\"#%\n\r abc123:-é~\\",
    "@article", "@string", "@comment", "@book(", "author = ", "title = {", "}\n", "@article{,", "@string{m = {x}}",
    "crossref = {a}", "xdata = {a, b}", " # m # ", "journal = undefined,", "\u200b", "\u202e", "\x00", "\u212a",
    "50% in {UK}", "--"])


@SETTINGS
@given(st.lists(BIB_PIECES, max_size=120).map("".join))
def test_any_bibtex_loads_to_entries_or_located_diagnostics(text: str) -> None:
    _, diags = parse_bibliography(text, "r.bib")
    for d in diags:
        assert d.line >= 1 and d.code.startswith(("bib-", "unsafe-character"))


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=20,
)
FIELDS = st.sampled_from(["summary", "logics", "sectors", "countries", "barriers", "basis", "claims", "study_type",
                          "enablers", "locator", "claim", "sumary", "sources", "kind", "appraisal", "url"])


@settings(max_examples=EXAMPLES // 2, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(st.dictionaries(FIELDS, JSONISH, max_size=8))
@example({"countries": True})  # found by hypothesis: a scalar where the tradition check expected a list
@example({"claims": [{"countries": 1, "logics": "x"}], "countries": "GB"})
@example({"claims": [{"kind": "argument", "appraisal": 1}, {"kind": "finding"}], "study_type": "review",
          "sources": [{"url": 5}, "x"]})
def test_any_record_shape_is_checked_without_exception(tmp_path_factory: pytest.TempPathFactory,
                                                       record: dict[str, object]) -> None:
    import json

    root = tmp_path_factory.mktemp("h") / "p"
    make_project(root)
    (root / "evidence/studies/smith2020.yaml").write_text(json.dumps(record), encoding="utf-8")  # JSON is YAML
    result = check(load_project(root))
    for d in result.diagnostics:
        assert d.line >= 1 and d.column >= 1


def test_an_alias_bomb_is_refused_at_once() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [{', '.join(['*' + p] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True))
    started = time.monotonic()
    doc, diags = parse_yaml(bomb, "bomb.yaml")
    assert doc is None and [d.code for d in diags] == ["yaml-alias"]
    assert time.monotonic() - started < 5  # a bound that fails only on a hang


def test_deep_nesting_and_huge_files_are_refused(tmp_path: Path) -> None:
    doc, diags = parse_yaml("k: " + "[" * 5000 + "]" * 5000, "deep.yaml")
    assert doc is None and diags[0].code in ("yaml-nesting", "yaml-syntax")
    root = make_project(tmp_path / "p")
    (root / "evidence/studies/smith2020.yaml").write_bytes(b"summary: " + b"x" * 5_000_000)
    code, out, _ = run("--root", str(root), "check")
    assert code == 1 and "error[file-too-large]" in out


@pytest.mark.parametrize("name", ["...yaml", "..%2fescape.yaml", "Ünicode.yaml", "-dash.yaml"])
def test_keys_that_try_to_leave_the_output_folder_are_refused(tmp_path: Path, name: str) -> None:
    root = make_project(tmp_path / "p")
    (root / "evidence/studies" / name).write_text((root / "evidence/studies/smith2020.yaml").read_text())
    code, _, err = run("--root", str(root), "build", "--quiet")
    assert code == 1 and "error[record-key-invalid]" in err
    assert not (root / "build").exists() or not any((root / "build").rglob("*escape*"))
    assert not (tmp_path / "escape").exists()


def test_slugs_that_try_to_leave_the_output_folder_are_refused(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    logics = root / "evidence/codebook/logics.yaml"
    logics.write_text(logics.read_text().replace("slug: state", "slug: ../../state"))
    code, _, err = run("--root", str(root), "build", "--quiet")
    assert code == 1 and "error[codebook-invalid-slug]" in err
    assert not (tmp_path / "state.md").exists() and not (root / "state.md").exists()


def test_an_internal_error_leaves_the_previous_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = copy_project(tmp_path / "p")
    site = build_site(root)
    before = {p: p.read_bytes() for p in site.rglob("*") if p.is_file()}

    def broken(*_args: object, **_kwargs: object) -> dict[str, str]:
        raise RuntimeError("a bug in a template")

    monkeypatch.setattr("generator.build.render", broken)
    code, _, err = run("--root", str(root), "build", "--quiet")
    assert code == 70  # EX_SOFTWARE: an internal error, reported without a traceback
    assert "internal error" in err and "Traceback" not in err
    assert {p: p.read_bytes() for p in site.rglob("*") if p.is_file()} == before


# --- the other YAML files a contributor edits: codebook files, dataset, changes, screening logs ---------

CODEBOOK_KEYS = st.sampled_from(["vocabulary", "title", "field", "multiple", "required", "description", "terms",
                                 "slug", "label", "definition", "source", "countries", "unassigned", "titel"])
TERM = st.dictionaries(st.sampled_from(["slug", "label", "definition", "source", "countries", "x"]), JSONISH, max_size=5)
LOG_KEYS = st.sampled_from(["route", "run", "where", "review", "queries", "candidates", "x"])
CANDIDATE = st.dictionaries(st.sampled_from(["query", "rank", "url", "title", "doi", "decision", "reason", "key",
                                             "note", "citation"]),
                            st.one_of(JSONISH, st.sampled_from(["included", "excluded", "deferred", "duplicate",
                                                                "q01", "smith2020", "javascript:x", "search"])),
                            max_size=8)
FUZZ = settings(max_examples=max(EXAMPLES // 4, 10), deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def _checked_without_exception(root: Path) -> None:
    from generator.model import build_model

    loaded = load_project(root)
    result = check(loaded)  # must not raise
    for d in result.diagnostics:
        assert d.line >= 1 and d.column >= 1 and d.code
    if not any(d.severity.value == "error" for d in result.diagnostics):  # as the build does: a clean check only
        build_model(result.records, result.codebook, loaded.bib, loaded.record_paths, result.corrected,
                    result.screening)


@FUZZ
@given(st.dictionaries(CODEBOOK_KEYS, st.one_of(JSONISH, st.lists(TERM, max_size=3)), max_size=8))
@example({"vocabulary": "phases", "description": "x", "terms": [{"slug": "a", "label": "A", "definition": "d"}]})
@example({"vocabulary": "new", "title": "T", "description": "d", "field": "claims.x", "required": True,
          "terms": [{"slug": "a", "label": "A", "definition": "d"}]})
def test_any_codebook_file_is_checked_without_exception(tmp_path_factory: pytest.TempPathFactory,
                                                        data: dict[str, object]) -> None:
    import json

    root = make_project(tmp_path_factory.mktemp("cb") / "p")
    (root / "evidence/codebook/phases.yaml").write_text(json.dumps(data), encoding="utf-8")
    (root / "evidence/codebook/extra.yaml").write_text(json.dumps(data), encoding="utf-8")
    _checked_without_exception(root)


@FUZZ
@given(st.sampled_from(["dataset", "changes"]), JSONISH)
@example("changes", [{"version": "1", "date": 5, "note": None, "added": "x", "recoded": [1]}])
@example("dataset", {"founding_study": ["x"], "released": 2026})
def test_any_dataset_or_changes_file_is_checked_without_exception(tmp_path_factory: pytest.TempPathFactory,
                                                                  name: str, data: object) -> None:
    import json

    root = make_project(tmp_path_factory.mktemp("meta") / "p")
    (root / f"evidence/{name}.yaml").write_text(json.dumps(data), encoding="utf-8")
    _checked_without_exception(root)


@FUZZ
@given(st.dictionaries(LOG_KEYS, st.one_of(JSONISH, st.lists(CANDIDATE, max_size=4)), max_size=7))
@example({"route": "search", "run": "2026-12-01", "where": "w", "queries": {"q01": "x"},
          "candidates": [{"query": "q01", "rank": 1, "title": "T", "decision": "included", "key": "ek2022"},
                         {"query": "q01", "rank": 2, "title": "T", "decision": "included", "key": "ek2022"}]})
@example({"route": "review", "run": "2026-12-01", "where": "w", "review": 5, "candidates": [{"rank": "1"}]})
def test_any_screening_log_is_checked_without_exception(tmp_path_factory: pytest.TempPathFactory,
                                                        data: dict[str, object]) -> None:
    import json

    root = make_project(tmp_path_factory.mktemp("log") / "p")
    (root / "evidence/screening/search-q01-q02.yaml").write_text(json.dumps(data), encoding="utf-8")
    _checked_without_exception(root)
