"""`evidence new KEY`: a record to fill in, pre-filled from the BibTeX entry and commented from the codebook."""

from __future__ import annotations

import html
import re
import textwrap
from pathlib import Path

from . import spec
from .codebook import Codebook
from .csl import csl_item, family_name, format_html, plain_text
from .diagnostics import did_you_mean, suggestions
from .load import STUDIES_DIR, BibEntry

MODELINE = "# yaml-language-server: $schema=../../schema/study.schema.json"


class ScaffoldError(Exception):
    """A refusal with a message and a hint for the contributor."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


def _wrap(text: str, prefix: str = "# ") -> list[str]:
    return textwrap.wrap(text, width=78, initial_indent=prefix, subsequent_indent=prefix)


def _reference(entry: BibEntry) -> str:
    """The APA reference; without pandoc (an install without the 'site' extra), authors, year and title."""
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
        near = suggestions(key, entries, n=3, cutoff=0.5)
        hint = (did_you_mean(*near) + " " if near else "") + \
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

    # every field of the format, in canonical order, including vocabularies added to the codebook
    for f in spec.record_fields(codebook):
        if f.kind == "text":
            field_block(f.name, f.required, "", f.description, None)
        elif f.kind == "iso-countries":
            field_block(f.name, f.required, "", f.description, None)
        elif f.kind == "source-list":
            kinds = by_field.get(next(s.name for s in spec.SOURCE_FIELDS if s.kind == "term"))
            lines.extend(_wrap("REQUIRED. Sources: every address you read the work at, what it is, and what you "
                               "read there. Kinds: " + ", ".join(kinds.slugs if kinds else [])))
            lines += [f"{f.name}:", *(("  - " if i == 0 else "    ") + s.key + ":"
                                      for i, s in enumerate(spec.SOURCE_FIELDS)), ""]
        elif f.kind == "claim-list":
            lines.extend(_wrap("Optional. Claims: one each, in your own words. kind: finding (from the study's own "
                               "data) or argument (what the work argues). A logic is tied to a barrier or enabler "
                               "only where one claim carries both; each list is a subset of the record's."))
            lines += [f"# {f.name}:", "#   - kind: finding", "#     claim: >-", "#       ...",
                      *(f"#     {name}: []" for name in spec.CLAIM_LIST_FIELDS), "#     locator: p. 12", ""]
        elif f.name in by_field:
            vocab = by_field[f.name]
            value = "" if f.required else (" []" if vocab.multiple else "")
            field_block(f.name, f.required, value, vocab.title + ("." if vocab.multiple else " (one term)."),
                        vocab.slugs)
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
