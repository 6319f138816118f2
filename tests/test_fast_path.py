"""The fast path for record files (generator/fastyaml.py) reads a record exactly as the located
loader does, or leaves it to the located loader: `evidence check` says the same with or without it."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator import fastyaml
from generator.load import MAX_DEPTH, load_project, parse_yaml

from .helpers import BASE, ROOT, make_project, run

pytestmark = pytest.mark.skipif(not fastyaml.available(), reason="yaml-rs is not installed (make test installs it)")

EXAMPLES = int(os.environ.get("HYPOTHESIS_EXAMPLES", "300"))  # raise it for a longer local search
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])

RECORD = (BASE / "evidence/studies/ek2022.yaml").read_text(encoding="utf-8")


def _with(field: str, value: str) -> str:
    """The fixture record with one top-level field's line replaced."""
    lines = [f"{field}: {value}" if line.startswith(f"{field}:") else line for line in RECORD.splitlines()]
    return "\n".join(lines) + "\n"


# Files that yaml-rs reads differently from the located loader, that the located loader reports on,
# or that the fast path cannot prove clean: it leaves every one of them to the located loader.
TRAPS: dict[str, str] = {
    "alias": RECORD + "coding_note_copy: &note text\nother: *note\n",
    "billion-laughs": "a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n",
    "duplicate-key": RECORD + "summary: A second summary.\n",
    "norway-outside-countries": _with("coding_note", "NO"),
    "yes": _with("summary", "yes"),
    "on-in-a-list": _with("methods", "[survey, on]"),
    "octal": _with("summary", "012"),
    "leading-zero": _with("summary", "08"),
    "hex": _with("summary", "0x1F"),
    "underscore-number": _with("summary", "1_000"),
    "plain-number": _with("summary", "2019"),
    "float": _with("summary", "1.5"),
    "infinity": _with("summary", ".inf"),
    "not-a-number": _with("summary", ".NaN"),
    "true": _with("summary", "true"),
    "null": _with("summary", "~"),
    "empty": _with("summary", ""),
    "equals": _with("summary", "="),
    "tag": _with("summary", "!!str 12"),
    "custom-tag": _with("summary", "!thing text"),
    "binary-tag": _with("summary", "!!binary aGVsbG8="),
    "set-tag": _with("methods", "!!set {survey}"),
    "merge-key": RECORD + "extra:\n  <<: {a: b}\n",
    "merge-key-at-top": "<<: {summary: x}\n" + RECORD,
    "bom-inside": _with("summary", "A summary\ufeff with a byte-order mark inside."),
    "crlf": RECORD.replace("\n", "\r\n"),
    "cr-only": RECORD.replace("\n", "\r"),
    "tab-indentation": RECORD.replace("\n  - kind: finding", "\n\t- kind: finding"),
    "tab-inside-text": _with("summary", "A\tsummary."),
    "escape": _with("summary", '"A right-to-left \\u202e override."'),
    "escaped-tab": _with("summary", '"A\\ttab."'),
    "next-line": _with("summary", "A next\x85line."),
    "line-separator": _with("summary", "A line\u2028separator."),
    "bidi-override": _with("summary", "A \u202e override."),
    "zero-width": _with("summary", "A zero\u200bwidth space."),
    "control-character": _with("summary", "A bell\x07."),
    "noncharacter": _with("summary", "A \ufffe noncharacter."),
    "empty-block-scalar-at-the-end": RECORD + "extra: |\n",
    "block-scalar-at-end-without-newline": RECORD + "extra: >\n  text",
    "no-final-newline": RECORD.rstrip("\n"),
    "two-documents": RECORD + "---\nsummary: b\n",
    "document-start": "---\n" + RECORD,
    "document-end": RECORD + "...\n",
    "directive": "%YAML 1.1\n---\n" + RECORD,
    "int-key": RECORD + "12: x\n",
    "bool-key": RECORD + "true: x\n",
    "null-key": RECORD + "~: x\n",
    "float-key": RECORD + "1.5: x\n",
    "complex-key": RECORD + "? [a, b]\n: x\n",
    "deep": RECORD + "deep: " + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1) + "\n",
    "not-a-mapping": "- a\n- b\n",
    "empty-file": "",
    "comment-only": "# nothing\n",
    "syntax-error": _with("sectors", "[health"),
    "reserved-indicator": _with("summary", "@home"),
    "backquote": _with("summary", "`code`"),
    "percent-at-start": _with("summary", "%50"),
    "quoted-yes": _with("summary", '"yes"'),  # only text, but the fast path cannot tell quoted from plain
}
# Files the fast path reads: they hold no trap, so both loaders give the same data and no diagnostic.
CLEAN: dict[str, str] = {
    "fixture-record": RECORD,
    "norway-in-countries": _with("countries", "[NO, SE]").replace("    countries: [SE]", "    countries: [NO]"),
    "norway-in-a-block-list": _with("countries", "\n  - NO\n  - SE"),
    "ampersand-in-text": _with("summary", "Research & development, R&D, and https://x.org/?a=1&b=2."),
    "asterisk-and-bang-in-text": _with("summary", "A 2*3 design, and a bang!"),
    "percent-in-text": _with("summary", "Half (50%) of the boards."),
    "quoted-number": _with("summary", "'012'"),
    "folded": _with("summary", ">-\n  A folded summary\n  over two lines.\n\n  And a second paragraph."),
    "literal": _with("summary", "|\n  Line one.\n    More indented.\n  Line three."),
    "plain-multiline": _with("summary", "A plain summary\n  continued on the next line."),
    "colon-and-hash-in-text": _with("summary", "'Note: a # is not a comment here.'"),
    "empty-block-scalar-then-a-key": _with("summary", "|"),
    "flow-mapping": RECORD + "extra: {a: b, c: [d, e]}\n",
    "unicode": _with("summary", "Müller and Dubois on co-production in Île-de-France and 東京."),
}


def _strictly_equal(a: Any, b: Any) -> bool:
    """Equal values of the same types, keys in the same order (True is not 1, 'NO' is not False)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_strictly_equal(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_strictly_equal(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _agrees(text: str) -> bool:
    """The fast path's promise: when it reads a text, the located loader reads the same data and
    says nothing. Returns whether the fast path read it."""
    fast = fastyaml.parse_plain(text, MAX_DEPTH)
    if fast is None:
        return False
    doc, diags = parse_yaml(text, "x.yaml")
    assert doc is not None and diags == [], (text, diags)
    assert _strictly_equal(doc.data, fast), (text, doc.data, fast)
    return True


@pytest.mark.parametrize("name", sorted(TRAPS))
def test_the_fast_path_leaves_every_trap_to_the_located_loader(name: str) -> None:
    assert fastyaml.parse_plain(TRAPS[name], MAX_DEPTH) is None


@pytest.mark.parametrize("name", sorted(CLEAN))
def test_the_fast_path_reads_a_clean_record_as_the_located_loader_does(name: str) -> None:
    assert _agrees(CLEAN[name])


def _check_output(root: Path) -> str:
    code, out, _ = run("--root", str(root), "check", "--format", "json")
    return f"{code}\n{out}"


@pytest.mark.parametrize("name", sorted(TRAPS) + sorted(CLEAN))
def test_check_says_exactly_what_the_located_loader_alone_says(name: str, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_project(tmp_path / "project")
    (root / "evidence/studies/ek2022.yaml").write_bytes(({**TRAPS, **CLEAN}[name]).encode("utf-8"))
    with_fast_path = _check_output(root)
    monkeypatch.setattr(fastyaml, "yaml_rs", None)  # the located loader alone, as before the fast path
    assert _check_output(root) == with_fast_path


def test_check_of_a_record_with_a_problem_reports_it_at_its_line(tmp_path: Path) -> None:
    """A record read by the fast path has no positions; a problem found in it is reported from the
    located loader's reading, at the right line."""
    root = make_project(tmp_path / "project")
    record = root / "evidence/studies/ek2022.yaml"
    record.write_text(RECORD.replace("    sectors: [health]", "    sectors: [helth]"), encoding="utf-8")
    assert fastyaml.parse_plain(record.read_text(encoding="utf-8"), MAX_DEPTH) is not None
    code, out, _ = run("--root", str(root), "check")
    line = RECORD.splitlines().index("    sectors: [health]") + 1
    assert code == 1 and f"evidence/studies/ek2022.yaml:{line}:" in out, out


def test_a_fast_document_finds_its_positions_when_asked() -> None:
    loaded = load_project(ROOT)
    fast = [doc for doc in loaded.records.values() if doc.origin is not None]
    assert len(fast) == len(loaded.records)  # every shipped record is clean
    for doc in fast[:20]:
        located, diags = parse_yaml((ROOT / doc.path).read_text(encoding="utf-8-sig"), doc.path)
        assert located is not None and diags == []
        assert _strictly_equal(doc.data, located.data)
        for where, position in located.positions.items():
            assert doc.at(where) == position
        assert doc.origin is None  # read once, then kept


def test_every_synthetic_record_takes_the_fast_path(tmp_path: Path) -> None:
    """The benchmark's records (bench/synth.py) are clean: if the pre-scan grew so strict that it
    refused them, `evidence check` would silently be as slow as before."""
    spec = importlib.util.spec_from_file_location("synth", ROOT / "bench/synth.py")
    assert spec and spec.loader
    synth = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(synth)
    root = synth.synthesise(40, tmp_path / "atlas")
    for path in sorted((root / "evidence/studies").glob("*.yaml")):
        assert _agrees(path.read_text(encoding="utf-8")), path.name


# --- property tests ---------------------------------------------------------------------

# Text that YAML reads as something else, or that the located loader warns about, mixed with text that
# is only text; yaml.safe_dump quotes some of these and leaves others plain.
TRICKY = ["NO", "no", "No", "yes", "Yes", "on", "OFF", "y", "n", "012", "08", "0", "-1", "+1", "1_000", "0x1F", "0o17",
          "1e3", "1.", ".5", ".inf", "-.inf", ".nan", "~", "null", "Null", "", "true", "True", "false", "=", "<<",
          "1:20", "2017-01-05", "a: b", "a #b", "#b", "- a", "? a", "[a]", "{a: b}", "&a", "*a", "!a", "!!str",
          "@a", "`a", "%a", "'", '"', "\\", "a\\b", "\t", " a", "a ", "\n", "a\nb", "a\n\nb", "---", "...", "é",
          "\u2028", "\x85", "\u202e", "\u200b", "\ufeff", "\x07", "R&D", "5%", "a*b"]
WORDS = ["market", "state", "health", "co-production", "Müller", "p. 12", "https://example.org/a?b=1&c=2",
         "The board, and the users", "GB", "SE", "it's", "x-y"]
TEXT = st.one_of(st.sampled_from(TRICKY), st.sampled_from(WORDS),
                 st.lists(st.sampled_from(WORDS + TRICKY), min_size=1, max_size=12).map(" ".join),
                 st.text(max_size=12))
KEY = st.one_of(st.sampled_from(["summary", "countries", "claims", "logics", "note", "NO", "no", "1", "true", "~",
                                 "a b", "é"]), st.text(max_size=6))
VALUE = st.recursive(TEXT, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                   st.dictionaries(KEY, inner, max_size=4)), max_leaves=20)
RECORDS = st.dictionaries(KEY, VALUE, min_size=1, max_size=8)


@SETTINGS
@given(RECORDS, st.sampled_from([False, True, None]), st.integers(min_value=20, max_value=200),
       st.booleans(), st.sampled_from([None, '"', "'", "|", ">"]))
def test_the_fast_and_the_located_loader_read_a_generated_record_alike(
        record: dict[str, Any], flow: bool | None, width: int, unicode: bool, style: str | None) -> None:
    text = yaml.safe_dump(record, sort_keys=False, default_flow_style=flow, width=width, allow_unicode=unicode,
                          default_style=style)
    _agrees(text)


@SETTINGS
@given(st.dictionaries(st.sampled_from(["summary", "countries", "coding_note", "methods", "note"]),
                       st.one_of(st.lists(st.sampled_from(WORDS), max_size=4),
                                 st.lists(st.sampled_from(WORDS), min_size=1, max_size=30).map(" ".join)),
                       min_size=1),
       st.sampled_from([False, None]), st.integers(min_value=20, max_value=200))
def test_a_record_of_plain_words_takes_the_fast_path(record: dict[str, Any], flow: bool | None, width: int) -> None:
    text = yaml.safe_dump(record, sort_keys=False, default_flow_style=flow, width=width, allow_unicode=True)
    assert _agrees(text), text


# Lines of YAML, some broken, laid out at random indentations: whatever the fast path reads, the
# located loader must read the same way (found this way: yaml-rs reads an empty block scalar, and a
# block scalar at the end of a file without a line break, differently from libyaml).
LINE_HEADS = ["a:", "b:", "countries:", "- ", "-", "? ", ": ", "a: |", "a: >-", "a: |+", "a: >2", "b: |-", "- a: ",
              "# c", "", "'q': ", '"q": ', "NO: ", "[", "{"]
LINE_TAILS = TRICKY + WORDS + ["[a, b]", "{a: b}", "[NO, SE]", "a: b", "'a", '"b', "x # c"]


@SETTINGS
@given(st.lists(st.tuples(st.integers(min_value=0, max_value=6), st.sampled_from(LINE_HEADS),
                          st.sampled_from(LINE_TAILS)), max_size=12), st.booleans())
def test_the_fast_and_the_located_loader_read_any_lines_alike(lines: list[tuple[int, str, str]],
                                                              final_newline: bool) -> None:
    text = "\n".join(" " * indent + head + tail for indent, head, tail in lines) + ("\n" if final_newline else "")
    _agrees(text)


def test_the_ascii_test_of_clean_text_refuses_exactly_the_unsafe_ascii_characters() -> None:
    """clean_text tests an ASCII text by taking out the printable characters and line breaks, not with
    _UNSAFE_ASCII: the two
    must refuse the same characters, every one of the 128, once tab and carriage return are ruled out."""
    for code in range(128):
        ch = chr(code)
        text = f"summary: a{ch}b\n"
        expected = ch not in "\t\r\\" and not fastyaml._UNSAFE_ASCII.search(text)
        assert fastyaml.clean_text(text) == (expected and fastyaml._NODE_START.search(text) is None), repr(ch)
