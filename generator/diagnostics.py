"""Diagnostics: the one type every stage reports problems with, and the registry of codes.

The registry is the single source for `evidence explain CODE`, the generated
catalogue of codes in the contributor docs, and the fixture meta-test.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class C(StrEnum):
    """Every diagnostic code, by name: a typo at a call site is a type error, and the registry below
    must describe each one (checked when the module is loaded)."""

    FILE_ENCODING = "file-encoding"
    FILE_TOO_LARGE = "file-too-large"
    FILE_MISSING = "file-missing"
    FILE_EXTENSION = "file-extension"
    FILE_UNREADABLE = "file-unreadable"
    FILE_OUTSIDE_PROJECT = "file-outside-project"
    YAML_SYNTAX = "yaml-syntax"
    YAML_TAB = "yaml-tab"
    YAML_DUPLICATE_KEY = "yaml-duplicate-key"
    YAML_ALIAS = "yaml-alias"
    YAML_TAG = "yaml-tag"
    YAML_AMBIGUOUS = "yaml-ambiguous"
    YAML_NUMBER_TOO_LONG = "yaml-number-too-long"
    YAML_NESTING = "yaml-nesting"
    UNSAFE_CHARACTER = "unsafe-character"
    NOT_A_MAPPING = "not-a-mapping"
    UNKNOWN_FIELD = "unknown-field"
    MISSING_FIELD = "missing-field"
    WRONG_TYPE = "wrong-type"
    EMPTY_VALUE = "empty-value"
    UNKNOWN_TERM = "unknown-term"
    UNKNOWN_COUNTRY = "unknown-country"
    DUPLICATE_VALUE = "duplicate-value"
    CLAIM_TERM_NOT_IN_RECORD = "claim-term-not-in-record"
    CLAIM_KIND_MISMATCH = "claim-kind-mismatch"
    FINDING_UNAPPRAISED = "finding-unappraised"
    APPRAISAL_ON_ARGUMENT = "appraisal-on-argument"
    WRONG_FORMAT = "wrong-format"
    RECORD_NOT_IN_BIBLIOGRAPHY = "record-not-in-bibliography"
    RECORD_KEY_INVALID = "record-key-invalid"
    UNKNOWN_STUDY = "unknown-study"
    COUNTRY_WITHOUT_TRADITION = "country-without-tradition"
    BIB_SYNTAX = "bib-syntax"
    BIB_DUPLICATE_KEY = "bib-duplicate-key"
    BIB_NO_KEY = "bib-no-key"
    BIB_UNDEFINED_MACRO = "bib-undefined-macro"
    BIB_CROSSREF_UNRESOLVED = "bib-crossref-unresolved"
    BIB_DUPLICATE_FIELD = "bib-duplicate-field"
    BIB_MISSING_FIELD = "bib-missing-field"
    BIB_DOI_MALFORMED = "bib-doi-malformed"
    BIB_TITLE_CASE = "bib-title-case"
    BIB_ARTICLE_NUMBER = "bib-article-number"
    BIB_UNUSED = "bib-unused"
    BIB_UNCONFIRMED_FIELD = "bib-unconfirmed-field"
    CORRECTIONS_UNKNOWN_KEY = "corrections-unknown-key"
    SCREENING_INCOMPLETE = "screening-incomplete"
    SCREENING_UNKNOWN_RECORD = "screening-unknown-record"
    SCREENING_ROUTE = "screening-route"
    SCREENING_DUPLICATE = "screening-duplicate"
    CODEBOOK_DUPLICATE_TERM = "codebook-duplicate-term"
    CODEBOOK_INVALID_SLUG = "codebook-invalid-slug"
    CODEBOOK_UNKNOWN_SOURCE = "codebook-unknown-source"
    CODEBOOK_COUNTRY_TWICE = "codebook-country-twice"
    CODEBOOK_UNKNOWN_FIELD = "codebook-unknown-field"
    CODING_NOTE_SHORT = "coding-note-short"
    CODEBOOK_MISSING = "codebook-missing"


@dataclass(frozen=True)
class Code:
    code: C
    severity: Severity
    title: str
    explanation: str
    fix: str


@dataclass(frozen=True, order=True)
class Diagnostic:
    path: str
    line: int
    column: int
    code: C
    message: str = field(compare=False)
    hint: str = field(default="", compare=False)
    severity: Severity = field(default=Severity.ERROR, compare=False)

    def as_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "severity": self.severity.value,
            "code": self.code,
            "message": self.message,
            "hint": self.hint,
        }


_E, _W = Severity.ERROR, Severity.WARNING

CODES: dict[C, Code] = {
    c.code: c
    for c in [
        # --- files and YAML -------------------------------------------------
        Code(C.FILE_ENCODING, _E, "File is not UTF-8",
             "Every record, codebook file and the bibliography must be UTF-8 text. "
             "A UTF-8 byte-order mark is accepted; UTF-16 and Latin-1 are not, because "
             "they are silently misread by other tools.",
             "Re-save the file as UTF-8 in your editor (\"Save with encoding: UTF-8\")."),
        Code(C.FILE_TOO_LARGE, _E, "File is too large",
             "Records are small hand-written files. A very large file is almost always a "
             "mistake (a pasted export, a binary file) and would slow every build.",
             "Split the content, or remove what was pasted by mistake."),
        Code(C.FILE_MISSING, _E, "A file the atlas needs is missing",
             "evidence/dataset.yaml, evidence/changes.yaml and references.bib must exist: the site's "
             "version, its history and every reference come from them.",
             "Restore the file from the repository, or create it as the README describes."),
        Code(C.FILE_EXTENSION, _E, "YAML file ends in .yml",
             "Records and codebook files end in '.yaml'. One spelling keeps file names, keys and URLs "
             "predictable and lets `evidence new` and `fmt` find every file.",
             "Rename the file so that it ends in .yaml."),
        Code(C.FILE_UNREADABLE, _E, "File cannot be read",
             "The file exists but could not be opened (permissions, or it is a directory).",
             "Check the file's permissions and that it is a regular file."),
        Code(C.FILE_OUTSIDE_PROJECT, _E, "Symbolic link leaves the project",
             "A record, codebook file or the bibliography is a symbolic link to a file outside the "
             "repository. Its text would be published on the site (or its keys shown in diagnostics), "
             "so it is not read. Links that stay inside the project are followed.",
             "Copy the content into the repository as a regular file, or remove the link."),
        Code(C.YAML_SYNTAX, _E, "YAML does not parse",
             "The file is not valid YAML, so none of it can be checked. Common causes are "
             "a missing space after a colon, unbalanced quotes, or wrong indentation.",
             "Look at the line given; quote text that contains ': ' or starts with a "
             "special character such as '[', '{', '*', '&', '!', '%' or '@'."),
        Code(C.YAML_TAB, _E, "Tab used for indentation",
             "YAML does not allow tab characters in indentation.",
             "Replace the tab with spaces (two spaces per level)."),
        Code(C.YAML_DUPLICATE_KEY, _E, "Key given twice",
             "A mapping has the same key twice. Most YAML readers silently keep only the "
             "last one, which loses data, so the atlas refuses it.",
             "Merge the two entries into one and delete the other."),
        Code(C.YAML_ALIAS, _E, "YAML anchors and aliases are not allowed",
             "Anchors (&name) and aliases (*name) make one value appear in several places. "
             "They make records hard to review and can be abused to make tiny files "
             "expand to gigabytes, so the atlas does not accept them.",
             "Write the value out in full wherever it is needed."),
        Code(C.YAML_TAG, _E, "YAML tag not allowed",
             "Explicit tags such as !!python/object, !!binary or !!set ask the reader to "
             "build special objects. Records only hold text, numbers and lists.",
             "Remove the tag; write the value as plain text."),
        Code(C.YAML_AMBIGUOUS, _W, "Value that YAML 1.1 tools read differently",
             "Words such as yes, no, on and off, and numbers with a leading zero such as "
             "012, are read by older YAML tools as true, false or an octal number. The "
             "atlas reads them as text, but other tools will not.",
             "Put the value in quotes, e.g. \"no\" or \"012\"."),
        Code(C.YAML_NUMBER_TOO_LONG, _E, "Number with too many digits",
             "A plain number in YAML with thousands of digits (Python refuses to read more than 4,300). "
             "No field of a record holds such a number; it is usually pasted by mistake.",
             "Remove the number, or put it in quotes if it is meant as text."),
        Code(C.YAML_NESTING, _E, "Structure nested too deeply",
             "Records are at most a few levels deep. Deeply nested structures are a "
             "mistake or an attack on the reader.",
             "Flatten the structure to the shape shown in the record format."),
        Code(C.UNSAFE_CHARACTER, _E, "Invisible or control character in text",
             "Control characters, zero-width characters and bidirectional overrides "
             "(e.g. U+202E) can hide or reorder text on a page without anyone noticing, "
             "and break links (a DOI ending in U+200B). They are refused in records, the "
             "codebook and every BibTeX key and field.",
             "Delete the character; retype the text around it if you cannot see it."),
        # --- records ----------------------------------------------------------
        Code(C.NOT_A_MAPPING, _E, "File is not a mapping of fields",
             "A record (and a codebook file) must be a YAML mapping: 'field: value' lines "
             "at the top level.",
             "Start from the template that `evidence new KEY` writes."),
        Code(C.UNKNOWN_FIELD, _E, "Unknown field",
             "The field is not part of the format. It is often a misspelling of a real "
             "field; an unknown field would otherwise be silently ignored.",
             "Rename it to the field suggested, or remove it. The fields are listed on the "
             "codebook page."),
        Code(C.MISSING_FIELD, _E, "Required field missing",
             "A required field is absent. Required fields may be empty lists ([]) when "
             "nothing applies, but they must be present, so that 'none' is a decision and "
             "not an omission.",
             "Add the field; use [] if nothing applies."),
        Code(C.WRONG_TYPE, _E, "Value has the wrong type",
             "The value is not of the kind the field takes (text, a list of terms, a list "
             "of findings, ...).",
             "Write the value in the shape given in the hint."),
        Code(C.EMPTY_VALUE, _E, "Empty text",
             "A text field is present but empty.",
             "Write the text, or remove the field if it is optional."),
        Code(C.UNKNOWN_TERM, _E, "Term not in the codebook",
             "Every coded value must be a term of its vocabulary in evidence/codebook/, "
             "so that studies can be compared.",
             "Use the term suggested or one of the allowed terms. To propose a new term, "
             "add it to the codebook file in the same pull request."),
        Code(C.UNKNOWN_COUNTRY, _E, "Not an ISO 3166-1 alpha-2 country code",
             "Countries are written as two-letter ISO 3166-1 codes (GB, FR, NO, ...).",
             "Use the code suggested. The United Kingdom is GB (not UK); Greece is GR."),
        Code(C.DUPLICATE_VALUE, _E, "Value listed twice",
             "A list contains the same value twice.",
             "Delete the repeated value."),
        Code(C.CLAIM_TERM_NOT_IN_RECORD, _E, "Claim uses a code its record does not",
             "A claim's logics, sectors, countries, barriers and enablers must be a subset of its "
             "record's own: the record's lists are the union of what its claims and the whole "
             "work show, so that study-level and claim-level views agree.",
             "Add the code to the record's list too, or remove it from the claim."),
        Code(C.CLAIM_KIND_MISMATCH, _E, "A finding in a work that reports no data",
             "A claim of kind 'finding' is a result from the study's own data. Conceptual, "
             "review and methodological works report no data of their own, so what they say "
             "is coded as 'argument', and the site counts it apart from findings.",
             "Write 'kind: argument', or correct the record's study_type."),
        Code(C.FINDING_UNAPPRAISED, _W, "Empirical finding without an appraisal",
             "Every finding says how far it can be relied on: the design that produced it, whether the "
             "sample and setting and the data and analysis are described in what the coder read, a "
             "confidence level (high, moderate, low, very low) and a one-line reason. Readers see it "
             "beside the finding and in every count. With --strict, as in CI, it is an error.",
             "Add an 'appraisal:' block to the finding; the terms are on the codebook page."),
        Code(C.APPRAISAL_ON_ARGUMENT, _E, "Appraisal on an argument",
             "Only empirical findings are appraised. An argument is not evidence, and rating it would "
             "present it as such.",
             "Remove the appraisal, or change the claim's kind to finding if it reports the study's data."),
        Code(C.WRONG_FORMAT, _E, "Value is not in the expected form",
             "The value is text of the right type but not in the form the field takes, "
             "such as a web address or a date.",
             "Rewrite the value in the form the message names."),
        Code(C.RECORD_NOT_IN_BIBLIOGRAPHY, _E, "Record has no BibTeX entry",
             "A record's file name (without .yaml) is the BibTeX key of the study, and "
             "that key must exist in references.bib.",
             "Add the entry to references.bib, or rename the file to the right key."),
        Code(C.RECORD_KEY_INVALID, _E, "Record file name is not a valid key",
             "Record file names become URLs. Keys are lowercase letters and digits, "
             "optionally with '-' or '_' (e.g. bovaird2007).",
             "Rename the file and the BibTeX key to a lowercase key such as surname2020."),
        Code(C.UNKNOWN_STUDY, _E, "No record for this study",
             "evidence/changes.yaml lists a study, or evidence/dataset.yaml names a founding_study, "
             "that has no record in evidence/studies/.",
             "Correct the key, or add the record."),
        Code(C.COUNTRY_WITHOUT_TRADITION, _W, "Country is neither in a tradition nor listed as unassigned",
             "Countries are compared in groups by administrative tradition. Every country is either "
             "in one tradition of evidence/codebook/traditions.yaml or listed there under 'unassigned' "
             "with the reason; 'not assigned' is a valid state, shown as such on the country's page. "
             "A country used in a record is in neither list, so the codebook has not decided.",
             "Add the country's code to the 'countries' of the tradition that fits, or, if none does, "
             "to a group under 'unassigned' in evidence/codebook/traditions.yaml."),
        # --- bibliography -------------------------------------------------------
        Code(C.BIB_SYNTAX, _E, "BibTeX entry does not parse",
             "The entry could not be read, so it is missing from the bibliography. Common "
             "causes are a missing comma between fields, unbalanced braces, or a missing "
             "comma after the key.",
             "Look at the line given and the one before it."),
        Code(C.BIB_DUPLICATE_KEY, _E, "BibTeX key used twice",
             "Two entries share a key (keys are compared ignoring case, because file "
             "systems and URLs may, and after Unicode NFKC normalisation with look-alike "
             "letters such as the Cyrillic 'і' or the Kelvin sign read as the ASCII ones, "  # noqa: RUF001 - Cyrillic on purpose
             "because a reader cannot tell them apart). Only one of them could be cited.",
             "Rename one key, or delete the duplicate entry."),
        Code(C.BIB_NO_KEY, _E, "BibTeX entry has no key",
             "The entry starts with '@type{,' and no key (some reference managers export "
             "entries like this). It cannot be cited, and a second one would clash with the first.",
             "Write the key after the opening brace: surname and year, e.g. @article{smith2020,"),
        Code(C.BIB_UNDEFINED_MACRO, _E, "BibTeX macro is not defined",
             "A field uses a bare word (a macro) that no @string in the file defines, so its text "
             "would be the macro's own name. BibTeX warns about this too. Month abbreviations "
             "(jan ... dec) are defined.",
             "Define the macro with @string{name = {text}} before the entry, or write the text in "
             "braces."),
        Code(C.BIB_CROSSREF_UNRESOLVED, _E, "crossref or xdata cannot be resolved",
             "An entry names a crossref parent or xdata entry that is not in references.bib, or the "
             "links make a loop. The atlas resolves crossref and xdata as biber does: the child "
             "inherits every field it lacks from its parent in the same file (a book's title becomes "
             "a chapter's booktitle), and the inherited fields appear in references and exports.",
             "Add the parent entry to references.bib, correct the key, or give the fields in the entry itself."),
        Code(C.BIB_DUPLICATE_FIELD, _E, "BibTeX field given twice in an entry",
             "An entry has the same field twice; which one wins differs between tools.",
             "Keep one of the two values."),
        Code(C.BIB_MISSING_FIELD, _E, "BibTeX entry lacks a field its type needs",
             "Each entry type needs certain fields to be cited correctly (an article needs "
             "its journal, a chapter its book title and publisher, ...). Fields inherited "
             "through crossref or xdata count.",
             "Add the field from the publisher's page."),
        Code(C.BIB_DOI_MALFORMED, _E, "DOI is malformed",
             "A DOI starts with '10.', a registrant number, '/' and a suffix, with no "
             "spaces. The doi field holds the bare DOI, not a URL.",
             "Write e.g. doi = {10.1111/j.1540-6210.2007.00773.x}."),
        Code(C.BIB_TITLE_CASE, _W, "Title looks title-cased",
             "Titles are stored in sentence case, the convention of Zotero and of the CSL styles: "
             "APA and Harvard print a title as it is stored, and Chicago title-cases it itself. A "
             "title with most of its words capitalised would print wrongly in APA and Harvard.",
             "Write the title in sentence case: capitalise the first word of the title and of a subtitle, "
             "and protect with braces the proper nouns and acronyms, "
             "e.g. title = {Co-{production} in {France}: A review of {NPM}}."),
        Code(C.BIB_ARTICLE_NUMBER, _W, "Article's pages are a single value",
             "Many journals number their articles instead of paginating them (BMC, PLOS, MDPI, "
             "Frontiers; eLocators such as e33), and reference managers export that number as the "
             "pages. APA 7 prints it as 'Article 9', which it can do only if the number is stored as "
             "biblatex's eid; stored as pages, it prints as a page number.",
             "If the value is the article's number, write eid = {9} instead of pages; if the article "
             "really has one page, write it as a range, pages = {9--9}."),
        Code(C.BIB_UNUSED, _W, "BibTeX entry is not used",
             "No record and no codebook term cites this entry, so it does not appear on the "
             "site.",
             "Write a record for it (`evidence new KEY`), cite it as a codebook source, or "
             "remove it."),
        Code(C.BIB_UNCONFIRMED_FIELD, _E, "Unconfirmed-field list names a field the entry lacks",
             "An entry's 'unconfirmed' and 'doubtful' fields list other fields of the same entry "
             "whose printed values no source has confirmed ('doubtful': probably wrong). The site "
             "says so beside the reference, and leaves doubtful values out of the citation "
             "metadata. A name that is not a field of the entry marks nothing.",
             "List only fields the entry has, separated by commas, e.g. unconfirmed = {volume, pages}."),
        Code(C.CORRECTIONS_UNKNOWN_KEY, _E, "Corrections file names an unknown entry",
             "evidence/CORRECTIONS.md marks each corrected entry with an anchor "
             "(<a id=\"key\"></a>) that study pages link to; the key must be in references.bib.",
             "Correct the key in the anchor, or add the entry to references.bib."),
        # --- screening logs -------------------------------------------------------
        Code(C.SCREENING_INCOMPLETE, _E, "Screening log entry lacks what its decision needs",
             "Every candidate in evidence/screening/ records its decision with what makes it checkable: "
             "an excluded candidate its reason, an included one the key of its record, a deferred one a "
             "note on what is missing; a search candidate names one of the log's queries, and a review's "
             "log names the review.",
             "Add the missing field named in the message."),
        Code(C.SCREENING_UNKNOWN_RECORD, _E, "Included candidate has no record",
             "A candidate the log marks as included must have its record in evidence/studies/ (and so "
             "its BibTeX entry), and a review's log must name a review that has one.",
             "Write the record (`evidence new KEY`), or correct the key."),
        Code(C.SCREENING_ROUTE, _E, "Record's route not backed by a screening log",
             "A record whose route is 'search' or 'review' must appear as included in a screening log of "
             "that route, so that every study added by the protocol can be traced to the query or the "
             "review that found it.",
             "Log the candidate as included, or correct the record's route."),
        Code(C.SCREENING_DUPLICATE, _E, "Work included twice",
             "Two included candidates have the same DOI or, once accents, case and punctuation are set "
             "aside, the same title: one work would count twice.",
             "Exclude the later one with reason 'duplicate' and name the first in its note."),
        # --- codebook -----------------------------------------------------------
        Code(C.CODEBOOK_DUPLICATE_TERM, _E, "Term defined twice",
             "Two terms of one vocabulary share a slug.",
             "Rename or delete one of them."),
        Code(C.CODEBOOK_INVALID_SLUG, _E, "Slug is not a valid URL part",
             "Slugs become URLs; they are lowercase letters, digits and single hyphens.",
             "Write the slug like 'risk-accountability'."),
        Code(C.CODEBOOK_UNKNOWN_SOURCE, _E, "Codebook source is not in the bibliography",
             "A term's source must be a key in references.bib.",
             "Add the entry to references.bib or correct the key."),
        Code(C.CODEBOOK_COUNTRY_TWICE, _E, "Country placed twice in the traditions",
             "A country is in two traditions, or in a tradition and under 'unassigned'. A country "
             "has at most one administrative tradition.",
             "Keep the country in one place."),
        Code(C.CODING_NOTE_SHORT, _W, "Coding note missing or too short",
             "Every record says what its coding rests on: what was read where, how each tie between a "
             "logic and a barrier or enabler was read, and what was left out because it could not be "
             "confirmed. A note under 80 characters cannot say that.",
             "Write a `coding_note` of at least 80 characters: the source read, the readings that are "
             "interpretations, and what was left out."),
        Code(C.CODEBOOK_UNKNOWN_FIELD, _E, "Vocabulary serves no field of the record format",
             "A vocabulary's `field` names where records use its terms: a plain name for a new field of "
             "its own, or one of the nested fields the format declares (generator/spec.py), such as "
             "claims.kind. Any other path would be silently unused.",
             "Give a plain field name, or one of the nested fields listed in the hint."),
        Code(C.CODEBOOK_MISSING, _E, "Codebook vocabulary missing",
             "A vocabulary that the record format needs has no file in evidence/codebook/.",
             "Restore the file from the repository."),
    ]
}


if set(CODES) != set(C):  # the enum and the registry describe the same codes, or nothing loads
    raise ImportError(f"diagnostic codes without an entry or without a name: {sorted(set(C) ^ set(CODES))}")


def suggestions(value: str, options: Iterable[str], n: int = 1, cutoff: float = 0.6) -> list[str]:
    """The options closest to what was written (difflib's ratio), best first: the one did-you-mean search."""
    return difflib.get_close_matches(value, list(options), n=n, cutoff=cutoff)


def nearest(value: str, options: Iterable[str]) -> str | None:
    found = suggestions(value, options)
    return found[0] if found else None


def did_you_mean(*guesses: str | None) -> str:
    """The one wording of a suggestion: "Did you mean 'a'?" or "Did you mean 'a' or 'b'?"; "" for none."""
    named = [g for g in guesses if g]
    return "Did you mean " + " or ".join(f"'{g}'" for g in named) + "?" if named else ""


def diagnostic(code: C, path: str, line: int, column: int, message: str, hint: str = "") -> Diagnostic:
    """Make a diagnostic whose severity comes from the registry (one source)."""
    spec = CODES[code]
    return Diagnostic(path, max(line, 1), max(column, 1), code, message, hint or spec.fix, spec.severity)


def escalate(diags: Iterable[Diagnostic]) -> list[Diagnostic]:
    """--strict: warnings become errors."""
    return [
        Diagnostic(d.path, d.line, d.column, d.code, d.message, d.hint, Severity.ERROR) for d in diags
    ]


def has_errors(diags: Iterable[Diagnostic]) -> bool:
    return any(d.severity is Severity.ERROR for d in diags)


def format_text(diags: list[Diagnostic]) -> str:
    out = []
    for d in sorted(diags):
        out.append(f"{d.path}:{d.line}:{d.column}: {d.severity.value}[{d.code}] {d.message}")
        if d.hint:
            out.append(f"  hint: {d.hint}")
    return "\n".join(out)


def summary_line(diags: list[Diagnostic], files: int) -> str:
    errors = sum(d.severity is Severity.ERROR for d in diags)
    warnings = len(diags) - errors

    def plural(n: int, w: str) -> str:
        return f"{n} {w}{'' if n == 1 else 's'}"

    return f"checked {plural(files, 'file')}: {plural(errors, 'error')}, {plural(warnings, 'warning')}"


def format_json(diags: list[Diagnostic]) -> str:
    return json.dumps([d.as_dict() for d in sorted(diags)], indent=2, ensure_ascii=False)


def _gh_escape(text: str, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def format_github(diags: list[Diagnostic]) -> str:
    """GitHub Actions workflow commands: annotations on the pull request's diff."""
    lines = []
    for d in sorted(diags):
        kind = "error" if d.severity is Severity.ERROR else "warning"
        body = d.message + (f"\n\nhint: {d.hint}" if d.hint else "")
        lines.append(
            f"::{kind} file={_gh_escape(d.path, True)},line={d.line},col={d.column},"
            f"title={_gh_escape(d.code, True)}::{_gh_escape(body)}"
        )
    return "\n".join(lines)


def explain(code: str) -> str:
    """`evidence explain CODE` (the caller has checked that the code exists)."""
    spec = CODES[C(code)]
    return (
        f"{spec.code} ({spec.severity.value}): {spec.title}\n\n"
        f"{spec.explanation}\n\nHow to fix it: {spec.fix}\n"
    )
