"""The record format as a JSON Schema, generated from the codebook.

The same schema validates records in `evidence check` and gives editors
completion (through the yaml-language-server modeline at the top of each record);
`schema/study.schema.json` is this function's output, and a test fails when the
committed copy is stale.
"""

from __future__ import annotations

import json
from typing import Any

from .codebook import REQUIRED_VOCABULARIES, Codebook, Vocabulary, country_codes

SCHEMA_PATH = "schema/study.schema.json"
SCHEMA_ID = "https://coproduction-atlas.example/schema/study.schema.json"

# Fields that are not vocabularies. Their order here is the canonical field order.
TEXT_FIELDS = {
    "summary": "Two to four sentences in your own words: what the study did, found or argued. "
               "Never copied from the abstract.",
    "coding_note": "What the coding was based on, what was checked where, and what was left out "
                   "because it could not be confirmed.",
}
# Fields coded on each claim as well as on the record; a claim's lists are subsets of the record's.
CLAIM_LIST_FIELDS = ("logics", "sectors", "countries", "barriers", "enablers")
# Fields the format needs whatever the codebook says; a vocabulary's own field is required when its
# codebook file says `required: true`.
BASE_REQUIRED = ("summary", "countries", "sources")
FIELD_ORDER = ("summary", "study_type", "methods", "countries", "sectors", "logics", "barriers",
               "enablers", "phases", "levels", "concepts", "route", "basis", "sources", "coding_note", "claims")
CLAIM_ORDER = ("kind", "claim", *CLAIM_LIST_FIELDS, "locator", "appraisal")
# The appraisal of an empirical finding: four coded judgements (vocabularies claims.appraisal.*) and a reason.
APPRAISAL_FIELDS = ("design", "reporting", "transparency", "confidence")
APPRAISAL_ORDER = (*APPRAISAL_FIELDS, "reason")
SOURCE_ORDER = ("url", "kind", "note")
# Study types whose claims can only be arguments: they report no data of their own.
ARGUMENT_ONLY_TYPES = ("conceptual", "review", "methodological")
URL_PATTERN = r"^https?://[^\s]+$"
URL_WORDS = "a web address starting with https:// (or http://)"


def _term_schema(vocab: Vocabulary) -> dict[str, Any]:
    return {
        "type": "string",
        "enum": vocab.slugs,
        "x-vocabulary": vocab.name,
        # VS Code's YAML extension shows these beside each value while completing
        "enumDescriptions": [f"{t.label}: {' '.join(t.definition.split())}" for t in vocab.terms.values()],
    }


def _list_of(items: dict[str, Any], description: str) -> dict[str, Any]:
    return {"type": "array", "items": items, "uniqueItems": True, "description": description}


def _countries_schema() -> dict[str, Any]:
    return _list_of(
        {"type": "string", "enum": list(country_codes()), "x-vocabulary": "countries"},
        "ISO 3166-1 alpha-2 codes of the countries studied (GB, FR, NO, ...); [] if none.",
    )


def _kind_schema(vocab: Vocabulary | None, description: str) -> dict[str, Any]:
    return {**_term_schema(vocab), "description": description} if vocab else {"type": "string", "description": description}


def _sources_schema(kinds: Vocabulary | None) -> dict[str, Any]:
    return {
        "type": "array",
        "minItems": 1,
        "description": "Every address the coder read the work at, most important first.",
        "items": {
            "type": "object",
            "additionalProperties": False,
            "required": list(SOURCE_ORDER),
            "properties": {
                "url": {"type": "string", "pattern": URL_PATTERN, "x-pattern-words": URL_WORDS,
                        "description": "The address read, as a reader can open it."},
                "kind": _kind_schema(kinds, "What the address is: publisher's abstract page, author manuscript, ..."),
                "note": {"type": "string", "minLength": 1,
                         "description": "What was read there, e.g. 'abstract only' or 'the whole text'."},
            },
        },
    }


def _appraisal_schema(by_field: dict[str, Vocabulary]) -> dict[str, Any]:
    props: dict[str, Any] = {}
    for name in APPRAISAL_FIELDS:
        vocab = by_field.get(f"claims.appraisal.{name}")
        props[name] = _kind_schema(vocab, vocab.title if vocab else name)
    props["reason"] = {"type": "string", "minLength": 1,
                       "description": "One or two sentences in your own words: why this confidence."}
    return {
        "type": "object",
        "additionalProperties": False,
        "required": list(APPRAISAL_ORDER),
        "description": "Appraisal of an empirical finding (never of an argument).",
        "properties": props,
    }


def _claims_schema(props: dict[str, Any], kinds: Vocabulary | None,
                   by_field: dict[str, Vocabulary] | None = None) -> dict[str, Any]:
    claim_props: dict[str, Any] = {
        "kind": _kind_schema(kinds, "finding (the study's own data) or argument (what a work argues)."),
        "claim": {"type": "string", "minLength": 1, "description": "One claim of the work, in your own words."},
        "locator": {"type": "string", "minLength": 1,
                    "description": "Where the claim is made: 'p. 230', 'section 4', or 'abstract'."},
    }
    for name in CLAIM_LIST_FIELDS:
        if name in props:
            claim_props[name] = {**props[name], "description": f"Subset of the record's {name}."}
    claim_props["appraisal"] = _appraisal_schema(by_field or {})
    return {
        "type": "array",
        "description": "Claims of the work (findings and arguments), each with its own codes and a locator. "
                       "A logic is tied to a barrier or enabler only where one claim carries both.",
        "items": {
            "type": "object",
            "additionalProperties": False,
            "required": ["kind", "claim", "locator"],
            "properties": {k: claim_props[k] for k in CLAIM_ORDER if k in claim_props},
        },
    }


def record_fields(codebook: Codebook) -> tuple[str, ...]:
    """Every top-level field of a record, in canonical order.

    The fields named in FIELD_ORDER, with the field of any further vocabulary in the codebook (a new
    `evidence/codebook/*.yaml` whose `field` is a plain name) placed before `route`, in name order: a new
    vocabulary needs no code change.
    """
    extras = sorted(f for f in codebook.by_field() if "." not in f and f not in FIELD_ORDER)
    at = FIELD_ORDER.index("route")
    return (*FIELD_ORDER[:at], *extras, *FIELD_ORDER[at:])


def required_fields(codebook: Codebook) -> tuple[str, ...]:
    by_field = codebook.by_field()
    return (*BASE_REQUIRED, *(f for f in record_fields(codebook) if f in by_field and by_field[f].required))


def record_schema(codebook: Codebook) -> dict[str, Any]:
    props: dict[str, Any] = {}
    by_field = codebook.by_field()
    for name in record_fields(codebook):
        if name in TEXT_FIELDS:
            props[name] = {"type": "string", "minLength": 1, "description": TEXT_FIELDS[name]}
        elif name == "countries":
            props[name] = _countries_schema()
        elif name in ("claims", "sources"):
            continue
        elif name in by_field:
            vocab = by_field[name]
            term = _term_schema(vocab)
            props[name] = _list_of(term, vocab.title) if vocab.multiple else {**term, "description": vocab.title}
        elif name in REQUIRED_VOCABULARIES.values():
            props[name] = {}  # its vocabulary file is missing (reported once); accept anything meanwhile
    props["sources"] = _sources_schema(by_field.get("sources.kind"))
    props["claims"] = _claims_schema(props, by_field.get("claims.kind"), by_field)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "Co-production Evidence Atlas study record",
        "description": "One study: evidence/studies/<bibtex-key>.yaml. Generated from evidence/codebook/; "
                       "do not edit by hand (run `evidence schema`).",
        "type": "object",
        "additionalProperties": False,
        "required": [f for f in record_fields(codebook) if f in required_fields(codebook) and f in props],
        "properties": props,
    }


def schema_text(codebook: Codebook) -> str:
    return json.dumps(record_schema(codebook), indent=2, ensure_ascii=False) + "\n"


# --- screening logs (evidence/screening/*.yaml) -----------------------------------------

CANDIDATE_ORDER = ("query", "rank", "url", "title", "citation", "doi", "decision", "reason", "key", "note")
DECISIONS = ("included", "excluded", "deferred")


def screening_schema(codebook: Codebook) -> dict[str, Any]:
    """One log: a search batch (with its queries) or one review's list of included studies."""
    by_field = codebook.by_field()
    routes = by_field.get("route")
    reasons = by_field.get("screening.reason")
    text = {"type": "string", "minLength": 1}
    route_values = [s for s in routes.slugs if s != "founding-list"] if routes else ["search", "review"]
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["route", "run", "where", "candidates"],
        "properties": {
            "route": {"type": "string", "enum": route_values, "x-vocabulary": "routes"},
            "run": {"type": "string", "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
                    "x-pattern-words": "a date in the form YYYY-MM-DD", "x-example": "2026-12-01"},
            "where": text,
            "review": text,
            "queries": {"type": "object", "additionalProperties": text},
            "candidates": {
                "type": "array", "minItems": 1,
                "items": {
                    "type": "object", "additionalProperties": False,
                    "required": ["rank", "title", "decision"],
                    "properties": {
                        "query": text, "rank": {"type": "integer"}, "url": text, "title": text, "citation": text,
                        "doi": text, "key": text, "note": text,
                        "decision": {"type": "string", "enum": list(DECISIONS), "x-vocabulary": "decisions"},
                        "reason": _kind_schema(reasons, "Why it was excluded") if reasons else text,
                    },
                },
            },
        },
    }
