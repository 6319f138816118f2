"""BibTeX entries as CSL-JSON, and formatted references through pandoc's citeproc.

The CSL-JSON is built here from the BibTeX fields, and it is the only input of the
formatter: pandoc reads it as a `--bibliography` file (not as YAML `references:`, which
pandoc would read as Markdown). LaTeX is decoded only in the fields that are shown
(decoding everything is ~20x slower); braces that protect case in a title become
`nocase` spans, which CSL processors leave alone when they title-case.
Why pandoc: bench/results/csl-test-suite.md.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import subprocess
import tempfile
import threading
from collections.abc import Iterator, MutableMapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import orjson
from pylatexenc.latex2text import LatexNodes2Text

from .load import PAGE_RANGE_DASHES, BibEntry

CSL_DIR = Path(__file__).parent / "csl"
STYLES = {"apa": "APA 7", "chicago-author-date-17th-edition": "Chicago author-date",
          "harvard-cite-them-right": "Harvard"}
# Each style in its own locale: Cite Them Right is British (single quotes, punctuation outside
# them) but its CSL file names no default-locale, so processors would print it in en-US.
LOCALES = {"apa": "en-US", "chicago-author-date-17th-edition": "en-US", "harvard-cite-them-right": "en-GB"}
CHUNK = 250  # items per pandoc call: one call over thousands of items slows down more than linearly

CSL_TYPES = {
    "article": "article-journal",
    "book": "book",
    "incollection": "chapter",
    "inbook": "chapter",
    "inproceedings": "paper-conference",
    "techreport": "report",
    "report": "report",
    "phdthesis": "thesis",
    "mastersthesis": "thesis",
    "online": "webpage",
    "unpublished": "manuscript",  # a paper given at a conference (it has an eventtitle) is a speech
}

_latex = LatexNodes2Text(math_mode="verbatim", strict_latex_spaces=True)


@functools.lru_cache(maxsize=65536)
def decode(value: str) -> str:
    """LaTeX to plain Unicode text; braces that protect capitals disappear."""
    if "\\" in value or "{" in value or "~" in value or "--" in value:
        try:
            value = next(_latex_to_text(value))
        except Exception:  # pylatexenc is lenient, but never let a bad field stop a build
            value = value.replace("{", "").replace("}", "")
    return " ".join(value.split())


def _latex_to_text(value: str) -> Iterator[str]:
    """pylatexenc's conversion, run in a generator's frame of its own. pylatexenc keeps the exception that
    ends every parse (LatexWalkerEndOfStream) in a local of the frame that caught it, with its traceback: a
    reference cycle of frames. Each finished frame in it links to its caller's, so called from here
    directly the cycle would reach decode's caller, and every frame above it, with all their locals (at
    a build, build_model's and the generator's: the whole base), and only the cyclic collector could
    free them. A generator's frame links to no caller, so the cycle stops at this one
    (tests/test_model.py::test_decoding_latex_leaves_no_cycle_through_the_caller)."""
    yield _latex.latex_to_text(value)


def _decode_part(value: str) -> str:
    """decode() of a piece of a field, keeping one space at either edge where there was one."""
    text = decode(value)
    lead = " " if value[:1].isspace() else ""
    trail = " " if value[-1:].isspace() and value.strip() else ""
    return lead + text + trail


def _group_end(value: str, start: int) -> int:
    """Index just past the brace group that opens at value[start]."""
    depth, i = 0, start
    while i < len(value):
        if value[i] == "\\":
            i += 2
            continue
        depth += {"{": 1, "}": -1}.get(value[i], 0)
        i += 1
        if depth == 0:
            break
    return i


def rich(value: str) -> str:
    """A BibTeX title as CSL-JSON rich text: `{France}` keeps its case as <span class="nocase">France</span>.

    A brace group that is a LaTeX accent (`{\\"u}`) or a command's argument (`\\emph{x}`) is
    only decoded. The text is not HTML-escaped: CSL processors read `&` and unknown tags literally.
    """
    if "{" not in value:  # no group to protect (most fields): what the loop below makes of such a value
        return " ".join(_decode_part(value).split())
    out: list[str] = []
    plain = ""
    i = 0
    while i < len(value):
        ch = value[i]
        if ch == "\\":
            plain += value[i:i + 2]
            i += 2
            continue
        if ch != "{":
            plain += ch
            i += 1
            continue
        end = _group_end(value, i)
        group = value[i:end]
        if re.search(r"\\(?:[A-Za-z]+\s*|[^A-Za-z\s])$", plain) or group[1:2] == "\\":
            plain += group
        else:
            out.append(_decode_part(plain))
            plain = ""
            inner = decode(group[1:-1] if group.endswith("}") else group[1:])
            out.append(f'<span class="nocase">{inner}</span>' if inner else "")
        i = end
    out.append(_decode_part(plain))
    return " ".join("".join(out).split())


def persons(value: str) -> list[dict[str, str]]:
    """BibTeX names ('van Eijk, Carola and {Governance International}') as CSL names."""
    # imported here: a rebuild takes every CSL item from the load cache and never needs bibtexparser (its import
    # was 0.006 s of every build)
    from bibtexparser.middlewares.names import parse_single_name_into_parts, split_multiple_persons_names

    out: list[dict[str, str]] = []
    for raw in split_multiple_persons_names(value):
        raw = raw.strip()
        if raw.startswith("{") and raw.endswith("}"):
            out.append({"literal": decode(raw[1:-1])})  # a corporate author
            continue
        if raw.lower() == "others":
            continue
        parts = parse_single_name_into_parts(raw, strict=False)
        name = {"family": decode(" ".join(parts.last)), "given": decode(" ".join(parts.first))}
        if parts.von:
            name["non-dropping-particle"] = decode(" ".join(parts.von))
        if parts.jr:
            name["suffix"] = decode(" ".join(parts.jr))
        out.append({k: v for k, v in name.items() if v})
    return out


def family_name(person: dict[str, str]) -> str:
    """The name a person is cited and sorted by: 'van Eijk'; a corporate author's whole name."""
    if "literal" in person:
        return person["literal"]
    return " ".join(filter(None, (person.get("non-dropping-particle"), person.get("family"))))


def display_name(person: dict[str, str]) -> str:
    """'Carola van Eijk'."""
    if "literal" in person:
        return person["literal"]
    return " ".join(filter(None, (person.get("given"), family_name(person))))


RICH = ("title", "container-title")  # the variables that styles change the case of


NOCASE = re.compile(r'<span class="nocase">(.*?)</span>')  # case protection; atlas.js's expand undoes it too


def plain_text(rich_text: str) -> str:
    """A rich-text CSL variable as plain text (the title as stored, without case protection)."""
    return NOCASE.sub(r"\1", rich_text)


def csl_item(entry: BibEntry) -> dict[str, Any]:
    f = entry.fields
    item: dict[str, Any] = {"id": entry.key, "type": CSL_TYPES.get(entry.entry_type, "document")}
    for bib_name, csl_name in (("author", "author"), ("editor", "editor")):
        if f.get(bib_name):
            item[csl_name] = persons(f[bib_name])
    simple = {
        "title": "title", "journal": "container-title", "booktitle": "container-title",
        "publisher": "publisher", "address": "publisher-place", "volume": "volume", "number": "issue",
        "edition": "edition", "isbn": "ISBN", "institution": "publisher", "school": "publisher",
        "url": "URL", "chapter": "chapter-number",
    }
    for bib_name, csl_name in simple.items():
        if f.get(bib_name) and csl_name not in item:
            item[csl_name] = rich(f[bib_name]) if csl_name in RICH else decode(f[bib_name])
    if f.get("pages"):
        # a range as CSL-JSON writes it: one hyphen, whatever dashes the entry used (PAGE_RANGE_DASHES);
        # RIS, Highwire and the styles split the range at this hyphen
        item["page"] = re.sub(rf"\s*[{PAGE_RANGE_DASHES}]+\s*", "-", f["pages"].strip())
    if f.get("eid"):
        # biblatex's eid: the number a journal gives an article in place of pages (BMC, PLOS, MDPI,
        # Frontiers; eLocators such as e33). CSL's `number`: APA prints it as "Article 9".
        item["number"] = decode(f["eid"].strip())
    if f.get("doi"):
        item["DOI"] = f["doi"].strip()
    if entry.entry_type == "unpublished" and f.get("eventtitle"):
        # a paper presented at a conference and not published (biblatex: @unpublished with eventtitle,
        # venue and type): APA 7 prints "Title [Paper presentation]. Conference, Place."
        item["type"] = "speech"
        item["event"] = decode(f["eventtitle"])  # CSL 1.0.1's name, which every style here reads
        if f.get("venue"):
            item["event-place"] = decode(f["venue"])
        if f.get("type"):
            item["genre"] = decode(f["type"])
    year = re.search(r"\d{4}", f.get("year", ""))
    if year:
        item["issued"] = {"date-parts": [[int(year.group())]]}
    return item


# What each style's manual asks of a title that CSL itself cannot express. Each rule is a change
# of the CSL-JSON input for that style, never of pandoc's output; tests/test_references_base.py
# and tests/test_style_manuals.py check the results against the manuals.
TITLE_CASE_STYLES = frozenset({"chicago-author-date-17th-edition"})
SUBTITLE_LOWERCASE_STYLES = frozenset({"harvard-cite-them-right"})
BOOK_TYPES = frozenset({"chapter", "paper-conference"})  # their container-title is a book's title
CONVENTIONS = "4"  # bump when a rule below changes, so that cached references are formatted again

# CMOS 8.159: the last word of a title and of each subtitle is capitalised. CSL title-cases only the
# last word of the whole string, so a lowercase word that ends a title before its subtitle
# ("Bringing society back in: ...") is given, capitalised, as a nocase span.
_SEGMENT_END = re.compile(r"(?<![\w>’'-])([a-z]+)(?=[:?!](?:\s|$))")
# The stop words of the CSL specification's title case (the words it leaves lowercase).
_STOP_WORDS = frozenset("""a according across afore after against ahead along alongside amid amidst among amongst an
    and anenst apart apropos apud around as aside astride at athwart atop barring before behind below beneath beside
    besides between beyond but by circa despite down during except for forenenst from given in inside into lest like
    modulo near next nor notwithstanding of off on onto or out over per plus pro qua sans since so than the through
    thru throughout thruout till to toward towards under underneath until unto up upon versus via with within without
    worth""".split())
# Cite Them Right lowercases the first word of a subtitle ("Cite them right: the essential referencing
# guide"). Stored titles capitalise it without braces (APA and Chicago keep the capital), so only an
# unprotected capital after a colon is lowered; a protected proper noun (<span class="nocase">) is not.
_SUBTITLE_START = re.compile(r"(:\s+)([A-Z])(?=[a-z’']*(?:-|[\s,.;:?!)]|$))")  # "A", "Evidence", "Citizen-led"


# CMOS 8.159 lowercases prepositions "regardless of length"; pandoc's citeproc lowercases only the short
# ones (it printed "Parks Through the Lens"). These are the longer words that are prepositions in
# nearly every use (words that are as often conjunctions or adverbs, such as after, since or out, are
# left to the processor). In mid-title they are given lowercase as nocase spans.
_LONG_PREPOSITIONS = ("about|across|against|along|alongside|amid|amidst|among|amongst|around|atop|behind|below|"
                      "beneath|beside|besides|between|beyond|despite|during|except|inside|near|per|through|"
                      "throughout|toward|towards|under|underneath|unto|upon|versus|within|without")
_MID_PREPOSITION = re.compile(rf"(?<=[\w,;)’'>] )({_LONG_PREPOSITIONS})(?= [^\s:?!])")


def for_style(item: dict[str, Any], style: str) -> dict[str, Any]:
    """The CSL-JSON item as `style` is given it: the title conventions above applied."""
    fields = ["title"] + (["container-title"] if item.get("type") in BOOK_TYPES else [])
    out = dict(item)
    for name in fields:
        value = out.get(name)
        if not isinstance(value, str):
            continue
        if style in TITLE_CASE_STYLES:
            value = _MID_PREPOSITION.sub(lambda m: f'<span class="nocase">{m.group(1)}</span>', value)
            value = _SEGMENT_END.sub(lambda m: f'<span class="nocase">{m.group(1).capitalize()}</span>'
                                     if m.group(1) in _STOP_WORDS else m.group(1), value)
        if style in SUBTITLE_LOWERCASE_STYLES:
            value = _SUBTITLE_START.sub(lambda m: m.group(1) + m.group(2).lower(), value)
        out[name] = value
    return out


# CMOS 6.9 and the CSL locales' punctuation-in-quote: a period or comma that follows a closing
# quotation mark goes inside it, at every level of nesting. pandoc's citeproc moves it inside the
# outer mark only (“… ‘Choice about Voice’.”); this puts it inside both (“… ‘Choice about Voice.’”).
AMERICAN_PUNCTUATION = frozenset(s for s, locale in LOCALES.items() if locale == "en-US")
_NESTED_CLOSE = re.compile(r"([’”])((?:</span>)+)([.,])([”’])")


def _standalone(style: str) -> str:
    """The style's XML for references printed one by one.

    The atlas prints every reference on its own (a study page, a reading list of any subset),
    and formats them in chunks that depend on the cache, so nothing may depend on the other
    items of a call: no year suffixes (2018a) and no 3-em dash for a repeated author.
    """
    xml = (CSL_DIR / f"{style}.csl").read_text(encoding="utf-8")
    xml = re.sub(r'\s(?:disambiguate-add-year-suffix|subsequent-author-substitute)="[^"]*"', "", xml)
    return xml


def pandoc_binary() -> str:
    """The pandoc of the `pypandoc-binary` wheel (the `cite` extra); `evidence check` never needs it."""
    try:
        import pypandoc
    except ImportError as exc:
        raise RuntimeError("formatting references needs pandoc: install the 'site' extra "
                           "(pip install -e '.[site]', which `make site` does)") from exc
    return str(pypandoc.get_pandoc_path())


_NOCITE = "---\nnocite: |\n  @*\n---\n"
_ENTRY = re.compile(r'<div id="ref-([^"]+)" class="csl-entry"[^>]*>\n?(.*?)\n?</div>\n(?=<div id="ref-|</div>)', re.S)


def _run_pandoc(items: list[dict[str, Any]], style: str, stem: Path) -> dict[str, str]:
    """One pandoc call, its files named stem.csl and stem.json: id -> the entry's HTML."""
    csl_path, json_path = stem.with_suffix(".csl"), stem.with_suffix(".json")
    csl_path.write_text(_standalone(style), encoding="utf-8")
    json_path.write_text(json.dumps([for_style(i, style) for i in items], ensure_ascii=False), encoding="utf-8")
    cmd = [pandoc_binary(), "--from", "markdown", "--to", "html", "--citeproc", "--wrap=none",
           "--csl", str(csl_path), "--bibliography", str(json_path), "--metadata", f"lang={LOCALES[style]}"]
    proc = subprocess.run(cmd, input=_NOCITE, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f"pandoc failed on {style}: {proc.stderr.strip()[:500]}")
    out = {m.group(1): m.group(2).strip() for m in _ENTRY.finditer(proc.stdout)}
    if style in AMERICAN_PUNCTUATION:
        out = {k: _NESTED_CLOSE.sub(r"\3\1\2\4", v) for k, v in out.items()}
    lost = [str(i["id"]) for i in items if str(i["id"]) not in out]
    if lost:
        raise RuntimeError(f"pandoc printed no {style} reference for {', '.join(lost[:5])}")
    return out


def format_html(items: list[dict[str, Any]], style: str = "apa") -> list[str]:
    """Formatted bibliography entries as safe HTML (pandoc escapes the text), in the order given."""
    if not items:
        return []
    out: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="atlas-csl-") as tmp:
        for start in range(0, len(items), CHUNK):
            out.update(_run_pandoc(items[start:start + CHUNK], style, Path(tmp) / f"call{start}"))
    return [out[str(item["id"])] for item in items]


_VERSION_LOOKUP: Future[str] | None = None


def look_up_pandoc() -> None:
    """Start working out pandoc's version in a thread, for `_pandoc_version` to take when it is first asked.

    Every formatted reference is cached under a key that holds it, so every build asks, even with every
    reference in the cache; finding pandoc (pypandoc runs it to check it) and running `pandoc --version`
    took 0.02 to 0.03 s, mostly waiting on those two processes, which a thread does beside the model. The
    generator starts it after the check and before the model, which forks no process: it has ended by
    the time the pages are rendered (and processes forked), since the renderer waits for it."""
    global _VERSION_LOOKUP
    if _VERSION_LOOKUP is not None:
        return
    lookup: Future[str] = Future()

    def run() -> None:
        try:
            lookup.set_result(_run_pandoc_version())
        except BaseException as exc:  # handed to whoever asks, as if asked there
            lookup.set_exception(exc)

    threading.Thread(target=run, daemon=True).start()
    _VERSION_LOOKUP = lookup


def _run_pandoc_version() -> str:
    proc = subprocess.run([pandoc_binary(), "--version"], capture_output=True, text=True, check=True, timeout=60)
    return proc.stdout.split("\n", 1)[0]


@functools.lru_cache(maxsize=1)
def _pandoc_version() -> str:
    if _VERSION_LOOKUP is not None:
        return _VERSION_LOOKUP.result()
    return _run_pandoc_version()


@functools.lru_cache(maxsize=8)
def _style_digest(style: str) -> str:
    data = _standalone(style).encode() + LOCALES[style].encode() + _pandoc_version().encode() + CONVENTIONS.encode()
    return hashlib.sha256(data).hexdigest()[:16]


def item_digest(item: dict[str, Any]) -> str:
    """The SHA-256 of the item as JSON with its keys sorted at every level (orjson: a sixth of the time json took,
    0.01 s a build at 1,000 studies)."""
    return hashlib.sha256(orjson.dumps(item, option=orjson.OPT_SORT_KEYS)).hexdigest()


def cache_key(style: str, item: dict[str, Any], digest: str | None = None) -> str:
    """A formatted reference depends only on the style file, its locale, pandoc's version and the item
    (`digest`: the item's `item_digest`, when it is known already)."""
    return f"{style}:{_style_digest(style)}:{digest or item_digest(item)}"


class Citations(dict[str, str]):
    """The citation cache of a build (build/cache/citations.json): formatted references by cache key,
    and the keys `format_all` asked for, so that the cache can be saved with only those."""

    def __init__(self, entries: dict[str, str] | None = None) -> None:
        super().__init__(entries or {})
        self.loaded = len(self)
        self.asked: set[str] = set()

    def changed(self) -> bool:
        """Whether saving would write other entries than were read (every asked key is held after format_all)."""
        return not (len(self) == self.loaded == len(self.asked))


def format_all(items: list[dict[str, Any]], styles: list[str],
               cache: MutableMapping[str, str]) -> dict[str, dict[str, str]]:
    """style -> id -> formatted reference.

    Results are looked up in, and added to, `cache`; the misses are formatted by pandoc in
    chunks of CHUNK items, two calls at a time. Each reference is formatted as if alone (see
    _standalone), so the output depends neither on the cache nor on how the items were chunked.
    A `Citations` cache also records the keys asked for.
    """
    digests = [item_digest(item) for item in items]  # once per item, not once per style
    jobs = [(style, item) for style in styles for item in items]
    keys = [cache_key(style, item, digest) for style in styles for item, digest in zip(items, digests, strict=True)]
    if isinstance(cache, Citations):
        cache.asked.update(keys)
    missing: dict[str, dict[str, dict[str, Any]]] = {style: {} for style in styles}
    for (style, item), k in zip(jobs, keys, strict=True):
        if k not in cache:
            missing[style][k] = item
    calls = [(style, list(todo.items())[start:start + CHUNK])
             for style, todo in missing.items() for start in range(0, len(todo), CHUNK)]
    if calls:
        with tempfile.TemporaryDirectory(prefix="atlas-csl-") as tmp, \
                ThreadPoolExecutor(max_workers=max(1, min(os.cpu_count() or 1, 2))) as pool:
            done = pool.map(lambda n: _run_pandoc([item for _, item in calls[n][1]], calls[n][0], Path(tmp) / f"call{n}"),
                            range(len(calls)))
            for (_, chunk), by_id in zip(calls, done, strict=True):
                for k, item in chunk:
                    cache[k] = by_id[str(item["id"])]
    out: dict[str, dict[str, str]] = {style: {} for style in styles}
    for (style, item), k in zip(jobs, keys, strict=True):
        out[style][item["id"]] = cache[k]
    return out
