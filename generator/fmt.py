"""`evidence fmt`: one canonical layout for records, so that diffs show only real changes.

The canonical text is written from the values our strict loader reads (the
authority), in the field order of the schema, with term lists in codebook order,
long texts folded at 78 columns, and quotes only where a plain value would read
differently. Comments are carried over: a comment on its own line stays with the
field below it, an end-of-line comment stays on its field's line. The result is
read back and must give the same values, or the file is left alone.
"""

from __future__ import annotations

import json
import re
import textwrap
from dataclasses import dataclass, field
from typing import Any

from . import spec
from .codebook import Codebook
from .load import parse_yaml
from .scaffold import MODELINE
from .schema import APPRAISAL_ORDER, CLAIM_ORDER, SOURCE_ORDER, record_fields

# Lists of mappings and the order of each item's keys; nested mappings and the order of their keys.
ITEM_ORDER = {spec.CLAIMS: CLAIM_ORDER, spec.SOURCES: SOURCE_ORDER}
MAPPING_ORDER = {spec.APPRAISAL: APPRAISAL_ORDER}
# keys whose values are folded text, at any depth (a record's, a claim's, a source's, an appraisal's)
TEXT_KEYS = tuple(dict.fromkeys(f.key for f in (
    *spec.RECORD_FIELDS, *spec.CLAIM_FIELDS, *spec.SOURCE_FIELDS, *spec.APPRAISAL_FIELDS)
    if f.kind == "text"))
TEXT_WIDTH = 78
_KEY = re.compile(r"^([A-Za-z_][\w-]*)\s*:(.*)$")
_BLOCK = re.compile(r":\s*[>|][-+0-9]*\s*(#.*)?$")


@dataclass
class _Comments:
    header: list[str] = field(default_factory=list)
    before: dict[str, list[str]] = field(default_factory=dict)
    eol: dict[str, str] = field(default_factory=dict)
    trailing: list[str] = field(default_factory=list)


def _collect_comments(text: str, data: dict[str, Any]) -> _Comments:
    out = _Comments()
    pending: list[str] = []
    current: str | None = None
    block_indent: int | None = None  # inside a block scalar: lines indented deeper are content
    header_open = True  # comments at the top, up to the first blank line or field, are the file's header
    for line in text.split("\n"):
        stripped = line.strip()
        if header_open and current is None:
            if stripped.startswith("#"):
                out.header.append(stripped)
                continue
            if not stripped and out.header:
                header_open = False
                continue
        indent = len(line) - len(line.lstrip(" "))
        if block_indent is not None:
            if not stripped or indent > block_indent:
                continue
            block_indent = None
        m = _KEY.match(line)
        if m:
            current = m.group(1)
            out.before.setdefault(current, []).extend(pending)
            pending = []
            rest = m.group(2)
            if "#" in rest:
                eol = _eol_comment(current, rest, data)
                if eol:
                    out.eol[current] = eol
            if _BLOCK.search(line):
                block_indent = indent
            continue
        if stripped.startswith("#"):
            pending.append(stripped)
        elif _BLOCK.search(line):
            block_indent = indent
    out.trailing = pending
    return out


def _eol_comment(key: str, rest: str, data: dict[str, Any]) -> str | None:
    """The end-of-line comment of `key: value  # comment`, if the line has one."""
    for m in re.finditer(r"\s#", rest):
        value = rest[:m.start()]
        doc, _ = parse_yaml(f"{key}:{value}\n", "eol")
        if doc is not None and isinstance(doc.data, dict) and (doc.data.get(key) == data.get(key) or not value.strip()):
            return rest[m.start():].strip()
    return None


def _plain_ok(value: str, in_list: bool = False) -> bool:
    """A plain scalar is fine when our loader reads it back unchanged and without a warning."""
    if not value or value != value.strip() or "\n" in value:
        return False
    doc, diags = parse_yaml((f"k: [{value}]" if in_list else f"k: {value}") + "\n", "plain")
    return doc is not None and not diags and doc.data == {"k": [value] if in_list else value}


def _scalar(value: Any, in_list: bool = False, countries: bool = False) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return str(value)
    text = str(value)
    if re.fullmatch(r"[A-Z]{2}", text) and countries:
        return text  # ISO codes, including NO (Norway), are read as text in lists of countries (and only there)
    return text if _plain_ok(text, in_list) else json.dumps(text, ensure_ascii=False)


def _sort_terms(name: str, values: list[Any], codebook: Codebook) -> list[Any]:
    if not all(isinstance(v, str) for v in values):
        return values
    if name == spec.COUNTRIES:
        return sorted(values)
    vocab = codebook.by_field().get(name)
    if vocab is None:
        return values
    order = {slug: i for i, slug in enumerate(vocab.slugs)}
    return sorted(values, key=lambda v: (order.get(v, len(order)), v))


def _text_block(key: str, text: str, indent: int) -> list[str]:
    pad = " " * indent
    flat = " ".join(text.split())
    if len(pad) + len(key) + 2 + len(flat) <= TEXT_WIDTH:
        return [f"{pad}{key}: " + (flat if _plain_ok(flat) else json.dumps(flat, ensure_ascii=False))]
    inner = pad + "  "
    return [f"{pad}{key}: >-", *textwrap.wrap(flat, width=TEXT_WIDTH, initial_indent=inner, subsequent_indent=inner,
                                              break_long_words=False, break_on_hyphens=False)]


def _value_lines(key: str, value: Any, indent: int, codebook: Codebook) -> list[str]:
    pad = " " * indent
    if key in TEXT_KEYS and isinstance(value, str):
        return _text_block(key, value, indent)
    if isinstance(value, dict) and key in MAPPING_ORDER and value:
        fields = MAPPING_ORDER[key]
        names = [k for k in fields if k in value] + [k for k in value if k not in fields]
        return [f"{pad}{key}:", *(line for k in names for line in _value_lines(k, value[k], indent + 2, codebook))]
    if isinstance(value, list) and value and key in ITEM_ORDER and all(isinstance(f, dict) for f in value):
        lines = [f"{pad}{key}:"]
        order = ITEM_ORDER[key]
        for item in value:
            keys = [k for k in order if k in item] + [k for k in item if k not in order]
            for i, k in enumerate(keys):
                sub = _value_lines(k, item[k], indent + 4, codebook)
                if i == 0:
                    sub[0] = f"{pad}  - " + sub[0].lstrip(" ")
                lines.extend(sub)
        return lines
    if isinstance(value, list) and all(not isinstance(v, (list, dict)) for v in value):
        items = _sort_terms(key, value, codebook)
        return [f"{pad}{key}: [" + ", ".join(_scalar(v, in_list=True, countries=key == spec.COUNTRIES) for v in items) + "]"]
    if isinstance(value, (list, dict)):
        return [f"{pad}{key}: " + json.dumps(value, ensure_ascii=False)]  # unusual shape: JSON is valid YAML
    return [f"{pad}{key}: {_scalar(value)}"]


def format_record(text: str, codebook: Codebook) -> str | None:
    """The canonical text of a record, or None when it cannot be formatted safely (fix `check` errors first)."""
    doc, diags = parse_yaml(text, "record")
    if doc is None or not isinstance(doc.data, dict) or any(d.code.startswith("yaml-") for d in diags):
        return None
    data = doc.data
    comments = _collect_comments(text, data)
    lines = [MODELINE] + [c for c in comments.header if c != MODELINE]
    if lines[1:]:
        lines.append("")  # keeps the header apart from comments above the first field
    order = record_fields(codebook)
    keys = [k for k in order if k in data] + [k for k in data if k not in order]
    for key in keys:
        lines.extend(comments.before.get(key, []))
        value_lines = _value_lines(key, data[key], 0, codebook)
        if key in comments.eol:
            value_lines[0] += "  " + comments.eol[key]
        lines.extend(value_lines)
    lines.extend(comments.trailing)
    out = "\n".join(lines) + "\n"
    again, _ = parse_yaml(out, "record")
    if again is None or again.data != _canonical(data, codebook):
        return None  # never write a file whose values would change
    return out


def _canonical(data: Any, codebook: Codebook, key: str = "") -> Any:
    """The values as fmt writes them: term lists in codebook order, texts with their spaces collapsed."""
    if isinstance(data, dict):
        return {k: _canonical(v, codebook, k) for k, v in data.items()}
    if isinstance(data, list):
        if all(not isinstance(v, (list, dict)) for v in data):
            return _sort_terms(key, list(data), codebook)
        return [_canonical(v, codebook, key) for v in data]
    if key in TEXT_KEYS and isinstance(data, str):
        return " ".join(data.split())
    return data
