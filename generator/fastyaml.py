"""The fast path for record files: plain data with no positions, for files proven clean.

The located loader (load.parse_yaml) builds a node tree with libyaml and keeps the line and
column of every value; at 10,000 records it was most of `evidence check`. Almost every record is
clean: it needs no diagnostic and nobody asks where its values stand. Such a file is read here
by yaml-rs (a YAML 1.2 parser in Rust, ~10x faster than libyaml's composer) into plain data, and
its positions are found later, by the located loader, only if something asks for them.

yaml-rs reads YAML 1.2 and resolves more than the located loader does (`012` and `0x1F` become
numbers; aliases are followed; tags are ignored; `1_000` is a number), and libyaml reads a few
characters as line breaks that YAML 1.2 does not. So a text is given to yaml-rs only when nothing
in it can be read differently by the two, and its result is kept only when every value in it is
one the located loader would give the same way without a word:

- before parsing, the text has no anchor, alias, tag or reserved character where a node could
  start, no merge key (`<<`), no tab, carriage return or backslash (so no escape sequence), no
  directive or document marker, and no character the located loader warns about or libyaml
  refuses or reads as a line break (U+0085, U+2028, U+2029, U+FFFE, U+FFFF);
- after parsing, the data is a mapping; every key is text; every value is text, a list or a
  mapping (a number, true/false or null could have been written `012`, `0x1F`, `1_000` or
  `.inf`, which the located loader keeps as text); no text is a word that YAML 1.1 reads as a
  boolean (`yes`, `no`, `on`, `off`, `y`, `n`), which the located loader warns about, except
  `NO` in a list of countries; nothing is nested deeper than load.MAX_DEPTH; yaml-rs refused no
  duplicate key.

Anything else returns None, and the caller reads the file with the located loader, which gives
exactly the diagnostics it always gave. tests/test_fast_yaml.py holds the two loaders to the same
data on generated records and on every trap above.
"""

from __future__ import annotations

import re
from typing import Any

from . import spec

try:
    import yaml_rs
except ImportError:  # pragma: no cover - the located loader alone is still correct, only slower
    yaml_rs = None  # type: ignore[assignment]

# An anchor, alias, tag, reserved indicator or directive where a node could start: at the start of
# a line, after a block indicator and its space, or after a flow indicator. The regular expression
# runs only on a text that has one of these characters at all (a search for a character is ~10x
# faster than the expression).
_NODE_START = re.compile(r"(?:^[ ]*|[-?][ ]+|[\[{,:][ ]*)[&*!@`%]", re.MULTILINE)
# What load.unsafe_character reports, and what libyaml refuses or reads as a line break.
_UNSAFE_ASCII = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_PRINTABLE_ASCII = bytes(range(0x20, 0x7F)) + b"\n"  # clean_text tests ASCII texts with these, not _UNSAFE_ASCII
_UNSAFE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\u2066-\u2069"
    "\ufeff\ufffe\uffff]"
)
# Words YAML 1.1 reads as booleans, at most three letters long.
_YAML11_BOOL = frozenset({"y", "n", "yes", "no", "on", "off"})


def available() -> bool:
    return yaml_rs is not None


def clean_text(text: str) -> bool:
    """Whether the text has nothing that the two loaders could read differently (see above)."""
    if not text.endswith("\n"):  # yaml-rs ends a last block scalar with a line break that is not there
        return False
    # anywhere: a tab (an indentation tab is an error there), a carriage return, a backslash (an escape
    # can make any character), a merge key, a directive or document marker (searches for a string are
    # ~10x faster than one regular expression for them all)
    if "\t" in text or "\r" in text or "\\" in text or ("<" in text and "<<" in text):
        return False
    if text.startswith(("---", "...", "%")) or "\n---" in text or "\n..." in text:
        return False
    if text.isascii():
        # what is left when the printable characters and the line break are taken out: _UNSAFE_ASCII's
        # characters, tab and carriage return being ruled out above (5x faster than the expression)
        if text.encode("ascii").translate(None, _PRINTABLE_ASCII):
            return False
    elif _UNSAFE.search(text):
        return False
    if "&" in text or "*" in text or "!" in text or "@" in text or "`" in text or "%" in text:
        return _NODE_START.search(text) is None
    return True


def parse_plain(text: str, max_depth: int) -> dict[str, Any] | None:
    """The data of a record's text when it is proven that the located loader reads exactly this
    data with no diagnostic; None when the located loader must read it."""
    if yaml_rs is None or not clean_text(text):
        return None
    try:
        data = yaml_rs.loads(text, parse_datetime=False)
    except Exception:  # a syntax error or a duplicate key: the located loader says which, and where
        return None
    if type(data) is not dict or not _plain(data, 0, max_depth, False):
        return None
    return data


def _plain_text(value: str, in_countries: bool) -> bool:
    if len(value) > 3:
        return not value.isspace()
    if value.lower() in _YAML11_BOOL:
        return in_countries and value == "NO"
    # libyaml reads a plain '=' as the tag !!value; yaml-rs reads an empty block scalar as a line break
    return value != "=" and (not value or not value.isspace())


def _plain(value: Any, depth: int, max_depth: int, in_countries: bool) -> bool:
    """Every key text; every leaf plain text; no container deeper than the located loader allows.

    `in_countries`: `value` is the value of a key 'countries', where `NO` is Norway (load._is_country_item).
    A text longer than three characters is plain unless it is blank: tested here, not by a call of
    _plain_text (most texts are long; 30 calls a record).
    """
    if depth >= max_depth:  # its items would stand deeper than max_depth
        return False
    if type(value) is dict:
        for key, item in value.items():
            if type(key) is not str:
                return False
            kind = type(item)
            if kind is str:
                if item.isspace() if len(item) > 3 else not _plain_text(item, in_countries):
                    return False
            elif kind is dict or kind is list:
                if not _plain(item, depth + 1, max_depth, key == spec.COUNTRIES):
                    return False
            else:
                return False
        return True
    for item in value:
        kind = type(item)
        if kind is str:
            if item.isspace() if len(item) > 3 else not _plain_text(item, in_countries):
                return False
        elif kind is dict or kind is list:
            if not _plain(item, depth + 1, max_depth, False):
                return False
        else:
            return False
    return True
