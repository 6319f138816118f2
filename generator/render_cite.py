"""Citing and teaching: formatted references, exports, citation-manager metadata, the dataset.

Everything here is derived from the model and the CSL-JSON built in csl.py:
per-study downloads (.bib, .ris, CSL-JSON), reading lists for any set of
studies, Highwire Press `citation_*` tags and schema.org JSON-LD for study
pages, and the downloadable dataset described by a Frictionless data package.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections.abc import MutableMapping
from typing import Any

import orjson

from . import spec
from .csl import STYLES, family_name, format_all, plain_text
from .exports import bibtex_of, person_name, ris_of
from .model import Model, Study
from .schema import CLAIM_LIST_FIELDS


def formatted(model: Model, cache: MutableMapping[str, str] | None = None) -> dict[str, dict[str, str]]:
    """style -> study key -> formatted reference (safe HTML)."""
    items = [s.csl for s in model.studies.values()]
    return format_all(items, list(STYLES), {} if cache is None else cache)


def plain(reference_html: str) -> str:
    """A formatted reference as plain text, for pasting into a syllabus."""
    return html.unescape(re.sub(r"<[^>]+>", "", reference_html))


def csl_json(studies: list[Study]) -> str:
    return json.dumps([s.csl for s in studies], ensure_ascii=False, separators=(",", ":")) + "\n"


# The reference-manager formats: (label, file extension). atlas.js holds the media type of each
# extension, next to the code that makes the download.
REFERENCE_FORMATS = (("BibTeX", "bib"), ("RIS", "ris"), ("CSL-JSON", "json"))


def reference_files(study: Study) -> list[tuple[str, str, str]]:
    """The study's reference in each reference-manager format: (label, file extension, text).

    They are printed on the study page (readable and copyable without script), and atlas.js turns
    each into a download named after the study's key; no file per study is written (issue #17:
    40,000 fewer files at scale).
    """
    texts = {"bib": bibtex_of(study), "ris": ris_of(study), "json": csl_json([study])}
    return [(label, ext, texts[ext]) for label, ext in REFERENCE_FORMATS]


# --- metadata for citation managers -------------------------------------------------

def highwire_tags(study: Study) -> list[tuple[str, str]]:
    """The `citation_*` meta tags that Zotero and Google Scholar read, less the values marked doubtful."""
    return [(tag, value) for tag, value, field in _highwire_tags(study) if field not in study.doubtful]


def _highwire_tags(study: Study) -> list[tuple[str, str, str]]:
    """Each tag with its value and the BibTeX field the value comes from (so a doubtful field's tags go)."""
    item = study.csl
    tags = [("citation_title", study.title, "title")]  # the title as stored, without case protection
    tags += [("citation_author", person_name(p), "author") for p in item.get("author", [])]
    if item["type"] == "book" and not item.get("author"):
        tags += [("citation_author", person_name(p), "editor") for p in item.get("editor", [])]
    if item.get("issued"):
        tags.append(("citation_publication_date", str(item["issued"]["date-parts"][0][0]), "year"))
    container = plain_text(item.get("container-title", ""))
    if item["type"] == "article-journal" and container:
        tags.append(("citation_journal_title", container, "journal"))
    elif item["type"] == "chapter" and container:
        tags.append(("citation_inbook_title", container, "booktitle"))
        tags += [("citation_editor", person_name(p), "editor") for p in item.get("editor", [])]
    elif item["type"] == "speech" and item.get("event"):
        tags.append(("citation_conference_title", str(item["event"]), "eventtitle"))
    elif item["type"] == "report" and item.get("publisher"):
        tags.append(("citation_technical_report_institution", item["publisher"], "institution"))
    for csl_name, tag, field in (("volume", "citation_volume", "volume"), ("issue", "citation_issue", "number"),
                                 ("publisher", "citation_publisher", "publisher"), ("ISBN", "citation_isbn", "isbn"),
                                 ("DOI", "citation_doi", "doi")):
        if item.get(csl_name) and not (tag == "citation_publisher" and item["type"] == "report"):
            tags.append((tag, str(item[csl_name]), field))
    if item.get("page"):
        first, _, last = str(item["page"]).partition("-")
        tags.append(("citation_firstpage", first, "pages"))
        if last:
            tags.append(("citation_lastpage", last, "pages"))
    elif item.get("number") and item["type"] == "article-journal":
        tags.append(("citation_firstpage", str(item["number"]), "eid"))  # an article number, as Google Scholar reads it
    return tags


SCHEMA_TYPES = {"article-journal": "ScholarlyArticle", "book": "Book", "chapter": "Chapter", "report": "Report"}


def json_ld(study: Study) -> str:
    """schema.org metadata, escaped so that it can sit inside a <script> element."""
    item = study.csl

    def person(p: dict[str, str]) -> dict[str, str]:
        if "literal" in p:
            return {"@type": "Organization", "name": p["literal"]}
        return {"@type": "Person", "familyName": family_name(p), "givenName": p.get("given", "")}

    data: dict[str, Any] = {"@context": "https://schema.org", "@type": SCHEMA_TYPES.get(item["type"], "CreativeWork"),
                            "name": study.title}
    creators = item.get("author") or item.get("editor") or []
    data["author" if item.get("author") else "editor"] = [person(p) for p in creators]
    if item.get("issued"):
        data["datePublished"] = str(item["issued"]["date-parts"][0][0])
    if item.get("container-title"):
        container = plain_text(item["container-title"])
        kind = "Periodical" if item["type"] == "article-journal" else "Book"
        data["isPartOf"] = {"@type": kind, "name": container}
        if item["type"] == "article-journal" and item.get("volume"):
            data["isPartOf"] = {"@type": "PublicationVolume", "volumeNumber": item["volume"],
                                "isPartOf": {"@type": "Periodical", "name": container}}
    if item.get("page"):
        data["pagination"] = item["page"]
    if item.get("publisher"):
        data["publisher"] = {"@type": "Organization", "name": item["publisher"]}
    if item.get("DOI"):
        data["identifier"] = {"@type": "PropertyValue", "propertyID": "DOI", "value": item["DOI"]}
        data["sameAs"] = "https://doi.org/" + item["DOI"]
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


# --- the dataset ---------------------------------------------------------------------

def _csv(rows: list[list[str]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


# The texts data/studies.csv carries and the explorer's CSV leaves out (the explorer's index stays small).
LONG_TEXT_COLUMNS = (spec.SUMMARY, spec.CODING_NOTE, spec.SOURCES)


def study_columns(model: Model) -> list[str]:
    """The columns of data/studies.csv, in order: the one list; the explorer's CSV is these less the long texts."""
    return ["key", "authors", "year", "title", "entry_type", "container", "doi", spec.SUMMARY, spec.CODING_NOTE,
            *(f.name for f in model.specs), spec.SOURCES, "unconfirmed_fields"]


DataPieces = tuple[bytes, bytes, bytes]  # a study's row of studies.csv, its rows of claims.csv, its evidence.json record


def study_data(model: Model, key: str) -> DataPieces:
    """What one study contributes to the dataset's files, each piece as the bytes it has there: its row of
    data/studies.csv, its rows of data/claims.csv (one per claim) and its record in data/evidence.json.
    Made from the study alone and the field spec (pages.py keeps them in the render cache by the study's digest)."""
    s = model.studies[key]
    code_fields = [f.name for f in model.specs]
    row = [key, "; ".join(s.authors), s.year, s.title, s.entry_type, s.container, s.doi or "",
           s.summary, s.coding_note, *["; ".join(s.codes[f]) for f in code_fields],
           "; ".join(src.url for src in s.sources), "; ".join(s.unconfirmed)]
    claims = [[key, str(c.index), c.kind, c.claim, c.locator, *["; ".join(c.codes[x]) for x in CLAIM_LIST_FIELDS]]
              for c in s.claims]
    record = {"key": key, "reference": s.csl, spec.SUMMARY: s.summary, spec.CODING_NOTE: s.coding_note,
              "codes": {f: list(s.codes[f]) for f in code_fields},
              spec.SOURCES: [{spec.URL: src.url, spec.KIND: src.kind, spec.NOTE: src.note} for src in s.sources],
              "unconfirmed_fields": list(s.unconfirmed), "doubtful_fields": list(s.doubtful),
              spec.CLAIMS: [{"index": c.index, spec.KIND: c.kind, spec.CLAIM: c.claim, spec.LOCATOR: c.locator,
                             "codes": {x: list(c.codes[x]) for x in CLAIM_LIST_FIELDS}} for c in s.claims]}
    return _csv([row]).encode("utf-8"), _csv(claims).encode("utf-8"), orjson.dumps(record)


def dataset_files(model: Model, dataset: dict[str, Any], bib_text: str, pieces: list[DataPieces]) -> dict[str, bytes]:
    """The dataset's files, as UTF-8, put together from each study's `pieces` (`study_data`, in the order of
    the studies). The same bytes as writing each file in one go (tests/test_render_golden.py): csv writes
    row by row, and a JSON record is written the same inside a list as alone."""
    study_cols = study_columns(model)
    claims_head = ["study", spec.CLAIM, spec.KIND, "text", spec.LOCATOR, *CLAIM_LIST_FIELDS]
    studies_csv = _csv([study_cols]).encode("utf-8") + b"".join(p[0] for p in pieces)
    claims_csv = _csv([claims_head]).encode("utf-8") + b"".join(p[1] for p in pieces)
    records = orjson.Fragment(b"[" + b",".join(p[2] for p in pieces) + b"]")
    evidence = {"title": dataset.get("title", ""), "version": dataset.get("version", ""),
                "released": dataset.get("released", ""), "studies": records}

    def fields(names: list[str], integer: tuple[str, ...] = ()) -> list[dict[str, str]]:
        return [{"name": n, "type": "integer" if n in integer else "string"} for n in names]

    package = {
        "name": "coproduction-evidence-atlas",
        "title": dataset.get("title", ""),
        "version": dataset.get("version", ""),
        "created": f"{dataset['released']}T00:00:00Z" if dataset.get("released") else "",
        "description": "Studies on the co-production of public services, coded by institutional logics, "
                       "sectors, countries, barriers and enablers; list fields are separated by '; '.",
        "licenses": [{"name": dataset.get("licence", ""), "title": dataset.get("licence", "")}],
        "resources": [
            {"name": "studies", "path": "studies.csv", "format": "csv", "mediatype": "text/csv", "encoding": "utf-8",
             "schema": {"fields": fields(study_cols), "primaryKey": ["key"]}},
            {"name": spec.CLAIMS, "path": f"{spec.CLAIMS}.csv", "format": "csv", "mediatype": "text/csv",
             "encoding": "utf-8",
             "description": "One row per claim: kind 'finding' (from the study's own data) or 'argument'.",
             "schema": {"fields": fields(claims_head, integer=(spec.CLAIM,)), "primaryKey": ["study", spec.CLAIM],
                        "foreignKeys": [{"fields": ["study"], "reference": {"resource": "studies", "fields": ["key"]}}]}},
            {"name": "evidence", "path": "evidence.json", "format": "json", "mediatype": "application/json",
             "encoding": "utf-8"},
            {"name": "references", "path": "references.bib", "format": "bib", "mediatype": "application/x-bibtex",
             "encoding": "utf-8"},
        ],
    }
    return {
        "data/studies.csv": studies_csv,
        f"data/{spec.CLAIMS}.csv": claims_csv,
        # compact: at 10,000 studies indentation alone would add a third to the file
        "data/evidence.json": orjson.dumps(evidence) + b"\n",
        "data/datapackage.json": (json.dumps(package, indent=2, ensure_ascii=False) + "\n").encode("utf-8"),
        "data/references.bib": bib_text.encode("utf-8"),
    }
