"""jsonschema errors as located diagnostics: the one translator, used by `check` and the screening logs.

A file is first checked by a compiled yes-or-no validator (quickschema.py); only a file it rejects
is walked by jsonschema, which reports every problem, each turned into a `path:line:col` diagnostic
with a hint in words (never a regular expression).
"""

from __future__ import annotations

from collections import Counter
from functools import cached_property
from typing import TYPE_CHECKING, Any

from . import spec
from .codebook import suggest_country
from .diagnostics import C, Diagnostic, diagnostic, did_you_mean, nearest
from .load import Document
from .quickschema import compile_schema

if TYPE_CHECKING:  # jsonschema takes ~0.15 s to import, and is needed only when a file is invalid
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError


def _name(path: tuple[Any, ...]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "the file"


_TYPE_WORDS = {"array": "a list", "string": "text", "object": "a mapping of fields",
               "boolean": "true or false", "integer": "a whole number"}


def describe(value: Any) -> str:
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    return "a mapping"


class Validator:
    """jsonschema for located, complete diagnostics; a compiled yes-or-no check first.

    Almost every record is valid, and the compiled check (quickschema.py) is many times faster
    than walking the schema; only a record it rejects is walked by jsonschema to report every
    problem, and jsonschema is imported only then. The test
    test_check_fixtures.py::test_the_compiled_and_the_full_schema_check_agree_on_every_record keeps the
    two in agreement on every shipped and fixture record.
    """

    def __init__(self, schema: dict[str, Any]) -> None:
        self.schema = schema
        self.quick = compile_schema(schema)

    @cached_property
    def full(self) -> Draft202012Validator:
        from jsonschema import Draft202012Validator

        return Draft202012Validator(self.schema)

    def is_valid(self, data: Any) -> bool:
        return self.quick(data) if self.quick is not None else self.full.is_valid(data)


def schema_diagnostics(doc: Document, validator: Validator | Draft202012Validator) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    if isinstance(validator, Validator):
        if validator.is_valid(doc.data):
            return out
        validator = validator.full
    errors = sorted(validator.iter_errors(doc.data), key=lambda e: [str(p) for p in e.absolute_path])
    seen: set[tuple[object, ...]] = set()
    for err in errors:
        for found in _one(doc, err):
            ident = (found.line, found.column, found.code, found.message)
            if ident not in seen:  # jsonschema repeats some errors (one per missing property)
                seen.add(ident)
                out.append(found)
    return out


def _one(doc: Document, err: ValidationError) -> list[Diagnostic]:  # noqa: C901 - flat dispatch on the failed jsonschema keyword
    where = tuple(err.absolute_path)
    line, col = doc.at(where)
    name = _name(where)
    kind = err.validator
    schema = err.schema if isinstance(err.schema, dict) else {}
    expected: Any = err.validator_value
    instance: Any = err.instance
    if kind == "required":
        present = err.instance if isinstance(err.instance, dict) else {}
        props = schema.get("properties", {})
        def how(field: str) -> str:
            prop = props.get(field, {})
            if prop.get("type") == "array":
                return " with at least one entry." if prop.get("minItems") else " ([] if nothing applies)."
            return " with one of its terms." if prop.get("enum") else " with its text."

        return [diagnostic(C.MISSING_FIELD, doc.path, line, col,
                           f"required field '{field}' is missing" + (f" in {name}" if where else ""),
                           f"Add '{field}:'" + how(field))
                for field in expected if field not in present]
    if kind == "additionalProperties":
        allowed = list(schema.get("properties", {}))
        out = []
        for extra in sorted(set(instance) - set(allowed)):
            kline, kcol = doc.at((*where, extra, "<key>"))
            guess = nearest(extra, allowed)
            hint = (did_you_mean(guess) or "Remove it.") + " Allowed fields: " + ", ".join(allowed) + "."
            out.append(diagnostic(C.UNKNOWN_FIELD, doc.path, kline, kcol,
                                  f"unknown field '{extra}'" + (f" in {name}" if where else ""), hint))
        return out
    if kind == "type":
        wanted = _TYPE_WORDS.get(str(expected), str(expected))
        field_name = str(where[-1]) if where else name
        if wanted == "a list":
            example = "[]" if err.instance is None else f"[{err.instance}]"
            hint = f"Write a list, e.g. {field_name}: {example}"
        elif wanted == "text" and schema.get("enum"):
            hint = f"Write one of: {', '.join(map(str, schema['enum']))}."
        elif wanted == "text":
            hint = f"Write the text after '{field_name}:'."
        else:
            hint = ""
        return [diagnostic(C.WRONG_TYPE, doc.path, line, col,
                           f"{name} must be {wanted}, not {describe(err.instance)}", hint)]
    if kind == "enum":
        vocab = schema.get("x-vocabulary", "")
        value = err.instance
        if not isinstance(value, str):
            return [diagnostic(C.WRONG_TYPE, doc.path, line, col,
                               f"{name} must be text, not {describe(value)}")]
        if vocab == spec.COUNTRIES:
            guess = suggest_country(value)
            hint = did_you_mean(guess) or "Use the two-letter ISO 3166-1 code."
            return [diagnostic(C.UNKNOWN_COUNTRY, doc.path, line, col,
                               f"'{value}' is not an ISO 3166-1 alpha-2 country code", hint)]
        allowed = [str(v) for v in expected]
        guess = nearest(value, allowed) or nearest(value.lower().replace(" ", "-").replace("_", "-"), allowed)
        hint = (did_you_mean(guess) + " " if guess else "") + "Allowed: " + ", ".join(allowed) + "."
        return [diagnostic(C.UNKNOWN_TERM, doc.path, line, col,
                           f"'{value}' is not a term of the '{vocab}' vocabulary", hint)]
    if kind == "uniqueItems":
        counts = Counter(map(repr, instance))
        seen: set[str] = set()
        out = []
        for i, item in enumerate(instance):
            if counts[repr(item)] > 1:
                if repr(item) in seen:
                    iline, icol = doc.at((*where, i))
                    out.append(diagnostic(C.DUPLICATE_VALUE, doc.path, iline, icol,
                                          f"'{item}' is listed twice in {name}"))
                seen.add(repr(item))
        return out
    if kind in ("minLength", "minItems"):
        return [diagnostic(C.EMPTY_VALUE, doc.path, line, col, f"{name} is empty")]
    if kind == "pattern" and not schema.get("x-pattern-words"):  # never show a contributor a regular expression
        return [diagnostic(C.WRONG_FORMAT, doc.path, line, col, f"{name} is not in the form the field takes, "
                           f"not '{instance}'", "See the field's description in the codebook or the README.")]
    if kind == "pattern" and schema.get("x-pattern-words"):
        words = schema["x-pattern-words"]
        example = f", e.g. {schema['x-example']}." if schema.get("x-example") else "."
        return [diagnostic(C.WRONG_FORMAT, doc.path, line, col, f"{name} must be {words}, not '{instance}'",
                           f"Write {words}{example}")]
    return [diagnostic(C.WRONG_TYPE, doc.path, line, col, f"{name}: {err.message}")]
