"""The bibliography's own checks: what each entry needs, and how its fields are written.

They need nothing but the parsed bibliography, so `evidence check` runs them in the process that parses a
large references.bib (load.read_ahead), which imports this module and not the rest of the check: the
codebook's, the records' and the screening's checks, with pycountry (about 0.015 s to import)."""

from __future__ import annotations

import re

from .diagnostics import C, Diagnostic, diagnostic, did_you_mean, nearest
from .load import PAGE_RANGE_DASHES, QUALIFYING_FIELDS, Bibliography, qualified_fields

DOI_PATTERN = re.compile(r"^10\.\d{4,9}/\S+$")

# Fields each BibTeX type needs to be cited correctly ("a|b": either will do).
BIB_REQUIRED: dict[str, tuple[str, ...]] = {
    "article": ("author", "title", "journal", "year"),
    "book": ("author|editor", "title", "publisher", "year"),
    "incollection": ("author", "title", "booktitle", "publisher", "year"),
    "inbook": ("author|editor", "title", "chapter|pages", "publisher", "year"),
    "inproceedings": ("author", "title", "booktitle", "year"),
    "unpublished": ("author", "title", "year"),
    "techreport": ("author", "title", "institution", "year"),
    "report": ("author", "title", "institution", "year"),
    "phdthesis": ("author", "title", "school", "year"),
    "mastersthesis": ("author", "title", "school", "year"),
}


def bibliography_diagnostics(bib: Bibliography) -> list[Diagnostic]:
    """The bibliography's own diagnostics (entries lacking what their type needs, ...), which need nothing
    but the bibliography: `evidence check` has them worked out where a large one is parsed (load_project)."""
    diags: list[Diagnostic] = []
    _check_bibliography(bib, diags)
    return diags


def _check_bibliography(bib: Bibliography, diags: list[Diagnostic]) -> None:
    for entry in bib.entries.values():
        for need in BIB_REQUIRED.get(entry.entry_type, ()):
            options = need.split("|")
            if not any(entry.fields.get(o, "").strip() for o in options):
                parents = ", ".join(f"'{p}'" for p in entry.parents)
                hint = (f"Neither the entry nor its crossref/xdata parent {parents} gives it; add it to one of them."
                        if entry.parents else "")
                diags.append(diagnostic(C.BIB_MISSING_FIELD, bib.path, entry.line, 1,
                                        f"@{entry.entry_type} '{entry.key}' has no {' or '.join(options)}", hint))
        for qualifier in QUALIFYING_FIELDS:
            for name in qualified_fields(entry.fields, qualifier):
                if name not in entry.fields or name in QUALIFYING_FIELDS:
                    have = [f for f in entry.fields if f not in QUALIFYING_FIELDS]
                    guess = {"issue": "number", "place": "address"}.get(name) or nearest(name, have)
                    diags.append(diagnostic(
                        C.BIB_UNCONFIRMED_FIELD, bib.path, entry.field_lines.get(qualifier, entry.line), 1,
                        f"'{qualifier}' in '{entry.key}' names '{name}', which is not a field of the entry",
                        (did_you_mean(guess) + " " if guess else "") + "The entry's fields: " + ", ".join(have) + "."))
        doi = entry.fields.get("doi")
        if doi is not None and "doi" not in entry.inherited and not DOI_PATTERN.match(doi.strip()):
            bare = re.sub(r"^(https?://(dx\.)?doi\.org/|doi:\s*)", "", doi.strip(), flags=re.I)
            hint = (f"Write doi = {{{bare}}}." if DOI_PATTERN.match(bare) else
                    "Write the bare DOI, e.g. doi = {10.1111/j.1540-6210.2007.00773.x}.")
            diags.append(diagnostic(C.BIB_DOI_MALFORMED, bib.path, entry.field_lines.get("doi", entry.line), 1,
                                    f"'{doi}' in '{entry.key}' is not a bare DOI", hint))
        pages = entry.fields.get("pages", "").strip()
        single = pages and not any(dash in pages for dash in PAGE_RANGE_DASHES)
        if entry.entry_type == "article" and single and "pages" not in entry.inherited:
            diags.append(diagnostic(C.BIB_ARTICLE_NUMBER, bib.path, entry.field_lines.get("pages", entry.line), 1,
                                    f"@article '{entry.key}' has pages = {{{pages}}}, a single value",
                                    f"If {pages} is the article's number, write eid = {{{pages}}} instead of pages; "
                                    f"if the article really has one page, write pages = {{{pages}--{pages}}}."))
        _check_title_case(bib, entry.key, entry.fields, entry.field_lines, entry.line, diags)


# Words that stay lower case in a title-cased title, so they say nothing about the case convention.
_MINOR_WORDS = frozenset("a an and as at but by down for from in into nor of off on onto or over per so than the "
                         "till to up upon via vs with yet".split())
_SUBTITLE = re.compile(r"(?:[:?!.]|—|--)\s+")


def title_case_counts(title: str) -> tuple[int, int]:
    """(capitalised, counted) words of a BibTeX title, not counting the first word of the title and of
    each subtitle, minor words, and anything in braces (protected on purpose)."""
    unbraced = re.sub(r"\{[^{}]*\}", " ", re.sub(r"\{[^{}]*\}", " ", title))  # two levels of nesting
    counted = capitalised = 0
    for part in _SUBTITLE.split(unbraced):
        words = re.findall(r"[^\W\d_][\w'’-]*", part)
        for word in words[1:]:
            if word.lower() in _MINOR_WORDS:
                continue
            counted += 1
            capitalised += word[0].isupper()
    return capitalised, counted


def _check_title_case(bib: Bibliography, entry_key: str, fields: dict[str, str], lines: dict[str, int],
                      default_line: int, diags: list[Diagnostic]) -> None:
    for name in ("title", "booktitle"):
        title = fields.get(name, "")
        if title.isascii() and title[1:] == title[1:].lower():
            continue  # no capital after the first letter, which title_case_counts never counts: nothing to say
        capitalised, counted = title_case_counts(title)
        if counted >= 2 and capitalised * 2 > counted:
            diags.append(diagnostic(C.BIB_TITLE_CASE, bib.path, lines.get(name, default_line), 1,
                                    f"the {name} of '{entry_key}' looks title-cased "
                                    f"({capitalised} of {counted} words capitalised)"))
