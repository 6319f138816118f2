"""The record format as a JSON Schema, generated from the field spec (spec.py) and the codebook.

The same schema validates records in `evidence check` and gives editors
completion (through the yaml-language-server modeline at the top of each record);
`schema/study.schema.json` is this function's output, and
tests/test_cli.py::test_schema_is_not_stale fails when the committed copy is stale.
"""

from __future__ import annotations

import json
from typing import Any

from . import spec
from .codebook import Codebook, Vocabulary, country_codes

SCHEMA_PATH = "schema/study.schema.json"
SCHEMA_ID = "https://coproduction-atlas.example/schema/study.schema.json"

# Orders and field groups, all read from the field spec (generator/spec.py).
CLAIM_LIST_FIELDS = spec.CLAIM_LIST_FIELDS
CLAIM_ORDER = spec.claim_field_order()
APPRAISAL_ORDER = spec.nested_order(spec.APPRAISAL_FIELDS)
APPRAISAL_FIELDS = tuple(f for f in APPRAISAL_ORDER if f != spec.REASON)
SOURCE_ORDER = spec.nested_order(spec.SOURCE_FIELDS)
ARGUMENT_ONLY_TYPES = spec.ARGUMENT_ONLY_TYPES
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
        {"type": "string", "enum": list(country_codes()), "x-vocabulary": spec.COUNTRIES},
        spec.by_name()[spec.COUNTRIES].description,
    )


def _kind_schema(vocab: Vocabulary | None, description: str) -> dict[str, Any]:
    return {**_term_schema(vocab), "description": description} if vocab else {"type": "string", "description": description}


def _text_schema(f: spec.Field) -> dict[str, Any]:  # prose or a one-line value
    return {"type": "string", "minLength": 1, "description": f.description}


def _nested(fields: tuple[spec.Field, ...], by_field: dict[str, Vocabulary]) -> dict[str, Any]:
    """The properties of a nested object (a source, an appraisal) from its declared fields."""
    props: dict[str, Any] = {}
    for f in fields:
        short = f.key
        if f.kind == "term":
            vocab = by_field.get(f.name)
            props[short] = _kind_schema(vocab, f.description or (vocab.title if vocab else short))
        else:
            props[short] = _text_schema(f)
    return props


def _sources_schema(by_field: dict[str, Vocabulary]) -> dict[str, Any]:
    props = _nested(spec.SOURCE_FIELDS, by_field)
    props[spec.URL].update(pattern=URL_PATTERN, **{"x-pattern-words": URL_WORDS})
    return {
        "type": "array",
        "minItems": 1,
        "description": spec.by_name()[spec.SOURCES].description,
        "items": {
            "type": "object",
            "additionalProperties": False,
            "required": [f.key for f in spec.SOURCE_FIELDS if f.required],
            "properties": props,
        },
    }


def _appraisal_schema(by_field: dict[str, Vocabulary]) -> dict[str, Any]:
    appraisal = next(f for f in spec.CLAIM_FIELDS if f.kind == "appraisal-map")
    return {
        "type": "object",
        "additionalProperties": False,
        "required": [f.key for f in spec.APPRAISAL_FIELDS if f.required],
        "description": appraisal.description,
        "properties": _nested(spec.APPRAISAL_FIELDS, by_field),
    }


def _claims_schema(props: dict[str, Any], by_field: dict[str, Vocabulary]) -> dict[str, Any]:
    claim_props: dict[str, Any] = _nested(tuple(f for f in spec.CLAIM_FIELDS if f.kind != "appraisal-map"), by_field)
    for name in CLAIM_LIST_FIELDS:
        if name in props:
            claim_props[name] = {**props[name], "description": f"Subset of the record's {name}."}
    claim_props[spec.APPRAISAL] = _appraisal_schema(by_field)
    return {
        "type": "array",
        "description": spec.by_name()[spec.CLAIMS].description,
        "items": {
            "type": "object",
            "additionalProperties": False,
            "required": [f.key for f in spec.CLAIM_FIELDS if f.required],
            "properties": {k: claim_props[k] for k in CLAIM_ORDER if k in claim_props},
        },
    }


def record_fields(codebook: Codebook) -> tuple[str, ...]:
    """Every top-level field of a record, in canonical order (the spec, completed from the codebook)."""
    return spec.field_names(codebook)


def required_fields(codebook: Codebook) -> tuple[str, ...]:
    return tuple(f.name for f in spec.record_fields(codebook) if f.required)


def record_schema(codebook: Codebook) -> dict[str, Any]:
    props: dict[str, Any] = {}
    by_field = codebook.by_field()
    fields = spec.record_fields(codebook)
    for f in fields:
        if f.kind == "text":
            props[f.name] = _text_schema(f)
        elif f.kind == "iso-countries":
            props[f.name] = _countries_schema()
        elif f.is_coded and f.name in by_field:
            vocab = by_field[f.name]
            term = _term_schema(vocab)
            props[f.name] = _list_of(term, vocab.title) if vocab.multiple else {**term, "description": vocab.title}
        elif f.is_coded:
            props[f.name] = {}  # its vocabulary file is missing (reported once); accept anything meanwhile
    props[spec.SOURCES] = _sources_schema(by_field)
    props[spec.CLAIMS] = _claims_schema(props, by_field)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "Co-production Evidence Atlas study record",
        "description": "One study: evidence/studies/<bibtex-key>.yaml. Generated from evidence/codebook/; "
                       "do not edit by hand (run `evidence schema`).",
        "type": "object",
        "additionalProperties": False,
        "required": [f.name for f in fields if f.required],
        "properties": {f.name: props[f.name] for f in fields},
    }


def schema_text(codebook: Codebook) -> str:
    return json.dumps(record_schema(codebook), indent=2, ensure_ascii=False) + "\n"


# --- screening logs (evidence/screening/*.yaml) -----------------------------------------

CANDIDATE_ORDER = ("query", "rank", "url", "title", "citation", "doi", "decision", "reason", "key", "note")
DECISIONS = ("included", "excluded", "deferred")


def screening_schema(codebook: Codebook) -> dict[str, Any]:
    """One log: a search batch (with its queries) or one review's list of included studies."""
    by_field = codebook.by_field()
    routes = by_field.get(spec.ROUTE)
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
