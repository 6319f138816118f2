"""`evidence new KEY`: a record to fill in, pre-filled from the BibTeX entry and commented from the codebook."""

from __future__ import annotations

import difflib
import html
import re
import textwrap
from pathlib import Path

from .codebook import Codebook
from .csl import csl_item, family_name, format_html, plain_text
from .load import STUDIES_DIR, BibEntry
from .schema import TEXT_FIELDS, record_fields, required_fields

MODELINE = "# yaml-language-server: $schema=../../schema/study.schema.json"


class ScaffoldError(Exception):
    """A refusal with a message and a hint for the contributor."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


def _wrap(text: str, prefix: str = "# ") -> list[str]:
    return textwrap.wrap(text, width=78, initial_indent=prefix, subsequent_indent=prefix)


def _reference(entry: BibEntry) -> str:
    """The APA reference; without pandoc (an install without the 'cite' extra), authors, year and title."""
    item = csl_item(entry)
    try:
        formatted = format_html([item], "apa")[0]
    except RuntimeError:
        names = "; ".join(family_name(p) for p in item.get("author") or item.get("editor") or [])
        year = item["issued"]["date-parts"][0][0] if item.get("issued") else "n.d."
        return f"{names} ({year}). {plain_text(item.get('title', ''))}."
    return html.unescape(re.sub(r"<[^>]+>", "", formatted))


def scaffold(key: str, entries: dict[str, BibEntry], codebook: Codebook) -> str:
    if key not in entries:
        near = difflib.get_close_matches(key, list(entries), n=3, cutoff=0.5)
        hint = ("Did you mean " + " or ".join(f"'{k}'" for k in near) + "? " if near else "") + \
            "Add the work's BibTeX entry to references.bib first; the key is the file name of the record."
        raise ScaffoldError(f"'{key}' is not a key in references.bib", hint)
    entry = entries[key]
    reference = _reference(entry)
    by_field = codebook.by_field()
    lines = [MODELINE, *(_wrap(f"Study: {reference}")), "#",
             "# Fill in every field marked REQUIRED. Uncomment the optional fields that apply.",
             "# Lists may be [] when nothing applies. Use only terms from evidence/codebook/;",
             "# `evidence check` tells you exactly what is wrong, with the line.", ""]

    def field_block(name: str, required: bool, value: str, help_text: str, allowed: list[str] | None) -> None:
        lines.extend(_wrap(("REQUIRED. " if required else "Optional. ") + help_text))
        if allowed:
            lines.extend(_wrap("Allowed: " + ", ".join(allowed)))
        lines.append(f"{name}:{value}" if required else f"# {name}:{value}")
        lines.append("")

    required = required_fields(codebook)
    field_block("summary", True, "", TEXT_FIELDS["summary"], None)
    # every coded field of the format, in canonical order, including vocabularies added to the codebook
    for name in record_fields(codebook):
        if name == "countries":
            field_block("countries", True, "", "ISO 3166-1 alpha-2 codes of the countries studied, e.g. "
                        "[GB, FR, NO]; [] for none.", None)
        if name not in by_field:
            continue
        vocab = by_field[name]
        is_required = name in required
        value = "" if is_required else (" []" if vocab.multiple else "")
        field_block(name, is_required, value, vocab.title + ("." if vocab.multiple else " (one term)."), vocab.slugs)
    lines.extend(_wrap("REQUIRED. Sources: every address you read the work at, what it is, and what you "
                       "read there. Kinds: " + ", ".join(by_field["sources.kind"].slugs if "sources.kind" in by_field
                                                         else [])))
    lines += ["sources:", "  - url:", "    kind:", "    note:", ""]
    field_block("coding_note", False, "", TEXT_FIELDS["coding_note"], None)
    lines.extend(_wrap("Optional. Claims: one each, in your own words. kind: finding (from the study's own data) "
                       "or argument (what the work argues). A logic is tied to a barrier or enabler only where one "
                       "claim carries both; each list is a subset of the record's."))
    lines += ["# claims:", "#   - kind: finding", "#     claim: >-", "#       ...", "#     logics: []",
              "#     sectors: []", "#     countries: []", "#     barriers: []", "#     enablers: []",
              "#     locator: p. 12", ""]
    return "\n".join(lines)


def write_new(root: Path, key: str, entries: dict[str, BibEntry], codebook: Codebook) -> Path:
    target = root / STUDIES_DIR / f"{key}.yaml"
    if target.exists():
        raise ScaffoldError(f"{STUDIES_DIR}/{key}.yaml already exists",
                            "Edit the existing record; `evidence new` never overwrites one.")
    text = scaffold(key, entries, codebook)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return target
