"""BibTeX entries as CSL-JSON, and formatted references through citeproc-py.

The CSL-JSON is built here from the BibTeX fields rather than by citeproc-py's own
BibTeX reader, which turns book chapters into journal articles. LaTeX is decoded
only in the fields that are shown (decoding everything is ~20x slower).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
from collections.abc import MutableMapping
from concurrent.futures import ProcessPoolExecutor
from html import escape
from pathlib import Path
from typing import Any

from bibtexparser.middlewares.names import parse_single_name_into_parts, split_multiple_persons_names
from pylatexenc.latex2text import LatexNodes2Text

from .load import BibEntry

CSL_DIR = Path(__file__).parent / "csl"
STYLES = {"apa": "APA 7", "chicago-author-date-17th-edition": "Chicago author-date",
          "harvard-cite-them-right": "Harvard"}

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
}

_latex = LatexNodes2Text(math_mode="verbatim", strict_latex_spaces=True)


@functools.lru_cache(maxsize=65536)
def decode(value: str) -> str:
    """LaTeX to plain Unicode text; braces that protect capitals disappear."""
    if "\\" in value or "{" in value or "~" in value or "--" in value:
        try:
            value = _latex.latex_to_text(value)
        except Exception:  # pylatexenc is lenient, but never let a bad field stop a build
            value = value.replace("{", "").replace("}", "")
    return " ".join(value.split())


def persons(value: str) -> list[dict[str, str]]:
    """BibTeX names ('van Eijk, Carola and {Governance International}') as CSL names."""
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
            item[csl_name] = decode(f[bib_name])
    if f.get("pages"):
        item["page"] = re.sub(r"\s*-+\s*", "-", f["pages"].strip())
    if f.get("doi"):
        item["DOI"] = f["doi"].strip()
    year = re.search(r"\d{4}", f.get("year", ""))
    if year:
        item["issued"] = {"date-parts": [[int(year.group())]]}
    return item


def _escaped(value: Any) -> Any:
    """citeproc-py's HTML formatter does not escape variables: escape them before."""
    if isinstance(value, str):
        return escape(value, quote=False)
    if isinstance(value, list):
        return [_escaped(v) for v in value]
    if isinstance(value, dict):
        return {k: (v if k in ("id", "type") else _escaped(v)) for k, v in value.items()}
    return value


@functools.lru_cache(maxsize=8)
def _style(name: str) -> Any:
    from citeproc import CitationStylesStyle

    return CitationStylesStyle(str(CSL_DIR / f"{name}.csl"), validate=False)


def format_html(items: list[dict[str, Any]], style: str = "apa") -> list[str]:
    """Formatted bibliography entries as safe HTML, in the order given."""
    from citeproc import Citation, CitationItem, CitationStylesBibliography, formatter
    from citeproc.source.json import CiteProcJSON

    if not items:
        return []
    edited = {i["id"]: len(i["editor"]) for i in items
              if i["type"] == "book" and i.get("editor") and not i.get("author")}
    # citeproc-py does not suppress a substituted editor, so an edited book would list its
    # editors twice: format the editors as the creators and add the style's label ourselves
    items = [({**{k: v for k, v in i.items() if k != "editor"}, "author": i["editor"]} if i["id"] in edited else i)
             for i in items]
    source = CiteProcJSON([_escaped(i) for i in items])
    bib = CitationStylesBibliography(_style(style), source, formatter.html)
    for item in items:
        bib.register(Citation([CitationItem(item["id"])]))
    # citeproc sorts by the style's rules; return them in the caller's order
    by_key = {str(k): str(v) for k, v in zip(bib.keys, bib.bibliography(), strict=True)}
    out = []
    for item in items:
        html = by_key[item["id"]]
        if item["id"] in edited:
            html = _editor_label(html, style, edited[item["id"]] > 1, item)
        if style == "apa":  # APA 7 capitalises the editor label; citeproc-py leaves the locale's lower case
            html = html.replace(" (eds.),", " (Eds.),").replace(" (ed.),", " (Ed.),")
        out.append(_link_doi(html))
    return out


def _editor_label(html: str, style: str, plural: bool, item: dict[str, Any]) -> str:
    year = str(item["issued"]["date-parts"][0][0]) if item.get("issued") else "n.d."
    if style == "apa":
        return html.replace(f" ({year})", f" ({'Eds.' if plural else 'Ed.'}). ({year})", 1)
    if style.startswith("chicago"):
        return html.replace(f". {year}.", f", {'eds' if plural else 'ed'}. {year}.", 1)
    return html.replace(f" ({year})", f" ({'eds.' if plural else 'ed.'}) ({year})", 1)


@functools.lru_cache(maxsize=8)
def _style_digest(style: str) -> str:
    import citeproc

    data = (CSL_DIR / f"{style}.csl").read_bytes() + str(getattr(citeproc, "__version__", "")).encode()
    return hashlib.sha256(data).hexdigest()[:16]


def cache_key(style: str, item: dict[str, Any]) -> str:
    """A formatted reference depends only on the style file, citeproc-py's version and the item."""
    payload = json.dumps(item, sort_keys=True, ensure_ascii=False).encode()
    return f"{style}:{_style_digest(style)}:{hashlib.sha256(payload).hexdigest()}"


def _format_one(job: tuple[str, dict[str, Any]]) -> str:
    style, item = job
    return format_html([item], style)[0]


def format_all(items: list[dict[str, Any]], styles: list[str],
               cache: MutableMapping[str, str]) -> dict[str, dict[str, str]]:
    """style -> id -> formatted reference, each formatted on its own (citeproc-py takes ~10 ms a reference).

    Results are looked up in, and added to, `cache`; the misses of a large base are formatted on all
    cores. The output does not depend on the cache or on the number of processes.
    """
    jobs = [(style, item) for style in styles for item in items]
    keys = [cache_key(style, item) for style, item in jobs]
    missing = [(k, job) for k, job in zip(keys, jobs, strict=True) if k not in cache]
    if missing:
        todo = [job for _, job in missing]
        workers = min(os.cpu_count() or 1, 8)
        if len(todo) >= 200 and workers > 1:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                done = list(pool.map(_format_one, todo, chunksize=64))
        else:
            done = [_format_one(job) for job in todo]
        for (k, _), html_text in zip(missing, done, strict=True):
            cache[k] = html_text
    out: dict[str, dict[str, str]] = {style: {} for style in styles}
    for (style, item), k in zip(jobs, keys, strict=True):
        out[style][item["id"]] = cache[k]
    return out


def _link_doi(html: str) -> str:
    return re.sub(r"(https://doi\.org/[^\s<]+?)(\.?)$",
                  lambda m: f'<a href="{m.group(1).replace(chr(34), "&quot;")}">{m.group(1)}</a>{m.group(2)}', html)
