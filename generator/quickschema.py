"""A yes-or-no JSON Schema check, compiled once into Python closures.

Almost every record is valid, so `check` first asks only whether it is, and walks jsonschema for
the located, complete diagnostics only when it is not. jsonschema takes ~0.2 ms a record to say
yes, and fastjsonschema (used before) tested an enum of 249 countries as 249 comparisons; here an
enum is a set. Only the keywords the atlas's schemas use are compiled, each as jsonschema's
Draft 2020-12 validator reads it; a schema with any other keyword is not compiled at all
(`compile_schema` returns None) and jsonschema answers alone. A "no" is never final: the caller
asks jsonschema for the errors, so a rare unsure case answers "no" (a list of items that are not
all text under `uniqueItems`).
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Callable
from typing import Any

Check = Callable[[Any], bool]

# Keywords that never change whether an instance is valid.
_ANNOTATIONS = frozenset({"$schema", "$id", "$comment", "title", "description", "default", "examples",
                          "deprecated", "readOnly", "writeOnly", "enumDescriptions"})


class _Unsupported(Exception):
    pass


def compile_schema(schema: Any) -> Check | None:
    """A function that says whether an instance is valid, or None when the schema uses a keyword
    that is not compiled here."""
    try:
        return _compile(schema)
    except _Unsupported:
        return None


def _always(_: Any) -> bool:
    return True


def _never(_: Any) -> bool:
    return False


def _is_integer(value: Any) -> bool:  # as jsonschema's draft 2020-12 type checker: 1.0 is an integer
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Number) and not isinstance(value, bool)


_TYPES: dict[str, Check] = {
    "string": lambda v: isinstance(v, str),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "integer": _is_integer,
    "number": _is_number,
}


def _compile(schema: Any) -> Check:
    if schema is True:
        return _always
    if schema is False:
        return _never
    if not isinstance(schema, dict):
        raise _Unsupported
    keywords = {k: v for k, v in schema.items() if k not in _ANNOTATIONS and not k.startswith("x-")}
    if any(k not in _KEYWORDS for k in keywords):
        raise _Unsupported
    kind = keywords.get("type")
    if kind in _TYPED and set(keywords) <= _TYPED[kind][0]:
        return _TYPED[kind][1](keywords)
    checks = [_KEYWORDS[k](v, keywords) for k, v in keywords.items()]
    checks = [c for c in checks if c is not _always]
    if not checks:
        return _always
    if len(checks) == 1:
        return checks[0]

    def every(value: Any) -> bool:
        for check in checks:
            if not check(value):
                return False
        return True
    return every


# The schema of one type, compiled into one function: what the atlas's schemas are made of.

def _text(keywords: dict[str, Any]) -> Check:
    allowed = frozenset(_enum_values(keywords["enum"])) if "enum" in keywords else None
    shortest = keywords.get("minLength", 0)
    search = re.compile(keywords["pattern"]).search if "pattern" in keywords else None

    def text(v: Any) -> bool:
        if not isinstance(v, str):
            return False
        if allowed is not None and v not in allowed:
            return False
        if shortest and len(v) < shortest:
            return False
        return search is None or search(v) is not None
    return text


def _terms(schema: Any) -> frozenset[str] | None:
    """The allowed values when a schema is exactly "text, one of these": a list of such items is
    checked as one subset test."""
    if not isinstance(schema, dict):
        return None
    keywords = {k: v for k, v in schema.items() if k not in _ANNOTATIONS and not k.startswith("x-")}
    if keywords.keys() != {"type", "enum"} or keywords["type"] != "string":
        return None
    return frozenset(_enum_values(keywords["enum"]))


def _array(keywords: dict[str, Any]) -> Check:
    shortest = keywords.get("minItems", 0)
    unique = bool(keywords.get("uniqueItems", False))
    items = keywords.get("items", True)
    if not isinstance(items, (bool, dict)):
        raise _Unsupported  # an array of schemas is prefixItems' older spelling
    terms = _terms(items)
    item = None if terms is not None else _compile(items)
    if item is _always:
        item = None

    def array(v: Any) -> bool:
        if not isinstance(v, list):
            return False
        if len(v) < shortest:
            return False
        if terms is not None:
            try:
                if not terms.issuperset(v):
                    return False
            except TypeError:  # an unhashable item (a list, a mapping) is not one of the terms
                return False
        elif item is not None:
            for x in v:
                if not item(x):
                    return False
        if unique:
            if terms is None and not all(isinstance(x, str) for x in v):
                return False  # unsure: jsonschema decides
            return len(set(v)) == len(v)
        return True
    return array


def _object(keywords: dict[str, Any]) -> Check:
    required = tuple(keywords.get("required", ()))
    props = keywords.get("properties", {})
    if not isinstance(props, dict):
        raise _Unsupported
    checks = {name: _compile(sub) for name, sub in props.items()}
    checks = {name: check for name, check in checks.items() if check is not _always}
    known = frozenset(props)
    extra = _compile(keywords.get("additionalProperties", True))
    closed = extra is _never

    def mapping(v: Any) -> bool:
        if not isinstance(v, dict):
            return False
        for name in required:
            if name not in v:
                return False
        if closed and not known.issuperset(v):
            return False
        for name, x in v.items():
            check = checks.get(name)
            if check is not None:
                if not check(x):
                    return False
            elif extra is not _always and name not in known and not extra(x):
                return False
        return True
    return mapping


def _enum_values(value: Any) -> list[str]:
    # jsonschema compares text with text by ==; other values (1 against true, 1 against 1.0) need its
    # own equality, which is not copied here
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _Unsupported
    return value


_TYPED: dict[str, tuple[frozenset[str], Callable[[dict[str, Any]], Check]]] = {
    "string": (frozenset({"type", "enum", "minLength", "pattern"}), _text),
    "array": (frozenset({"type", "items", "minItems", "uniqueItems"}), _array),
    "object": (frozenset({"type", "required", "properties", "additionalProperties"}), _object),
}


# Each keyword alone, for a schema of another shape.

def _type(value: Any, _: dict[str, Any]) -> Check:
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or any(n not in _TYPES for n in names):
        raise _Unsupported
    tests = [_TYPES[n] for n in names]
    if len(tests) == 1:
        return tests[0]
    return lambda v: any(test(v) for test in tests)


def _enum(value: Any, _: dict[str, Any]) -> Check:
    allowed = frozenset(_enum_values(value))
    return lambda v: isinstance(v, str) and v in allowed


def _min_length(value: Any, _: dict[str, Any]) -> Check:
    return lambda v: not isinstance(v, str) or len(v) >= value


def _min_items(value: Any, _: dict[str, Any]) -> Check:
    return lambda v: not isinstance(v, list) or len(v) >= value


def _unique_items(value: Any, _: dict[str, Any]) -> Check:
    if not value:
        return _always

    def unique(v: Any) -> bool:
        if not isinstance(v, list):
            return True
        if not all(isinstance(item, str) for item in v):
            return False  # unsure: jsonschema decides
        return len(set(v)) == len(v)
    return unique


def _pattern(value: Any, _: dict[str, Any]) -> Check:
    search = re.compile(value).search  # jsonschema uses re.search, so '$' also matches before a final newline
    return lambda v: not isinstance(v, str) or search(v) is not None


def _required(value: Any, _: dict[str, Any]) -> Check:
    names = tuple(value)
    return lambda v: not isinstance(v, dict) or all(n in v for n in names)


def _properties(value: Any, _: dict[str, Any]) -> Check:
    if not isinstance(value, dict):
        raise _Unsupported
    compiled = [(name, _compile(sub)) for name, sub in value.items()]
    compiled = [(name, check) for name, check in compiled if check is not _always]

    def properties(v: Any) -> bool:
        if not isinstance(v, dict):
            return True
        for name, check in compiled:
            if name in v and not check(v[name]):
                return False
        return True
    return properties


def _additional_properties(value: Any, keywords: dict[str, Any]) -> Check:
    if "patternProperties" in keywords:
        raise _Unsupported
    known = frozenset(keywords.get("properties", {}))
    check = _compile(value)
    if check is _always:
        return _always
    if check is _never:
        return lambda v: not isinstance(v, dict) or known.issuperset(v)

    def additional(v: Any) -> bool:
        return not isinstance(v, dict) or all(check(item) for name, item in v.items() if name not in known)
    return additional


def _items(value: Any, _: dict[str, Any]) -> Check:
    if not isinstance(value, (dict, bool)):
        raise _Unsupported  # an array of schemas is prefixItems' older spelling
    check = _compile(value)
    if check is _always:
        return _always
    return lambda v: not isinstance(v, list) or all(check(item) for item in v)


_KEYWORDS: dict[str, Callable[[Any, dict[str, Any]], Check]] = {
    "type": _type,
    "enum": _enum,
    "minLength": _min_length,
    "minItems": _min_items,
    "uniqueItems": _unique_items,
    "pattern": _pattern,
    "required": _required,
    "properties": _properties,
    "additionalProperties": _additional_properties,
    "items": _items,
}
