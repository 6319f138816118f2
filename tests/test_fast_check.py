"""What makes `evidence check` fast changes nothing it says: the compiled schema check answers as
jsonschema does, a bibliography read in a second process is the one read here, and the garbage
collector is left as it was found."""

from __future__ import annotations

import copy
import gc
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

import generator.load as load
from generator import forked
from generator.check import CHANGES_SCHEMA, DATASET_SCHEMA, check
from generator.check_bib import bibliography_diagnostics
from generator.codebook import META_SCHEMA
from generator.quickschema import compile_schema
from generator.schema import record_schema, screening_schema
from generator.validate import Validator

from .helpers import INVALID, ROOT, ForkedJobs, make_project

EXAMPLES = int(os.environ.get("HYPOTHESIS_EXAMPLES", "300"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])

SHIPPED = load.load_project(ROOT)
CODEBOOK = check(SHIPPED).codebook
SCHEMAS = {"record": record_schema(CODEBOOK), "screening": screening_schema(CODEBOOK), "codebook": META_SCHEMA,
           "dataset": DATASET_SCHEMA, "changes": CHANGES_SCHEMA}
# valid instances of each schema, from the shipped base
INSTANCES = {"record": [d.data for d in SHIPPED.records.values()], "screening": [d.data for d in SHIPPED.screening.values()],
             "codebook": [d.data for d in SHIPPED.codebook.values()], "dataset": [SHIPPED.meta["dataset"].data],
             "changes": [SHIPPED.meta["changes"].data]}

# Values of every JSON type, and the near misses: 1.0 (an integer to jsonschema), True (not an integer),
# text with a final line break (a pattern's '$' matches before it), a term misspelt, a list repeated.
ODD = st.sampled_from([None, True, False, 0, 1, 1.0, 2.5, "", " ", "x", "health", "helth", "NO", "GB", "2026-12-01",
                       "2026-12-01\n", "https://example.org/x", "https://example.org/x\n", "http://a b", "0.1.0",
                       [], ["health"], ["health", "health"], [1], [["x"]], [{"a": 1}], {}, {"kind": "finding"}]
                      ).map(copy.deepcopy)  # a fresh copy each time: mutated() changes what it draws


@st.composite
def mutated(draw: st.DrawFn, schema_name: str) -> Any:
    """A shipped instance of the schema with a few values replaced, added or removed at random paths."""
    data: Any = copy.deepcopy(draw(st.sampled_from(INSTANCES[schema_name])))
    for _ in range(draw(st.integers(min_value=0, max_value=4))):
        node = data
        for _ in range(draw(st.integers(min_value=0, max_value=3))):
            if isinstance(node, dict) and node:
                node = node[draw(st.sampled_from(sorted(node)))]
            elif isinstance(node, list) and node:
                node = node[draw(st.integers(min_value=0, max_value=len(node) - 1))]
        if isinstance(node, dict):
            key = draw(st.one_of(st.sampled_from(sorted(node) or ["summary"]), st.sampled_from(
                ["summary", "countries", "claims", "kind", "appraisal", "route", "run", "candidates", "title", "x"])))
            if draw(st.booleans()) and key in node:
                del node[key]
            else:
                node[key] = draw(ODD)
        elif isinstance(node, list):
            node.append(draw(ODD))
    return data


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_every_schema_of_the_atlas_is_compiled(name: str) -> None:
    assert compile_schema(SCHEMAS[name]) is not None


@pytest.mark.parametrize("name", sorted(SCHEMAS))
@SETTINGS
@given(data=st.data())
def test_the_compiled_check_answers_as_jsonschema(name: str, data: st.DataObject) -> None:
    instance = data.draw(st.one_of(mutated(name), ODD))
    validator = Validator(SCHEMAS[name])
    assert validator.is_valid(instance) == Draft202012Validator(SCHEMAS[name]).is_valid(instance), instance


def test_a_schema_with_a_keyword_it_does_not_know_is_left_to_jsonschema() -> None:
    schema = {"type": "object", "properties": {"a": {"anyOf": [{"type": "string"}, {"type": "integer"}]}}}
    assert compile_schema(schema) is None
    validator = Validator(schema)
    assert validator.is_valid({"a": 1}) and validator.is_valid({"a": "x"}) and not validator.is_valid({"a": []})


def _same(a: load.Loaded, b: load.Loaded) -> None:
    assert a.bib.entries == b.bib.entries
    assert a.bib.strings == b.bib.strings
    assert a.bib.text == b.bib.text
    assert a.diagnostics == b.diagnostics
    assert [d.message for d in a.diagnostics] == [d.message for d in b.diagnostics]
    assert a.files == b.files


BIB_CASES = sorted(p for p in INVALID.glob("bib-*/*") if p.is_dir()) + sorted(INVALID.glob("file-*/*"))


@pytest.mark.parametrize("case", [None, *BIB_CASES], ids=["base", *(f"{c.parent.name}/{c.name}" for c in BIB_CASES)])
def test_a_bibliography_read_in_a_second_process_is_the_one_read_here(case: Path | None, tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    root = ROOT if case is None else make_project(tmp_path / "project", case)
    here = load.load_project(root)
    monkeypatch.setattr(load, "PARALLEL_BIB_BYTES", 0)  # every bibliography in a second process
    started = ForkedJobs(monkeypatch)
    elsewhere = load.load_project(root)
    assert started.args(load._bibliography_worker) or here.bib.entries == {}  # a missing or refused file is never sent away
    _same(here, elsewhere)


def test_a_build_gets_the_csl_items_from_the_second_process_and_a_check_does_not_ask(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The items are the ones csl_item makes here, and a model built with them equals one built without."""
    from generator.csl import csl_item
    from generator.model import build_model

    monkeypatch.setattr(load, "PARALLEL_BIB_BYTES", 0)
    plain = load.load_project(ROOT)
    assert plain.bib.csl == {}, "evidence check models nothing: no items are made"
    expected = {key: csl_item(entry) for key, entry in plain.bib.entries.items()}
    assert len(expected) > 100
    # the second process makes items until the records are read: some, all or none of them, each exact
    loaded = load.load_project(ROOT, csl=csl_item)
    assert all(expected[key] == item for key, item in loaded.bib.csl.items())
    state = forked.Shared(0, 0)
    bib, _, _ = load._bibliography_worker(ROOT / "references.bib", "references.bib", csl_item, state)
    assert bib.csl == expected, "never stopped: every item"
    assert state.values[load.DONE] == 1, "it says when its work is done"
    state.values[load.STOP], state.values[load.DONE] = 1, 0
    bib, _, _ = load._bibliography_worker(ROOT / "references.bib", "references.bib", csl_item, state)
    assert bib.csl == {}, "stopped before the first"
    state.close()

    def model(project: load.Loaded) -> dict[str, Any]:
        result = check(project)
        built = build_model(result.records, result.codebook, project.bib, project.record_paths, result.corrected,
                            result.screening)
        return {key: study.csl for key, study in built.studies.items()}

    assert model(loaded) == model(plain)


def test_if_the_second_process_dies_the_bibliography_is_read_here(monkeypatch: pytest.MonkeyPatch) -> None:
    here = load.load_project(ROOT)
    monkeypatch.setattr(load, "PARALLEL_BIB_BYTES", 0)
    monkeypatch.setattr(load, "_bibliography_worker", lambda *_: os._exit(3))
    _same(here, load.load_project(ROOT))


@pytest.mark.parametrize("enabled", [True, False])
def test_loading_and_checking_leave_the_garbage_collector_as_they_found_it(enabled: bool) -> None:
    was = gc.isenabled()
    try:
        (gc.enable if enabled else gc.disable)()
        check(load.load_project(ROOT))
        assert gc.isenabled() == enabled
    finally:
        (gc.enable if was else gc.disable)()


def test_the_listing_of_yaml_files_is_what_glob_finds(tmp_path: Path) -> None:
    for name in ("b.yaml", "a.yml", ".yaml", "c.YAML", "d.yxml", "e.txt", "f.yaml.bak", "é.yaml", "0.yaml"):
        (tmp_path / name).write_text("a: b\n", encoding="utf-8")
    (tmp_path / "g.yaml").mkdir()
    (tmp_path / "h.yaml").symlink_to(tmp_path / "b.yaml")
    (tmp_path / "i.yaml").symlink_to(tmp_path / "missing.yaml")
    listed = load._yaml_files(tmp_path)
    assert [path for path, _ in listed] == sorted(tmp_path.glob("*.y*ml"))
    assert [link for _, link in listed] == [path.is_symlink() for path, _ in listed]


CHECK_CASES = sorted(p for p in INVALID.glob("*/*") if p.is_dir())


def _checked(root: Path) -> tuple[Any, ...]:
    result = check(load.load_project(root))
    return (result.diagnostics, [d.message for d in result.diagnostics], result.records, result.dataset,
            result.changes, result.corrected, result.codebook)


@pytest.mark.parametrize("case", [None, *CHECK_CASES], ids=["base", *(f"{c.parent.name}/{c.name}" for c in CHECK_CASES)])
def test_records_checked_in_a_second_process_give_what_one_process_gives(case: Path | None, tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import generator.check as checking

    root = ROOT if case is None else make_project(tmp_path / "project", case)
    here = _checked(root)
    monkeypatch.setattr(checking, "PARALLEL_RECORDS", 0)  # every base shared out, whatever its size
    started = ForkedJobs(monkeypatch)
    assert _checked(root) == here
    assert started.args(checking._elsewhere)  # the second process did take part


def test_a_base_without_records_still_hears_from_the_second_process(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """With no record to share out, the second process's answer (the bibliography's diagnostics) is still
    collected, and the process joined."""
    import generator.check as checking

    root = make_project(tmp_path / "project", INVALID / "bib-missing-field/article-without-journal")
    for record in (root / "evidence/studies").glob("*.yaml"):
        record.unlink()
    here = _checked(root)
    monkeypatch.setattr(checking, "PARALLEL_RECORDS", 0)
    joined: list[bool] = []
    original = forked.Forked.result

    def spy(self: forked.Forked) -> Any:
        out = original(self)
        joined.append(not self.alive)
        return out
    monkeypatch.setattr(forked.Forked, "result", spy)
    assert _checked(root) == here
    assert joined == [True]


def test_if_the_record_checking_process_dies_everything_is_checked_here(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import generator.check as checking

    root = make_project(tmp_path / "project", INVALID / "unknown-country/uk-and-france-name")
    here = _checked(root)
    assert here[0]  # the case has something to say
    monkeypatch.setattr(checking, "PARALLEL_RECORDS", 0)
    monkeypatch.setattr(checking, "_elsewhere", lambda *_args: os._exit(3))
    assert _checked(root) == here


def test_a_record_that_the_second_process_finds_clean_is_kept_as_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    """The second process's answer is used: with a record it calls clean, no check of it runs here."""
    import generator.check as checking

    monkeypatch.setattr(checking, "PARALLEL_RECORDS", 0)
    ran_here: list[str] = []
    original = checking._check_record
    parent = os.getpid()

    def spy(key: str, *args: Any) -> Any:
        if os.getpid() == parent:
            ran_here.append(key)
        return original(key, *args)
    monkeypatch.setattr(checking, "_check_record", spy)
    loaded = load.load_project(ROOT)
    keys = sorted(loaded.record_paths)
    result = check(loaded)
    split = len(keys) * 3 // 5
    assert ran_here == keys[:split]  # the rest were checked, and found clean, in the second process
    assert set(result.records) == set(keys)


CHECKED_BIB_CASES = sorted(p for p in INVALID.glob("bib-*/*") if p.is_dir())


@pytest.mark.parametrize("records_shared", [False, True])
@pytest.mark.parametrize("case", [None, *CHECKED_BIB_CASES],
                         ids=["base", *(f"{c.parent.name}/{c.name}" for c in CHECKED_BIB_CASES)])
def test_a_bibliography_checked_where_it_is_parsed_gives_what_one_process_gives(
        case: Path | None, records_shared: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`evidence check` has a large bibliography's own diagnostics worked out in the process that parses it
    (load_project's bib_check): the check then says exactly what it says in one process, in the same order,
    and the process that checks part of the records does not check the bibliography again."""
    import generator.check as checking

    root = ROOT if case is None else make_project(tmp_path / "project", case)
    here = _checked(root)
    monkeypatch.setattr(load, "PARALLEL_BIB_BYTES", 0)
    if records_shared:
        monkeypatch.setattr(checking, "PARALLEL_RECORDS", 0)
    started = ForkedJobs(monkeypatch)
    loaded = load.load_project(root, bib_check=bibliography_diagnostics)
    assert loaded.bib_checked is not None  # worked out in the second process
    assert loaded.bib_checked == bibliography_diagnostics(loaded.bib)
    result = check(loaded)
    assert (result.diagnostics, [d.message for d in result.diagnostics], result.records) == here[:3]
    assert [args[-1] for args in started.args(checking._elsewhere)] == ([False] if records_shared else [])
