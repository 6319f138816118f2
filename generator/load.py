"""Load: the only stage that reads input files.

YAML is read with libyaml's composer (positions for every node), and turned into
plain Python values by our own constructor, which resolves only YAML 1.2 core
types, refuses aliases, unsafe tags and duplicate keys, and records the line and
column of every value. A record file proven clean takes a fast path instead
(fastyaml.py): plain data now, its positions read the located way only if asked
for. BibTeX is read with bibtexparser 2.x. Every problem becomes a Diagnostic;
nothing raises for bad input.
"""

from __future__ import annotations

import codecs
import contextlib
import fnmatch
import gc
import importlib
import logging
import marshal
import os
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from . import fastyaml, forked, spec
from .diagnostics import C, Diagnostic, diagnostic, did_you_mean, suggestions
from .load_cache import FOLDER as LOAD_CACHE
from .load_cache import MISS, LoadCache, may_hold_bibliography

if TYPE_CHECKING:
    from bibtexparser import model as bibmodel

try:  # libyaml is ~5x faster; fall back only where it is not compiled in.
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _Loader = yaml.SafeLoader

MAX_RECORD_BYTES = 256 * 1024
MAX_BIB_BYTES = 32 * 1024 * 1024
MAX_DEPTH = 12
MAX_INT_DIGITS = 4000  # below Python's 4,300-digit limit on int(str)

Path_ = tuple[str | int, ...]  # a path into a loaded document: ("findings", 0, "logics")


@dataclass
class Document:
    """A loaded YAML file: its data, and where each value stands in the file.

    A document read by the fast path has `origin` set and no positions yet: the first call of
    `at` reads the file again with the located loader (see `locate`)."""

    path: str
    data: Any
    positions: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    origin: Path | None = None

    def at(self, where: Path_) -> tuple[int, int]:
        """Line and column of the value at `where`, or of its nearest parent."""
        if self.origin is not None:
            located, _ = locate(self)
            self.positions = located.positions if located is not None else {}
            self.origin = None
        while where not in self.positions and where:
            where = where[:-1]
        return self.positions.get(where, (1, 1))


# --- text ----------------------------------------------------------------------

_UNSAFE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
)


def read_text(path: Path, display: str, limit: int) -> tuple[str | None, list[Diagnostic]]:
    """Read a file as strict UTF-8 (a BOM is dropped). Never silently replaces bytes."""
    try:
        with open(path, "rb") as f:  # one look-up of the path for its size and its bytes
            size = os.fstat(f.fileno()).st_size
            if size > limit:
                return None, [diagnostic(C.FILE_TOO_LARGE, display, 1, 1,
                                         f"file is {size:,} bytes; the limit is {limit:,} bytes")]
            raw = f.read()
    except OSError as exc:
        return None, [diagnostic(C.FILE_UNREADABLE, display, 1, 1, f"cannot read file: {exc.strerror}")]
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return None, [diagnostic(C.FILE_ENCODING, display, 1, 1, "file is UTF-16, not UTF-8")]
    if _looks_like_utf16(raw):
        return None, [diagnostic(C.FILE_ENCODING, display, 1, 1,
                                 "file looks like UTF-16 without a byte-order mark (every other byte is 0), not UTF-8")]
    try:
        return raw.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        line, col = _line_col_of_byte(raw, exc.start)
        return None, [diagnostic(C.FILE_ENCODING, display, line, col,
                                 f"byte 0x{raw[exc.start]:02x} is not valid UTF-8")]


def _looks_like_utf16(raw: bytes) -> bool:
    """ASCII text saved as UTF-16 has a NUL in every other byte; UTF-8 text has (almost) none."""
    sample = raw[:4096]
    if len(sample) < 4 or b"\x00" not in sample:
        return False
    half = len(sample) // 2
    return max(sample[0::2].count(0), sample[1::2].count(0)) >= half * 0.3


def _line_col_of_byte(raw: bytes, offset: int) -> tuple[int, int]:
    """Line and column (in characters, as editors count) of a byte offset; the bytes before the
    first bad one are valid UTF-8."""
    before = raw[:offset]
    line = before.count(b"\n") + 1
    start = before.rfind(b"\n") + 1
    col = len(before[start:].decode("utf-8", errors="replace")) + 1
    return line, col


# Letters that look like ASCII ones (after NFKC and lower-casing), after Unicode's confusables list
# (UTS #39) for the scripts that keys are most often mistyped in: Cyrillic, Greek and Latin variants.
# The look-alikes are the point of the table, so ruff's RUF001 (ambiguous character) is silenced on its lines.
LOOKALIKES = {
    "а": "a", "в": "b", "е": "e", "ё": "e", "һ": "h", "і": "i", "ї": "i", "ј": "j", "к": "k", "ӏ": "l",  # noqa: RUF001
    "м": "m", "н": "h", "о": "o", "р": "p", "ԛ": "q", "с": "c", "ѕ": "s", "т": "t", "у": "y", "ԝ": "w",  # noqa: RUF001
    "х": "x", "ԁ": "d", "ь": "b", "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v",  # noqa: RUF001
    "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ζ": "z", "ı": "i", "ɡ": "g", "ɑ": "a", "ɩ": "i",  # noqa: RUF001
}


def skeleton(text: str) -> str:
    """What a key looks like: NFKC (the Kelvin sign becomes K), lower case, look-alike letters as ASCII.

    Two keys with the same skeleton cannot be told apart on screen."""
    if text.isascii():  # NFKC leaves ASCII as it is, and every look-alike is outside ASCII
        return text.lower()
    folded = unicodedata.normalize("NFKC", text).lower()
    return "".join(LOOKALIKES.get(ch, ch) for ch in folded)


def confusables(text: str) -> list[str]:
    """Each non-ASCII character that looks like an ASCII one: "'і' (U+0456 CYRILLIC SMALL LETTER
    BYELORUSSIAN-UKRAINIAN I) looks like 'i'"."""  # noqa: RUF002 - Cyrillic on purpose
    out: list[str] = []
    for ch in dict.fromkeys(text):
        if ch.isascii():
            continue
        look = skeleton(ch)
        if look.isascii() and look.isalnum():
            out.append(f"'{ch}' (U+{ord(ch):04X} {unicodedata.name(ch, 'unnamed character')}) looks like '{look}'")
    return out


def unsafe_character(text: str) -> str | None:
    m = _UNSAFE.search(text)
    if not m:
        return None
    ch = m.group()
    return f"U+{ord(ch):04X} {unicodedata.name(ch, 'control character')}"


# --- YAML ------------------------------------------------------------------------

_TAG = "tag:yaml.org,2002:"
_ALLOWED_TAGS = {_TAG + t for t in ("str", "int", "float", "bool", "null", "seq", "map", "timestamp")}
_INT = re.compile(r"[-+]?[0-9]+")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_YAML11_BOOL = {"y", "n", "yes", "no", "on", "off"}


class _Fatal(Exception):
    def __init__(self, diag: Diagnostic):
        self.diag = diag


def load_yaml(path: Path, display: str) -> tuple[Document | None, list[Diagnostic]]:
    """Load one YAML file. Returns (None, diagnostics) when it cannot be used at all."""
    text, diags = read_text(path, display, MAX_RECORD_BYTES)
    if text is None:
        return None, diags
    return parse_yaml(text, display)


def load_record(path: Path, display: str, cache: LoadCache | None = None) -> tuple[Document | None, list[Diagnostic]]:
    """Load one record file: by the fast path when its text is proven clean (no positions yet, no
    diagnostics), else by the located loader. With a `cache` (a build), a text the fast path read before
    takes its data from there (load_cache.py)."""
    text, diags = read_text(path, display, MAX_RECORD_BYTES)
    if text is None:
        return None, diags
    key = b""
    if cache is not None:
        key, data = cache.record(text)
        if data is not MISS:
            return Document(display, data, origin=path), []
    data = fastyaml.parse_plain(text, MAX_DEPTH)
    if data is not None:
        if cache is not None:
            cache.put_record(key, data)
        return Document(display, data, origin=path), []
    return parse_yaml(text, display)


# --- the records, read on two cores ---------------------------------------------------------------
# From this many record files, a second process reads them from the last one back while this process reads
# from the first on, until the two meet (at 1,000 studies the records took 0.07 s of one core, and the other
# was idle once the bibliography was parsed).
SHARED_RECORDS = 300
BATCH = 16  # files taken at a time by either process (each take is a lock)


class _SharedRecords:
    """The record files of one folder (`listing`), shared with a second process started now.

    The second process takes files only where this process would take the fast path without a word: a
    `.yaml` file in a folder inside the project and no link, with a text fastyaml proves clean (or one the
    load cache holds). It sends back each one's data marshalled, with its cache key. Every other file, and
    every file it took if it fails, is read here as before, in order, so the documents, the diagnostics and
    their order are those of a load in one process (tests/test_load_shared.py)."""

    def __init__(self, listing: list[tuple[Path, bool]], folder_inside: bool, cache: LoadCache | None) -> None:
        self._bounds = forked.Shared(0, len(listing))  # the next file here; one past the next there
        self._until = 0  # the files before this one are taken here
        self._answer: dict[int, tuple[bytes, bytes, bool]] | None = None
        self._process = forked.Forked(_read_shared, listing, folder_inside, cache, self._bounds)

    def mine(self, n: int) -> bool:
        """Whether file `n` is read here (taken now, with the next BATCH - 1, if the other has not taken it)."""
        if n < self._until:
            return True
        if self._answer is not None:  # the two have met: every file from here on was taken there
            return False
        with self._bounds as bounds:
            if n >= bounds.values[1]:
                return False
            self._until = bounds.values[0] = min(bounds.values[1], n + BATCH)
        return True

    def finish(self) -> dict[int, tuple[bytes, bytes, bool]]:
        """What the other process sent (waited for once: the files it has taken); {} if it failed."""
        if self._answer is None:
            self._answer = self._process.result() or {}
            self._bounds.close()
        return self._answer

    def read(self, n: int, path: Path, display: str, cache: LoadCache | None) -> tuple[Document | None, list[Diagnostic]]:
        """File `n`, taken by the other process: its data as sent, or read here if it left the file alone."""
        got = self.finish().get(n)
        if got is not None:
            key, blob, hit = got
            with contextlib.suppress(ValueError, EOFError, TypeError):  # stored bytes that are no data: read the file
                data = marshal.loads(blob)
                if cache is not None:
                    cache.adopt(key, blob, hit)
                return Document(display, data, origin=path), []
        return load_record(path, display, cache)


def _read_shared(listing: list[tuple[Path, bool]], folder_inside: bool, cache: LoadCache | None,
                 shared: forked.Shared) -> dict[int, tuple[bytes, bytes, bool]]:
    """What the second process runs: files from the last back, a batch at a time, until it meets the first
    process; for each one it can read without a word, (its cache key, its data marshalled, whether the
    cache held it)."""
    out: dict[int, tuple[bytes, bytes, bool]] = {}
    while True:
        with shared as bounds:
            low, high = bounds.values[0], bounds.values[1]
            if high <= low:
                return out
            bounds.values[1] = start = max(low, high - BATCH)
        for n in range(high - 1, start - 1, -1):
            path, link = listing[n]
            if folder_inside and not link and path.suffix == ".yaml":
                got = _read_plain(path, cache)
                if got is not None:
                    out[n] = got


def _read_plain(path: Path, cache: LoadCache | None) -> tuple[bytes, bytes, bool] | None:
    text, diags = read_text(path, "", MAX_RECORD_BYTES)
    if text is None or diags:
        return None
    key = b""
    if cache is not None:
        key, blob = cache.stored(text)
        if blob is not None:
            return key, blob, True
    data = fastyaml.parse_plain(text, MAX_DEPTH)
    if data is None:
        return None
    try:
        return key, marshal.dumps(data), False
    except ValueError:  # a value marshal cannot write: read in the first process
        return None


def locate(doc: Document) -> tuple[Document | None, list[Diagnostic]]:
    """A fast-path document read again by the located loader: the same data, with positions. The
    diagnostics are the located loader's own, so that whoever reports a problem in the file reports
    exactly what the located loader alone would have."""
    if doc.origin is None:
        return doc, []
    return load_yaml(doc.origin, doc.path)


def parse_yaml(text: str, display: str) -> tuple[Document | None, list[Diagnostic]]:
    diags: list[Diagnostic] = []
    for n, line in enumerate(re.split(r"\r\n|\r|\n", text), 1):  # the line breaks YAML knows
        stripped = line.lstrip(" ")
        if stripped.startswith("\t"):
            return None, [diagnostic(C.YAML_TAB, display, n, len(line) - len(stripped) + 1,
                                     "tab character in indentation")]
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        eline, ecol = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or exc.context or "invalid YAML"
        if "depth" in problem or "nesting" in problem:
            return None, [diagnostic(C.YAML_NESTING, display, eline, ecol, f"YAML reader stopped: {problem}")]
        return None, [diagnostic(C.YAML_SYNTAX, display, eline, ecol, problem)]
    except (yaml.YAMLError, RecursionError, ValueError) as exc:
        return None, [diagnostic(C.YAML_SYNTAX, display, 1, 1, str(exc).splitlines()[0])]
    if root is None:
        return Document(display, None), []
    if "&" in text or "*" in text:  # cheap pre-filter; events only when an anchor could exist
        anchor = _first_anchor(text)
        if anchor is not None:
            return None, [diagnostic(C.YAML_ALIAS, display, anchor[0], anchor[1],
                                     f"anchor or alias '{anchor[2]}' is not allowed")]
    doc = Document(display, None)
    try:
        doc.data = _construct(root, (), doc, diags, set(), 0)
    except _Fatal as fatal:
        return None, [*diags, fatal.diag]
    return doc, diags


def _first_anchor(text: str) -> tuple[int, int, str] | None:
    try:
        for event in yaml.parse(text, Loader=_Loader):
            name = getattr(event, "anchor", None)
            mark = event.start_mark
            if name is not None and mark is not None:
                return mark.line + 1, mark.column + 1, name
    except yaml.YAMLError:  # pragma: no cover - compose already succeeded
        return None
    return None


def _construct(node: yaml.Node, where: Path_, doc: Document, diags: list[Diagnostic],
               seen: set[int], depth: int) -> Any:
    line, col = node.start_mark.line + 1, node.start_mark.column + 1
    doc.positions[where] = (line, col)
    if id(node) in seen:
        raise _Fatal(diagnostic(C.YAML_ALIAS, doc.path, line, col, "alias is not allowed"))
    seen.add(id(node))
    if depth > MAX_DEPTH:
        raise _Fatal(diagnostic(C.YAML_NESTING, doc.path, line, col,
                                f"structure is nested more than {MAX_DEPTH} levels deep"))
    if node.tag not in _ALLOWED_TAGS:
        raise _Fatal(diagnostic(C.YAML_TAG, doc.path, line, col, f"tag '{_short_tag(node.tag)}' is not allowed"))
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            kline, kcol = key_node.start_mark.line + 1, key_node.start_mark.column + 1
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag not in _ALLOWED_TAGS:
                raise _Fatal(diagnostic(C.YAML_SYNTAX, doc.path, kline, kcol, "keys must be plain text"))
            key = str(key_node.value)
            if key in out:
                first = doc.positions.get((*where, key), (0, 0))[0]
                diags.append(diagnostic(C.YAML_DUPLICATE_KEY, doc.path, kline, kcol,
                                        f"key '{key}' is given twice (first on line {first})"))
                continue
            out[key] = _construct(value_node, (*where, key), doc, diags, seen, depth + 1)
            doc.positions[(*where, key)] = (value_node.start_mark.line + 1, value_node.start_mark.column + 1)
            doc.positions[(*where, key, "<key>")] = (kline, kcol)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, (*where, i), doc, diags, seen, depth + 1) for i, item in enumerate(node.value)]
    assert isinstance(node, yaml.ScalarNode)
    value = _scalar(node, where, doc, diags)
    if isinstance(value, str):
        bad = unsafe_character(value)
        if bad:
            diags.append(diagnostic(C.UNSAFE_CHARACTER, doc.path, line, col, f"text contains {bad}"))
    return value


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(_TAG):] if tag.startswith(_TAG) else tag


def _scalar(node: yaml.ScalarNode, where: Path_, doc: Document, diags: list[Diagnostic]) -> Any:
    """YAML 1.2 core schema for plain scalars; quoted and block scalars are always text."""
    text = node.value
    if node.style not in (None, ""):
        return text
    if text in ("", "~", "null", "Null", "NULL"):
        return None
    if text in ("true", "True", "TRUE"):
        return True
    if text in ("false", "False", "FALSE"):
        return False
    line, col = node.start_mark.line + 1, node.start_mark.column + 1
    if _INT.fullmatch(text):
        digits = text.lstrip("+-")
        if len(digits) > 1 and digits.startswith("0"):
            diags.append(diagnostic(C.YAML_AMBIGUOUS, doc.path, line, col,
                                    f"'{text}' has a leading zero; it is read as the text \"{text}\", "
                                    "but YAML 1.1 tools read it as an octal number",
                                    f'Write it in quotes: "{text}".'))
            return text
        if len(digits) > MAX_INT_DIGITS:  # int() refuses (and would be slow) past Python's limit
            diags.append(diagnostic(C.YAML_NUMBER_TOO_LONG, doc.path, line, col,
                                    f"number has {len(digits):,} digits; the limit is {MAX_INT_DIGITS:,}",
                                    "A record holds no such number: remove it, or write it in quotes if "
                                    "it is meant as text."))
            return text
        return int(text)
    if _FLOAT.fullmatch(text):
        return float(text)
    if text.lower() in _YAML11_BOOL and not _is_country_item(where, text):
        diags.append(diagnostic(C.YAML_AMBIGUOUS, doc.path, line, col,
                                f"'{text}' is read as the text \"{text}\", "
                                "but YAML 1.1 tools read it as a boolean", f'Write it in quotes: "{text}".'))
    return text


def _is_country_item(where: Path_, text: str) -> bool:
    """`NO` in a list of countries is Norway: the documented reading, not a trap."""
    return len(where) >= 2 and where[-2] == spec.COUNTRIES and text == "NO"


# --- BibTeX ----------------------------------------------------------------------

logging.getLogger("bibtexparser").setLevel(logging.CRITICAL)


@dataclass(frozen=True)
class BibEntry:
    key: str
    entry_type: str
    fields: dict[str, str]  # with the fields inherited through crossref and xdata
    line: int  # 1-based
    field_lines: dict[str, int]
    inherited: dict[str, str] = field(default_factory=dict)  # field -> the key of the entry it came from
    parents: tuple[str, ...] = ()  # the crossref and xdata keys as written


# The dashes that may separate the two pages of a range in `pages` ("12--34", "12–34", "12—34"): check.py
# tells a range from a single value by them, and csl.py turns any run of them into CSL-JSON's one hyphen.
PAGE_RANGE_DASHES = "-–—"

# Fields of an entry that qualify its other fields rather than describe the work: `unconfirmed` names the
# fields no source confirmed, `doubtful` those probably wrong (see evidence/CORRECTIONS.md).
QUALIFYING_FIELDS = ("unconfirmed", "doubtful")


def qualified_fields(entry_fields: dict[str, str], name: str) -> tuple[str, ...]:
    """The field names listed in an entry's 'unconfirmed' or 'doubtful' field."""
    return tuple(f.strip().lower() for f in entry_fields.get(name, "").split(",") if f.strip())


@dataclass
class Bibliography:
    path: str
    entries: dict[str, BibEntry] = field(default_factory=dict)
    text: str = ""
    strings: dict[str, str] = field(default_factory=dict)
    # The entries' CSL items (csl.csl_item), worked out in the second process that parses a large file,
    # beside the records read here; model.py takes them from here and works out any that are missing.
    csl: dict[str, dict[str, Any]] = field(default_factory=dict)


def load_bibliography(path: Path, display: str) -> tuple[Bibliography, list[Diagnostic]]:
    text, diags = read_text(path, display, MAX_BIB_BYTES)
    if text is None and diags and diags[0].code == C.FILE_ENCODING and "UTF-16" not in diags[0].message:
        # Report every bad line, then read the rest so that the other entries are still checked;
        # the build stops on the errors, so the replacement characters never reach a page.
        raw = path.read_bytes()
        diags = _encoding_errors(raw, display)
        text = raw.decode("utf-8-sig", errors="replace")
    if text is None:
        return Bibliography(display), diags
    bib, found = parse_bibliography(text, display)
    bib.text = text
    return bib, diags + found


def _encoding_errors(raw: bytes, display: str) -> list[Diagnostic]:
    out = []
    for n, line in enumerate(re.split(rb"\r\n|\r|\n", raw), 1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as exc:
            col = len(line[:exc.start].decode("utf-8", errors="replace")) + 1  # characters, not bytes
            out.append(diagnostic(C.FILE_ENCODING, display, n, col,
                                  f"byte 0x{line[exc.start]:02x} is not valid UTF-8"))
    return out


def parse_bibliography(text: str, display: str) -> tuple[Bibliography, list[Diagnostic]]:
    # imported here: `evidence check` parses a large bibliography in its second process only, and the
    # first never needs bibtexparser (0.006 s of its imports)
    import bibtexparser
    from bibtexparser import model as bibmodel

    bib = Bibliography(display)
    diags: list[Diagnostic] = []
    # Classic Mac files end lines with CR alone; bibtexparser counts only LF, so every line would be 1.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    try:
        # No middlewares: macros and enclosing braces are resolved below, where an undefined
        # macro can be reported instead of silently becoming its own name.
        library = bibtexparser.parse_string(text, parse_stack=[])
    except Exception as exc:  # bibtexparser has no error type of its own; never let it escape
        return bib, [diagnostic(C.BIB_SYNTAX, display, 1, 1, f"the bibliography could not be read: {exc}")]
    seen_folded: dict[str, BibEntry] = {}
    # Every key and value is made of the file's text (and the month names): if the file has no character
    # that unsafe_character reports, none of them has, and they are not searched one by one.
    unsafe = _UNSAFE.search(text) is not None
    lines = text.split("\n")  # not splitlines(): form feeds and U+2028 are not line breaks here
    for block in library.blocks:
        line = _true_line(lines, (block.start_line or 0) + 1)  # bibtexparser counts from 0
        if isinstance(block, bibmodel.DuplicateBlockKeyBlock):
            if not block.key.strip():
                diags.append(_no_key(block, display, line))
                continue
            first = seen_folded.get(skeleton(block.key))
            where = f" (first on line {first.line})" if first else ""
            diags.append(diagnostic(C.BIB_DUPLICATE_KEY, display, line, 1,
                                    f"key '{block.key}' is used by another entry{where}"))
        elif isinstance(block, bibmodel.DuplicateFieldKeyBlock):
            # report it, then keep the entry (first value wins) so that records citing it
            # do not also fail: one problem, one diagnostic
            entry_block = block.ignore_error_block
            if not isinstance(entry_block, bibmodel.Entry):
                continue
            for name in sorted(block.duplicate_keys):
                at = [(f.start_line or 0) + 1 for f in entry_block.fields if f.key.lower() == name.lower()]
                diags.append(diagnostic(C.BIB_DUPLICATE_FIELD, display, at[-1] if at else line, 1,
                                        f"entry '{entry_block.key}' gives field '{name}' twice"
                                        + (f" (first on line {at[0]})" if len(at) > 1 else "")))
            _add_entry(bib, entry_block, seen_folded, display, diags, line, unsafe)
        elif isinstance(block, bibmodel.ParsingFailedBlock):
            reason = str(block.error).strip() or type(block.error).__name__
            if isinstance(block.error, Exception) and type(block.error).__name__ == "BlockAbortedException":
                reason = str(getattr(block.error, "abort_reason", "")) or "syntax error in entry"
            diags.append(diagnostic(C.BIB_SYNTAX, display, line, 1, _first_line(reason)))
        elif isinstance(block, bibmodel.String):
            where = f"@string '{block.key}'"
            bib.strings[block.key.lower()] = _resolve_value(str(block.value), bib.strings, display, line, where, diags)
        elif isinstance(block, bibmodel.Entry):
            _add_entry(bib, block, seen_folded, display, diags, line, unsafe)
    _resolve_crossrefs(bib, diags)
    return bib, diags


def _no_key(block: bibmodel.Block, display: str, line: int) -> Diagnostic:
    entry = getattr(block, "ignore_error_block", block)  # a DuplicateBlockKeyBlock wraps the entry itself
    kind = getattr(entry, "entry_type", "")
    return diagnostic(C.BIB_NO_KEY, display, line, 1, f"@{kind or 'entry'} entry has no key",
                      "Write the key after the opening brace, e.g. @article{smith2020, ... (keys are surnameYEAR).")


def _true_line(lines: list[str], line: int) -> int:
    """bibtexparser's start_line drifts by a line or two in long files; re-anchor on the '@'."""
    for candidate in range(line, min(line + 5, len(lines)) + 1):
        if lines[candidate - 1].lstrip().startswith("@"):
            return candidate
    return line


# A missing comma makes bibtexparser read the next field into this one's value.
_SWALLOWED = re.compile(r"[}\"]\s*\n?\s*([A-Za-z][\w:+.-]*)\s*=\s*[{\"0-9]")

# The month macros that BibTeX's standard styles define.
MONTHS = {m[:3]: m for m in ("january", "february", "march", "april", "may", "june", "july", "august",
                             "september", "october", "november", "december")}
# Fields read verbatim by BibTeX styles and biber: a '%' in them is not LaTeX.
VERBATIM_FIELDS = frozenset({"url", "doi", "eprint", "file", "pdf", "urlraw", "verba", "verbb", "verbc"})
_BARE_PERCENT = re.compile(r"(?<!\\)%")


def _split_concatenation(value: str) -> list[str]:
    """`jpa # { and } # "more"` -> ['jpa', '{ and }', '"more"']: split on '#' outside braces and quotes."""
    parts: list[str] = []
    current: list[str] = []
    depth, quoted = 0, False
    for ch in value:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == '"' and depth == 0:
            quoted = not quoted
        elif ch == "#" and depth == 0 and not quoted:
            parts.append("".join(current).strip())
            current = []
            continue
        current.append(ch)
    parts.append("".join(current).strip())
    return parts


def _resolve_value(value: str, strings: dict[str, str], display: str, line: int, where: str,
                   diags: list[Diagnostic]) -> str:
    """A raw BibTeX value as text: enclosing braces or quotes removed, macros expanded, parts joined."""
    if len(value) >= 2 and value[0] == "{" and value[-1] == "}" and _balanced(value[1:-1]):
        return value[1:-1]  # the common case, and '#' inside braces is text
    out = []
    for part in _split_concatenation(value):
        if len(part) >= 2 and (part[0], part[-1]) in (("{", "}"), ('"', '"')):
            out.append(part[1:-1])
        elif part.isdigit() or not part:
            out.append(part)
        elif part.lower() in strings:
            out.append(strings[part.lower()])
        elif part.lower() in MONTHS:
            out.append(MONTHS[part.lower()].capitalize())
        else:
            known = suggestions(part.lower(), strings)
            diags.append(diagnostic(
                C.BIB_UNDEFINED_MACRO, display, line, 1,
                f"{where} uses the macro '{part}', which no @string defines",
                (did_you_mean(*known) + " " if known else "")
                + f"Define it with @string{{{part} = {{...}}}} before this entry, or write the text in braces: "
                  f"{{{part}}}."))
            out.append(part)
    return "".join(out)


def _balanced(text: str) -> bool:
    if "{" not in text and "}" not in text:
        return True
    depth = 0
    for ch in text:
        depth += (ch == "{") - (ch == "}")
        if depth < 0:
            return False
    return depth == 0


def _add_entry(bib: Bibliography, block: bibmodel.Entry, seen_folded: dict[str, BibEntry],
               display: str, diags: list[Diagnostic], line: int, unsafe: bool = True) -> None:
    """`unsafe`: the file may have a character that unsafe_character reports (if not, none is looked for)."""
    if not block.key.strip():
        diags.append(_no_key(block, display, line))
        return
    drift = line - ((block.start_line or 0) + 1)
    fields: dict[str, str] = {}
    field_lines: dict[str, int] = {}
    bad_key = unsafe_character(block.key) if unsafe else None
    if bad_key:
        diags.append(diagnostic(C.UNSAFE_CHARACTER, display, line, 1, f"key '{block.key}' contains {bad_key}"))
    for f in block.fields:
        name = f.key.lower()
        if name in fields:
            continue
        field_lines[name] = (f.start_line if f.start_line is not None else block.start_line) + 1 + drift
        raw = str(f.value)
        if len(raw) >= 2 and raw[0] == "{" and raw[-1] == "}" and _balanced(raw[1:-1]):
            value = raw[1:-1]  # _resolve_value's common case, without making `where` for its diagnostics
        else:
            value = _resolve_value(raw, bib.strings, display, field_lines[name], f"field '{name}' of '{block.key}'",
                                   diags)
        swallowed = _SWALLOWED.search(value)
        if swallowed:
            diags.append(diagnostic(C.BIB_SYNTAX, display, field_lines[name], 1,
                                    f"field '{name}' of '{block.key}' runs into field '{swallowed.group(1)}'; "
                                    "a comma is probably missing", "Add a comma at the end of the field."))
        bad = unsafe_character(value) if unsafe else None
        if bad:
            diags.append(diagnostic(C.UNSAFE_CHARACTER, display, field_lines[name], 1,
                                    f"field '{name}' of '{block.key}' contains {bad}"))
        if "%" in value and name not in VERBATIM_FIELDS:
            # LaTeX (and so every decoder) reads a bare '%' as the start of a comment and drops the rest
            # of the value; BibTeX itself keeps it as text. Keep it as text everywhere: escape it.
            value = _BARE_PERCENT.sub(r"\\%", value)
        fields[name] = value
    entry = BibEntry(block.key, block.entry_type.lower(), fields, line, field_lines)
    folded = skeleton(entry.key)
    if folded in seen_folded:
        first = seen_folded[folded]
        if first.key == entry.key:
            return  # an exact duplicate is reported by bibtexparser's DuplicateBlockKeyBlock
        lookalikes = confusables(first.key + entry.key)
        if lookalikes:
            diags.append(diagnostic(C.BIB_DUPLICATE_KEY, display, line, 1,
                                    f"key '{entry.key}' differs from '{first.key}' (line {first.line}) only by "
                                    f"look-alike characters: {'; '.join(lookalikes)}",
                                    "Retype the key in plain ASCII letters, or rename one of the entries."))
        else:
            diags.append(diagnostic(C.BIB_DUPLICATE_KEY, display, line, 1,
                                    f"key '{entry.key}' differs only in case from '{first.key}' (line {first.line})"))
        return
    seen_folded[folded] = entry
    bib.entries[entry.key] = entry


# --- crossref and xdata ------------------------------------------------------------
# Resolved as biber does (and as BibTeX does for plain fields): a child takes every field it lacks
# from its crossref parent and its xdata entries in the same file. A book-like parent's title
# becomes the child's booktitle. The resolved entry keeps no crossref/xdata field, so a single
# entry exported from the site stands alone.

_NEVER_INHERITED = frozenset({"ids", "crossref", "xref", "xdata", "entryset", "entrysubtype", "execute", "label",
                              "options", "presort", "related", "relatedoptions", "relatedstring", "relatedtype",
                              "shorthand", "shorthandintro", "sortkey"})
_BOOKLIKE = frozenset({"book", "mvbook", "collection", "mvcollection", "proceedings", "mvproceedings",
                       "reference", "mvreference"})
_PARTS = frozenset({"inbook", "bookinbook", "suppbook", "incollection", "suppcollection", "inreference",
                    "inproceedings"})
_TITLE_AS = {"title": "booktitle", "subtitle": "booksubtitle", "titleaddon": "booktitleaddon"}


def _resolve_crossrefs(bib: Bibliography, diags: list[Diagnostic]) -> None:
    by_fold = {skeleton(k): e for k, e in bib.entries.items()}
    done: dict[str, BibEntry] = {}

    def parents_of(entry: BibEntry) -> list[tuple[str, str]]:
        out = [("xdata", k.strip()) for k in entry.fields.get("xdata", "").split(",") if k.strip()]
        if entry.fields.get("crossref", "").strip():
            out.append(("crossref", entry.fields["crossref"].strip()))
        return out

    def resolve(entry: BibEntry, chain: tuple[str, ...]) -> BibEntry:
        if entry.key in done:
            return done[entry.key]
        links = parents_of(entry)
        if not links:
            done[entry.key] = entry
            return entry
        fields = {k: v for k, v in entry.fields.items() if k not in ("crossref", "xdata")}
        inherited: dict[str, str] = {}
        for kind, key in links:
            line = entry.field_lines.get(kind, entry.line)
            parent = by_fold.get(skeleton(key))
            if parent is None:
                diags.append(diagnostic(C.BIB_CROSSREF_UNRESOLVED, bib.path, line, 1,
                                        f"{kind} '{key}' of '{entry.key}' is not an entry in {bib.path}",
                                        f"Add the entry '{key}' to {bib.path}, or remove the {kind} field and "
                                        "give the fields in the entry itself."))
                continue
            if parent.key in chain or parent.key == entry.key:
                loop = " -> ".join((*chain, entry.key, parent.key))
                diags.append(diagnostic(C.BIB_CROSSREF_UNRESOLVED, bib.path, line, 1,
                                        f"{kind} of '{entry.key}' makes a loop: {loop}",
                                        "Remove the crossref or xdata field that points back."))
                continue
            parent = resolve(parent, (*chain, entry.key))
            mapped = kind == "crossref" and parent.entry_type in _BOOKLIKE and entry.entry_type in _PARTS
            # a parent's own booktitle (BibTeX's convention) wins over its title mapped to booktitle (biber's)
            for name, value in sorted(parent.fields.items(), key=lambda kv: mapped and kv[0] in _TITLE_AS):
                target = _TITLE_AS.get(name, name) if mapped else name
                if name in _NEVER_INHERITED or target in fields:
                    continue
                fields[target] = value
                inherited[target] = parent.key
        result = replace(entry, fields=fields, inherited={**entry.inherited, **inherited},
                         parents=tuple(k for _, k in links))
        done[entry.key] = result
        return result

    for key in list(bib.entries):
        bib.entries[key] = resolve(bib.entries[key], ())


def _first_line(text: str) -> str:
    return " ".join(text.split())[:300]


# --- the whole project -----------------------------------------------------------

STUDIES_DIR = "evidence/studies"
CODEBOOK_DIR = "evidence/codebook"
BIB_FILE = "references.bib"
META_FILES = ("dataset", "changes")  # evidence/dataset.yaml, evidence/changes.yaml
CORRECTIONS_FILE = "evidence/CORRECTIONS.md"
SCREENING_DIR = "evidence/screening"  # one log per search batch or review: every candidate screened


@dataclass
class Loaded:
    """Everything read from disk, before any checking."""

    root: Path
    records: dict[str, Document]  # key (file stem) -> document
    record_paths: dict[str, str]  # key -> display path, including records that failed to parse
    codebook: dict[str, Document]  # vocabulary name (file stem) -> document
    meta: dict[str, Document]  # "dataset" and "changes"
    bib: Bibliography
    diagnostics: list[Diagnostic]
    files: int
    corrections: str = ""  # evidence/CORRECTIONS.md (Markdown), published as a page; "" if absent
    screening: dict[str, Document] = field(default_factory=dict)  # log name (file stem) -> document
    # the bibliography's own diagnostics (check.bibliography_diagnostics), where the process that parsed it
    # worked them out (load_project's `bib_check`); None: the check works them out
    bib_checked: list[Diagnostic] | None = None


def _outside(root: Path, path: Path, display: str, folder_inside: bool = False, link: bool = True) -> Diagnostic | None:
    """A file reached through a symbolic link that leaves the project is refused, never read: its
    text would be published, or its keys shown in diagnostics.

    `folder_inside`: the file's folder is known to resolve inside the project, so a file that is no
    link (`link`, from the directory listing) is inside too; resolving each of 10,000 paths took seconds."""
    try:
        inside = (folder_inside and not link) or path.resolve().is_relative_to(root.resolve())
    except (OSError, RuntimeError):  # a link loop
        inside = False
    if inside:
        return None
    return diagnostic(C.FILE_OUTSIDE_PROJECT, display, 1, 1,
                      "file is a symbolic link to a place outside the project; it was not read")


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Loading and checking make millions of small containers and no reference cycles; the cyclic
    garbage collector's passes over them took ~40% of loading 10,000 records. Nothing is collected
    late: the collector runs again afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# What Path.glob("*.y*ml") matches: the same translation of the pattern, without case on Windows.
_YAML_NAME = re.compile(fnmatch.translate("*.y*ml"), re.IGNORECASE if os.path.normcase("A") == "a" else 0).fullmatch


def _yaml_files(directory: Path) -> list[tuple[Path, bool]]:
    """The files that Path.glob("*.y*ml") finds in a folder, in the order of their names, each with
    whether it is a symbolic link: the listing says so, without a system call for each file."""
    found: list[tuple[str, bool]] = []
    try:
        with os.scandir(directory) as entries:
            for entry in entries:
                if _YAML_NAME(entry.name):
                    try:
                        link = entry.is_symlink()
                    except OSError:
                        link = True  # unknown: resolve it
                    found.append((entry.name, link))
    except PermissionError:  # as Path.glob: an unreadable folder has no files
        return []
    return [(directory / name, link) for name, link in sorted(found)]


def load_project(root: Path, records: bool = True,
                 csl: Callable[[BibEntry], dict[str, Any]] | None = None, cache: LoadCache | None = None,
                 bib_check: Callable[[Bibliography], list[Diagnostic]] | None = None) -> Loaded:
    """Every input file of the project; with records=False, all but the study records and screening logs
    (what `evidence new`, `fmt` and `schema` need: the codebook, the bibliography, the meta files).
    With `csl` (a build, which models the base, passes csl.csl_item), the entries' CSL items are worked
    out too where that costs nothing: beside the records, in the process that parses a large
    bibliography (Bibliography.csl). With a `cache` (a build: load_cache.py), what an earlier build parsed
    from the same bytes is taken from it. With `bib_check` (check_bib.bibliography_diagnostics), a
    bibliography parsed in the second process is checked there too (Loaded.bib_checked), while the
    records are still being read here."""
    with collector_paused():
        return _load_project(root, records, csl, cache, bib_check)


# A bibliography this large is read in a second process while the records are read in this one:
# at 10,000 entries (3 MB) each takes about half a second. A smaller one is not worth a process.
PARALLEL_BIB_BYTES = 256 * 1024


def _bibliography_worker(path: Path, display: str, items: Callable[[BibEntry], dict[str, Any]] | None = None,
                         state: forked.Shared | None = None,
                         bib_check: Callable[[Bibliography], list[Diagnostic]] | None = None,
                         ) -> tuple[Bibliography, list[Diagnostic], list[Diagnostic] | None]:
    """What the second process runs (a name of its own, so that a test can make it fail): the parse, and
    with `items` (a build, which models the base: csl.csl_item) the entries' CSL items, until the first
    process has read the records and says stop (`state`: STOP, DONE); the model works out the rest. At 10,000
    entries the parse and the items took about as long as the records, so neither process waits long for the other.
    With `bib_check`, the bibliography's own diagnostics are worked out here too, before the items (which
    only fill the time until the records are read); `evidence check` models nothing and asks for no items."""
    bib, diags = load_bibliography(path, display)
    checked = bib_check(bib) if bib_check is not None else None
    if items is not None:
        _make_items(bib, items, state)
    if state is not None:
        state.values[DONE] = 1
    return bib, diags, checked


# What a process reading the bibliography shares with this one (forked.Shared): this one sets STOP once the
# records are read (the CSL items still to make are the model's); it sets DONE once its work is done (the
# records are then read on two cores: _SharedRecords).
STOP, DONE = 0, 1


def _make_items(bib: Bibliography, items: Callable[[BibEntry], dict[str, Any]], state: forked.Shared | None) -> None:
    for key, entry in bib.entries.items():
        if state is not None and state.values[STOP]:
            break
        bib.csl[key] = items(entry)


# --- the bibliography read ahead -----------------------------------------------------------
# `evidence check`, `generate` and `build` start the second process before their own imports (`read_ahead`),
# and the load then takes it: the parse runs while this process imports what the check and the model need
# (at 1,000 studies about 0.02 s of the check's imports and 0.09 s of a build's), rather than after.
# The functions the second process applies to the bibliography are named, and imported there once the parse
# is done: this process has not imported them yet. A load asking for other functions does not take it.

CSL_ITEMS = "generator.csl:csl_item"  # the CSL items a build asks for (load_project's `csl`)
BIB_CHECK = "generator.check_bib:bibliography_diagnostics"  # the bibliography's checks `evidence check` asks for


@dataclass
class _Ahead:
    path: Path
    items: str | None
    check: str | None
    process: forked.Forked
    state: forked.Shared

    def end(self) -> None:
        """Stopped unused."""
        self.process.stop()
        self.state.close()


_AHEAD: list[_Ahead] = []  # the read started by read_ahead, until a load takes it or read_ahead's block ends


@contextlib.contextmanager
def read_ahead(root: Path, items: str | None = None, check: str | None = None) -> Iterator[None]:
    """Within this block, the project's references.bib is read in a second process from now on (if it is
    large enough to be read there at all, _read_bibliography_elsewhere), with `items` and `check` (named
    'module:function') applied to it there. The first load_project in the block that asks for the same takes
    the read; one that finds the bibliography in its load cache stops it. What no load took is stopped when
    the block ends. A build's read (with `items`) is not started where the load cache seems to hold the
    bibliography already (load_cache.may_hold_bibliography: a rebuild)."""
    bib_path = root / BIB_FILE
    started = None
    if not _AHEAD and bib_path.is_file() and _outside(root, bib_path, BIB_FILE) is None \
            and _read_bibliography_elsewhere(bib_path) \
            and not (items is not None and may_hold_bibliography(root / LOAD_CACHE, bib_path)):
        state = forked.Shared(0, 0)
        started = _Ahead(bib_path, items, check,
                         forked.Forked(_ahead_worker, bib_path, BIB_FILE, items, state, check), state)
        _AHEAD.append(started)
    try:
        yield
    finally:
        if started is not None and started in _AHEAD:
            _AHEAD.remove(started)
            started.end()


def _named(name: str) -> Callable[..., Any]:
    module, _, function = name.partition(":")
    return getattr(importlib.import_module(module), function)  # type: ignore[no-any-return]


def _name(function: Callable[..., Any] | None) -> str | None:
    return None if function is None else f"{function.__module__}:{function.__qualname__}"


def _ahead_worker(path: Path, display: str, items: str | None, state: forked.Shared, check: str | None,
                  ) -> tuple[Bibliography, list[Diagnostic], list[Diagnostic] | None]:
    """What the second process of a read ahead runs: _bibliography_worker, with the named functions imported
    here (this process imports them too, meanwhile)."""
    return _bibliography_worker(path, display, _named(items) if items is not None else None, state,
                                _named(check) if check is not None else None)


def _take_ahead(bib_path: Path, csl: Callable[..., Any] | None,
                bib_check: Callable[..., Any] | None) -> _Ahead | None:
    """The read ahead of this bibliography, if one was started; None if none was. It is no longer on offer
    after this: the caller uses it, or stops it."""
    if not _AHEAD or _AHEAD[0].path != bib_path:
        return None
    ahead = _AHEAD.pop()
    if (ahead.items, ahead.check) != (_name(csl), _name(bib_check)):
        ahead.end()  # it reads for other functions than these: read here, as without it
        return None
    return ahead


def _read_bibliography_elsewhere(path: Path) -> bool:
    try:
        return path.stat().st_size >= PARALLEL_BIB_BYTES and forked.available()
    except OSError:
        return False


def _load_meta(root: Path) -> tuple[dict[str, Document], list[Diagnostic], int]:
    """The files of META_FILES that load, the problems found, and how many files were read."""
    meta: dict[str, Document] = {}
    diags: list[Diagnostic] = []
    files = 0
    for name in META_FILES:
        display = f"evidence/{name}.yaml"
        path = root / display
        if not path.is_file():
            diags.append(diagnostic(C.FILE_MISSING, display, 1, 1, f"{display} is missing",
                                    "Restore the file from the repository; the site needs it."))
            continue
        files += 1
        outside = _outside(root, path, display)
        if outside:
            diags.append(outside)
            continue
        doc, found = load_yaml(path, display)
        diags.extend(found)
        if doc is not None:
            meta[name] = doc
    return meta, diags, files


def _load_project(root: Path, with_records: bool = True,
                  csl: Callable[[BibEntry], dict[str, Any]] | None = None, cache: LoadCache | None = None,
                  bib_check: Callable[[Bibliography], list[Diagnostic]] | None = None) -> Loaded:
    diags: list[Diagnostic] = []
    bib_path = root / BIB_FILE
    bib_outside = _outside(root, bib_path, BIB_FILE) if bib_path.is_file() else None
    cached = cache.bibliography(bib_path) if cache is not None and bib_outside is None and bib_path.is_file() else None
    elsewhere, state = _read_elsewhere(bib_path, cached is None and bib_outside is None, with_records, csl, bib_check)
    records: dict[str, Document] = {}
    record_paths: dict[str, str] = {}
    codebook: dict[str, Document] = {}
    screening: dict[str, Document] = {}
    files = 0
    real_root = root.resolve()
    folders = ((CODEBOOK_DIR, codebook), (STUDIES_DIR, records), (SCREENING_DIR, screening))
    for folder, target in folders if with_records else folders[:1]:
        directory = root / folder
        try:
            folder_inside = directory.resolve().is_relative_to(real_root)
        except (OSError, RuntimeError):
            folder_inside = False
        # by name: the order of Path objects, without comparing their parts 130,000 times
        listing = _yaml_files(directory) if directory.is_dir() else []
        # shared with a second process unless the bibliography's is still at work (both cores are busy then)
        shared = _SharedRecords(listing, folder_inside, cache) \
            if target is records and len(listing) >= SHARED_RECORDS and forked.available() \
            and (state is None or state.values[DONE]) else None
        for n, (path, link) in enumerate(listing):
            display = f"{folder}/{path.name}"
            files += 1
            if target is records:
                record_paths[path.stem] = display
            if path.suffix == ".yml":
                # one spelling keeps URLs and `evidence new` predictable
                diags.append(diagnostic(C.FILE_EXTENSION, display, 1, 1,
                                        "record files end in '.yaml', not '.yml'",
                                        f"Rename the file to {path.stem}.yaml."))
                continue
            outside = _outside(root, path, display, folder_inside, link)
            if outside:
                diags.append(outside)
                continue
            if shared is not None and not shared.mine(n):
                doc, found = shared.read(n, path, display, cache)
            elif target is records:
                doc, found = load_record(path, display, cache)
            else:
                doc, found = load_yaml(path, display)
            diags.extend(found)
            if doc is not None:
                target[path.stem] = doc
        if shared is not None:
            shared.finish()
    meta, found, meta_files = _load_meta(root)
    diags.extend(found)
    files += meta_files
    bib, found, bib_checked = _finish_bibliography(bib_path, bib_outside, cached, elsewhere, state, cache)
    diags.extend(found)
    files += 1 if bib_path.is_file() else 0
    corrections = ""
    corrections_path = root / CORRECTIONS_FILE
    if corrections_path.is_file():
        files += 1
        try:
            corrections = corrections_path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            diags.append(diagnostic(C.FILE_ENCODING if isinstance(exc, UnicodeDecodeError) else C.FILE_UNREADABLE,
                                    CORRECTIONS_FILE, 1, 1, f"{CORRECTIONS_FILE} could not be read: {exc}"))
    return Loaded(root, records, record_paths, codebook, meta, bib, diags, files, corrections, screening, bib_checked)


def _read_elsewhere(bib_path: Path, needed: bool, with_records: bool, csl: Callable[[BibEntry], dict[str, Any]] | None,
                    bib_check: Callable[[Bibliography], list[Diagnostic]] | None,
                    ) -> tuple[forked.Forked | None, forked.Shared | None]:
    """The second process that reads the bibliography while the records are read here (the one read_ahead
    started, or one started now), with what it shares with this one (STOP, DONE); (None, None) where
    it is read here, or not `needed` (the load cache holds it, or it is refused). If it fails, it is read here."""
    ahead = _take_ahead(bib_path, csl, bib_check) if with_records else None
    if needed and bib_path.is_file() and _read_bibliography_elsewhere(bib_path):
        if ahead is not None:
            return ahead.process, ahead.state
        state = forked.Shared(0, 0)
        return forked.Forked(_bibliography_worker, bib_path, BIB_FILE, csl, state, bib_check), state
    if ahead is not None:  # not needed: stopped
        ahead.end()
    return None, None


def _finish_bibliography(bib_path: Path, outside: Diagnostic | None, cached: tuple[Bibliography, list[Diagnostic]] | None,
                         elsewhere: forked.Forked | None, state: forked.Shared | None,
                         cache: LoadCache | None) -> tuple[Bibliography, list[Diagnostic], list[Diagnostic] | None]:
    """The bibliography, its diagnostics as read and, from the second process, as checked (or None): from the
    load cache, from the second process (told to stop making CSL items: the records are read), or read here."""
    if outside is not None:
        return Bibliography(BIB_FILE), [outside], None
    if cached is not None:
        return cached[0], cached[1], None
    checked = None
    if elsewhere is not None:
        if state is not None:
            state.values[STOP] = 1  # the records are read: the CSL items still to do are the model's
        answer = elsewhere.result()
        if state is not None:
            state.close()
        if answer is not None:
            bib, found, checked = answer
        else:  # it failed: read here, and checked by the check
            bib, found = load_bibliography(bib_path, BIB_FILE)
    elif bib_path.is_file():
        bib, found = load_bibliography(bib_path, BIB_FILE)
    else:
        return Bibliography(BIB_FILE), [diagnostic(C.FILE_MISSING, BIB_FILE, 1, 1, "references.bib is missing",
                                                   "Create references.bib at the top of the project.")], None
    if cache is not None:
        cache.missed_bibliography(bib, found)
    return bib, found, checked
