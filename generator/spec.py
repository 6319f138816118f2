"""The record format, declared once: every field of a study record and what each stage does with it.

This is the only place the field list is written (issue #13). The schema, `check`, the scaffold of
`evidence new`, `fmt`, `diff`, agreement, the model, the matrices, the explorer's facets and
side-by-side view, the study page's rows, the term pages, the site's navigation and the codebook page
all read it. What the codebook already says is not repeated here: a vocabulary field's `multiple`
and `required` come from its `evidence/codebook/<name>.yaml`, and a vocabulary added to the codebook
with a plain `field` becomes a field with the defaults of `_added_field` (term pages, a study-page
row, an explorer facet and a nav entry), with no code edit.

Fields nested in claims, sources, appraisals and screening logs are declared below in the same way;
their names in the codebook are dotted paths (`claims.kind`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Literal, Protocol


class _Vocabulary(Protocol):  # what the spec reads of a codebook vocabulary (codebook.Vocabulary)
    @property
    def name(self) -> str: ...
    @property
    def field(self) -> str | None: ...
    @property
    def multiple(self) -> bool: ...
    @property
    def required(self) -> bool: ...


class Codebook(Protocol):  # what the spec reads of the codebook (codebook.Codebook); no import, no cycle
    @property
    def vocabularies(self) -> Mapping[str, _Vocabulary]: ...
    def by_field(self) -> Mapping[str, _Vocabulary]: ...


# text: prose, folded by `fmt`; line: a short value kept on its line (an address, a locator)
Kind = Literal["text", "line", "term", "terms", "iso-countries", "source-list", "claim-list", "appraisal-map",
               "derived"]


@dataclass(frozen=True)
class Field:
    name: str  # the key in a record (or the path in the codebook for nested fields)
    kind: Kind
    vocabulary: str | None = None  # the codebook vocabulary (its file stem); countries use ISO 3166-1
    section: str | None = None  # URL section of the field's term pages; None: no term pages
    required: bool = False  # for a vocabulary field, the codebook file's `required` decides
    multiple: bool = False  # for a vocabulary field, the codebook file's `multiple` decides
    on_claims: bool = False  # coded on each claim too; a claim ties the values it carries
    compared: bool = False  # co-occurrences shown on term pages; side by side in the explorer
    faceted: bool = False  # a facet of the explorer
    related: bool = False  # shared values make two studies related
    agreed: bool = False  # compared between two coders (`evidence agree`)
    shown: int | None = None  # place among the dimensions (study-page rows, term pages); None: not shown
    nav: Literal["top", "vocabularies"] = "vocabularies"  # where its term index sits in the site's navigation
    description: str = ""  # for text fields: what to write (schema, scaffold)

    @property
    def key(self) -> str:
        """The field's key in its mapping: 'claims.locator' -> 'locator' (a top-level field's whole name)."""
        return self.name.rsplit(".", 1)[-1]

    @property
    def is_list(self) -> bool:
        return self.kind in ("terms", "iso-countries")

    @property
    def is_coded(self) -> bool:
        """Coded with terms of a vocabulary (or ISO codes), as opposed to text or structure."""
        return self.kind in ("term", "terms", "iso-countries")


# --- field names with a role (other modules use these names, never the strings) ---------------------

SUMMARY = "summary"
CODING_NOTE = "coding_note"
SOURCES = "sources"
CLAIMS = "claims"
APPRAISAL = "appraisal"  # a claim's
# the keys of a claim, a source and an appraisal
KIND, CLAIM, LOCATOR = "kind", "claim", "locator"  # a claim's (and KIND a source's)
URL, NOTE = "url", "note"  # a source's
REASON = "reason"  # an appraisal's

LOGICS = "logics"  # the institutional logics: rows of the synthesis, the gap map and most matrices
TIES = ("barriers", "enablers")  # what a claim ties a logic to (the synthesis by logic)
COUNTRIES = "countries"  # ISO 3166-1 codes; the map, traditions and the NO-is-Norway rule
TRADITIONS = "traditions"  # derived from countries
SECTORS = "sectors"  # the gap map's columns
STUDY_TYPE = "study_type"  # decides whether a work can report findings
BASIS = "basis"  # what the coding rests on
CONFIDENCE = "confidence"  # derived from the appraisals
ROUTE = "route"  # how the study entered the atlas (screening logs back the search and review routes)
# Study types whose claims can only be arguments: they report no data of their own.
ARGUMENT_ONLY_TYPES = ("conceptual", "review", "methodological")
EMPIRICAL = "empirical"

# --- top-level fields of a record, in canonical order (the order `fmt` writes) ----------------------

RECORD_FIELDS: tuple[Field, ...] = (
    Field(SUMMARY, "text", required=True,
          description="Two to four sentences in your own words: what the study did, found or argued. "
                      "Never copied from the abstract."),
    Field(STUDY_TYPE, "term", "study_types", "study-types", faceted=True, agreed=True, shown=9),
    Field("methods", "terms", "methods", "methods", faceted=True, agreed=True, shown=10),
    Field(COUNTRIES, "iso-countries", None, "countries", required=True, multiple=True, on_claims=True,
          compared=True, faceted=True, related=True, agreed=True, shown=3, nav="top",
          description="ISO 3166-1 alpha-2 codes of the countries studied (GB, FR, NO, ...); [] if none."),
    Field(SECTORS, "terms", "sectors", "sectors", on_claims=True, compared=True, faceted=True, related=True,
          agreed=True, shown=2, nav="top"),
    Field(LOGICS, "terms", "logics", "logics", on_claims=True, compared=True, faceted=True, related=True,
          agreed=True, shown=1, nav="top"),
    Field("barriers", "terms", "barriers", "barriers", on_claims=True, compared=True, faceted=True, related=True,
          agreed=True, shown=5, nav="top"),
    Field("enablers", "terms", "enablers", "enablers", on_claims=True, compared=True, faceted=True, related=True,
          agreed=True, shown=6, nav="top"),
    Field("phases", "terms", "phases", "phases", faceted=True, related=True, agreed=True, shown=7),
    Field("levels", "terms", "levels", "levels", faceted=True, related=True, agreed=True, shown=8),
    Field("concepts", "terms", "concepts", "concepts", faceted=True, related=True, agreed=True, shown=11),
    Field(ROUTE, "term", "routes", "routes", faceted=True, shown=14),
    Field(BASIS, "term", "basis", "basis", faceted=True, shown=12),
    Field(SOURCES, "source-list", required=True,
          description="Every address the coder read the work at, most important first."),
    Field(CODING_NOTE, "text", required=True,
          description="What the coding was based on, what was checked where, and what was left out "
                      "because it could not be confirmed."),
    Field(CLAIMS, "claim-list",
          description="Claims of the work (findings and arguments), each with its own codes and a locator. "
                      "A logic is tied to a barrier or enabler only where one claim carries both."),
)
ADDED_BEFORE = ROUTE  # where fields of vocabularies added to the codebook go in the canonical order

# Dimensions the model derives from coded fields; they are never written in a record.
DERIVED_FIELDS: tuple[Field, ...] = (
    # a country's administrative tradition (codebook: traditions), on records and on claims
    Field(TRADITIONS, "derived", "traditions", "traditions", on_claims=True, faceted=True, shown=4, nav="top"),
    # the confidence levels of a study's appraised findings
    Field(CONFIDENCE, "derived", "confidence", "confidence", faceted=True, shown=13),
)

# --- nested fields -----------------------------------------------------------------------------------

CLAIM_FIELDS: tuple[Field, ...] = (
    Field(f"{CLAIMS}.{KIND}", "term", "claim_kinds", required=True,
          description="finding (the study's own data) or argument (what a work argues)."),
    Field(f"{CLAIMS}.{CLAIM}", "text", required=True, description="One claim of the work, in your own words."),
    # then the record fields with on_claims, in record order
    Field(f"{CLAIMS}.{LOCATOR}", "line", required=True,
          description="Where the claim is made: 'p. 230', 'section 4', or 'abstract'."),
    Field(f"{CLAIMS}.{APPRAISAL}", "appraisal-map", description="Appraisal of an empirical finding (never of an argument)."),
)
APPRAISAL_FIELDS: tuple[Field, ...] = (
    Field("claims.appraisal.design", "term", "designs", required=True, agreed=True),
    Field("claims.appraisal.reporting", "term", "reporting", required=True),
    Field("claims.appraisal.transparency", "term", "transparency", required=True),
    Field("claims.appraisal.confidence", "term", "confidence", required=True, agreed=True),
    Field(f"{CLAIMS}.{APPRAISAL}.{REASON}", "text", required=True,
          description="One or two sentences in your own words: why this confidence."),
)
SOURCE_FIELDS: tuple[Field, ...] = (
    Field(f"{SOURCES}.{URL}", "line", required=True, description="The address read, as a reader can open it."),
    Field(f"{SOURCES}.{KIND}", "term", "source_kinds", required=True,
          description="What the address is: publisher's abstract page, author manuscript, ..."),
    Field(f"{SOURCES}.{NOTE}", "text", required=True,
          description="What was read there, e.g. 'abstract only' or 'the whole text'."),
)
SCREENING_FIELDS: tuple[Field, ...] = (
    Field("screening.reason", "term", "exclusion_reasons", description="Why it was excluded"),
)

# The matrices of the comparison pages: (row field, column field), in the order listed.
MATRICES: tuple[tuple[str, str], ...] = (
    (LOGICS, "barriers"),
    (LOGICS, "enablers"),
    (LOGICS, SECTORS),
    (SECTORS, "barriers"),
    (SECTORS, "enablers"),
    (COUNTRIES, LOGICS),
    (COUNTRIES, "barriers"),
    (TRADITIONS, LOGICS),
    (TRADITIONS, "barriers"),
    (LOGICS, "phases"),
    (SECTORS, STUDY_TYPE),
)
GAP_MAP = (LOGICS, SECTORS)
# The explorer's side-by-side view: the dimensions whose terms can be set side by side (the first is the
# default), and for each the rows compared: the logics (the sectors, for logics) and what claims tie them to.
SIDE_BY_SIDE = (COUNTRIES, SECTORS, LOGICS, TRADITIONS)


def side_by_side_rows(field: str) -> tuple[str, ...]:
    return (SECTORS if field == LOGICS else LOGICS, *TIES)


# --- derived views -----------------------------------------------------------------------------------

def _added_field(name: str, vocabulary: str, multiple: bool) -> Field:
    """A field for a vocabulary added to the codebook: term pages, a study-page row, an explorer facet."""
    return Field(name, "terms" if multiple else "term", vocabulary, vocabulary.replace("_", "-"),
                 multiple=multiple, faceted=True, agreed=True, shown=100)


def record_fields(codebook: Codebook | None = None) -> tuple[Field, ...]:
    """Every top-level field of a record, in canonical order, completed from the codebook.

    A vocabulary field takes `multiple` and `required` from its codebook file; a vocabulary of the
    codebook whose `field` is a plain name not declared here is added before `route`, in name order.
    """
    if codebook is None:
        return RECORD_FIELDS
    by_field = codebook.by_field()
    declared = {f.name for f in RECORD_FIELDS}
    fields = [replace(f, multiple=by_field[f.name].multiple, required=by_field[f.name].required)
              if f.vocabulary and f.name in by_field else f for f in RECORD_FIELDS]
    added = sorted((v.field, v.name, v.multiple, v.required) for v in codebook.vocabularies.values()
                   if v.field and "." not in v.field and v.field not in declared)
    at = [f.name for f in fields].index(ADDED_BEFORE)
    fields[at:at] = [replace(_added_field(name, vocab, multiple), required=required)
                     for name, vocab, multiple, required in added]
    return tuple(fields)


def field_names(codebook: Codebook | None = None) -> tuple[str, ...]:
    return tuple(f.name for f in record_fields(codebook))


def dimensions(codebook: Codebook | None = None) -> tuple[Field, ...]:
    """The fields shown as dimensions (term pages, study-page rows), derived ones included, in display order."""
    shown = [f for f in (*record_fields(codebook), *DERIVED_FIELDS) if f.shown is not None]
    return tuple(sorted(shown, key=lambda f: (f.shown or 0, f.name)))


def claim_list_fields(codebook: Codebook | None = None) -> tuple[str, ...]:
    """The record fields coded on claims too, in display order (as a claim's keys are written)."""
    return tuple(f.name for f in dimensions(codebook) if f.on_claims and f.kind != "derived")


CLAIM_LIST_FIELDS = claim_list_fields()


def claim_field_order() -> tuple[str, ...]:
    """A claim's keys in the order `fmt` writes them: kind and claim, the coded lists, then the rest."""
    head, tail = CLAIM_FIELDS[:2], CLAIM_FIELDS[2:]
    return (*nested_order(head), *CLAIM_LIST_FIELDS, *nested_order(tail))


def nested_order(fields: tuple[Field, ...]) -> tuple[str, ...]:
    return tuple(f.key for f in fields)


def derived_names() -> tuple[str, ...]:
    return tuple(f.name for f in DERIVED_FIELDS)


def required_vocabularies() -> dict[str, str | None]:
    """Vocabulary name -> the field it serves (None for a derived one): a missing file is a diagnostic."""
    out: dict[str, str | None] = {}
    for f in (*RECORD_FIELDS, *CLAIM_FIELDS, *APPRAISAL_FIELDS, *SOURCE_FIELDS, *SCREENING_FIELDS):
        if f.vocabulary:
            out.setdefault(f.vocabulary, f.name)
    for f in DERIVED_FIELDS:
        if f.vocabulary:
            out.setdefault(f.vocabulary, None)
    return out


def known_field_paths() -> frozenset[str]:
    """Every declared field coded with terms: a codebook file naming another nested path is a diagnostic."""
    return frozenset(f.name for f in (*RECORD_FIELDS, *CLAIM_FIELDS, *APPRAISAL_FIELDS, *SOURCE_FIELDS,
                                      *SCREENING_FIELDS) if f.is_coded)


def by_name(codebook: Codebook | None = None) -> dict[str, Field]:
    return {f.name: f for f in (*record_fields(codebook), *DERIVED_FIELDS)}
