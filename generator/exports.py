"""Exports for reference managers: BibTeX and RIS for one study, built from the model."""

from __future__ import annotations

from typing import Any

from .csl import family_name, plain_text
from .model import Study

RIS_TYPES = {"article-journal": "JOUR", "book": "BOOK", "chapter": "CHAP", "report": "RPRT",
             "paper-conference": "CPAPER", "speech": "CPAPER", "thesis": "THES", "webpage": "ELEC",
             "manuscript": "UNPB"}
BIB_ORDER = ("author", "editor", "title", "journal", "booktitle", "edition", "year", "volume", "number", "pages", "eid",
             "publisher", "address", "institution", "school", "type", "eventtitle", "venue", "isbn", "doi", "url")


def bibtex_of(study: Study) -> str:
    """The study's BibTeX entry as stored (fields in a fixed order), so it reads back to the same data."""
    fields = study.bib_fields
    names = [n for n in BIB_ORDER if n in fields] + sorted(n for n in fields if n not in BIB_ORDER)
    width = max((len(n) for n in names), default=0)
    body = "".join(f"  {n.ljust(width)} = {{{fields[n]}}},\n" for n in names)
    return f"@{study.entry_type}{{{study.key},\n{body}}}\n"


def person_name(person: dict[str, str]) -> str:
    """'Family, Given' (particle kept with the family name), or a corporate name as it is."""
    family = family_name(person)
    return f"{family}, {person['given']}" if person.get("given") and "literal" not in person else family


def ris_of(study: Study) -> str:
    item: dict[str, Any] = study.csl
    lines = [("TY", RIS_TYPES.get(item["type"], "GEN"))]
    lines += [("AU", person_name(p)) for p in item.get("author", [])]
    lines += [("A2" if item["type"] == "chapter" else "ED", person_name(p)) for p in item.get("editor", [])]
    lines.append(("TI", plain_text(item.get("title", ""))))
    if item.get("container-title"):
        lines.append(("T2" if item["type"] != "article-journal" else "JO", plain_text(item["container-title"])))
    elif item.get("event"):
        lines.append(("T2", str(item["event"])))  # the conference a paper was given at
    if item.get("event-place"):
        lines.append(("CY", str(item["event-place"])))
    if item.get("issued"):
        lines.append(("PY", str(item["issued"]["date-parts"][0][0])))
    for csl_name, tag in (("volume", "VL"), ("issue", "IS"), ("edition", "ET"), ("publisher", "PB"),
                          ("publisher-place", "CY"), ("ISBN", "SN"), ("DOI", "DO"), ("URL", "UR")):
        if item.get(csl_name):
            lines.append((tag, str(item[csl_name])))
    if item.get("page"):
        start, _, end = str(item["page"]).partition("-")
        lines.append(("SP", start))
        if end:
            lines.append(("EP", end))
    elif item.get("number") and item["type"] == "article-journal":
        lines.append(("SP", str(item["number"])))  # an article number: where Zotero keeps it
    lines.append(("ID", study.key))
    lines.append(("ER", ""))
    return "".join(f"{tag}  - {value}".rstrip() + "\n" for tag, value in lines)
