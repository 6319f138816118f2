"""The build's cache of what the load stage parsed: record data and the bibliography (issue #17).

A one-record rebuild at 10,000 studies parsed every record again (1.3-1.6 s on the development machine)
and, in a second process, the whole references.bib with each entry's CSL item (about 2 CPU-seconds, the
first process waiting 0.2-0.3 s for it at the end), although all but one file were the same bytes as
last time. This cache keeps:

- for each record file read by the fast path (fastyaml.py: clean, plain data), its data, under the
  SHA-1 of its text. The data is a function of the text alone, so a file with the same text gets the
  same data; a file that needs the located loader (one with a problem to report) is never cached and
  is always read the located way, so its diagnostics are exactly those of a fresh load;
- the parsed bibliography with its diagnostics, under the SHA-1 of the file's bytes, with the CSL item
  of every entry a study cites (worked out by the model: csl.csl_item, the same function the load's
  second process uses), so a hit needs no second process.

Every entry is also keyed by the generator's code (the bytes of its modules and templates, the versions
of Python and of the libraries that parse: render_cache.code_digest), so a change to the loader starts
the cache afresh. The records file is written only when its content would change (a record new or
edited, or one gone), keeping only the entries this load used; each file carries a SHA-256 of its body,
and a file that is damaged, from other code, or unreadable is ignored: the load then reads everything,
as a load without a cache does. Only builds use the cache (`evidence build`, `evidence serve` and
`generate`): `evidence check` always reads every file.
"""

from __future__ import annotations

import contextlib
import dataclasses
import marshal
import os
import pickle
from pathlib import Path
from types import ModuleType
from typing import Any


def _hashlib() -> ModuleType:
    """hashlib, imported when first used: `evidence check` imports this module (load.py does) but never
    uses the cache, and OpenSSL's hashes were 0.003 s of its imports."""
    import hashlib

    return hashlib


FOLDER = Path("build/cache/load")
FORMAT = b"atlas-load 1"
RECORDS = "records.marshal"
BIBLIOGRAPHY = "bibliography.pickle"
LIBRARIES = ("bibtexparser", "PyYAML", "yaml-rs", "pylatexenc")  # the parsers, beside render_cache.LIBRARIES
MISS = object()


def _code() -> bytes:
    # imported here, not with the module: `evidence check` imports this module (through load.py) but never
    # uses the cache, and Jinja (with render_cache) was a tenth of its start-up
    from . import render_cache

    return render_cache.code_digest(render_cache.PACKAGE / "templates", render_cache.LIBRARIES + LIBRARIES).encode()


# A cache file (`_write`): FORMAT, the code's digest (64 hex digits), the SHA-256 of the body (64), each on a
# line of its own, then the body.
_BODY = len(FORMAT) + 1 + 65 + 65  # where the body starts


def _read(path: Path, code: bytes) -> bytes | None:
    """The body of a cache file written by this code, if it is whole; None otherwise."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    head, sep, rest = data.partition(b"\n")
    if not sep or head != FORMAT or rest[:64] != code or rest[64:65] != b"\n":
        return None
    digest, body = rest[65:129], data[_BODY:]
    if rest[129:130] != b"\n" or _hashlib().sha256(body).hexdigest().encode() != digest:
        return None
    return body


def _write(path: Path, code: bytes, body: bytes) -> None:
    """Write a cache file whole (atomically); a failure leaves no cache file behind."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(FORMAT + b"\n" + code + b"\n" + _hashlib().sha256(body).hexdigest().encode() + b"\n" + body)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            path.unlink()


def may_hold_bibliography(folder: Path, path: Path) -> bool:
    """Whether the cache in `folder` holds, as far as its first bytes tell, the bibliography with the bytes of
    `path`: the stored key is the SHA-1 of those bytes (whether the code that stored it is this code, and the
    entry whole, only `LoadCache.bibliography` says). `evidence generate` and `build` then start no second
    process to read it ahead (load.read_ahead)."""
    try:
        with open(folder / BIBLIOGRAPHY, "rb") as f:
            head = f.read(_BODY + 40)  # the body begins with the key (`bibliography`)
        key = _hashlib().sha1(path.read_bytes()).hexdigest().encode()
    except OSError:
        return False
    return head.startswith(FORMAT + b"\n") and head[_BODY:] == key


class LoadCache:
    """One build's use of the cache: `record`/`put_record` while the records are read, `bibliography` before
    the bibliography is read, `missed_bibliography` after a fresh read of it, `save` once the model exists."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.code = _code()
        self.hits = 0
        self._stored: dict[bytes, bytes] = {}
        self._used: dict[bytes, bytes] = {}
        body = _read(folder / RECORDS, self.code)
        if body is not None:
            try:
                stored = marshal.loads(body)
            except (ValueError, EOFError, TypeError):
                stored = None
            if isinstance(stored, dict):
                self._stored = stored
        self._key: bytes | None = None  # the SHA-1 of the bibliography's bytes, once `bibliography` has read them
        self._bib: tuple[bytes, Any, list[Any]] | None = None  # a fresh read: its key, bibliography, diagnostics

    # --- records ---------------------------------------------------------------------------------
    def stored(self, text: str) -> tuple[bytes, bytes | None]:
        """The key of a record file with this text and the data stored under it, marshalled (None if none is)."""
        key = _hashlib().sha1(text.encode("utf-8")).digest()
        return key, self._stored.get(key)

    def adopt(self, key: bytes, blob: bytes, hit: bool) -> None:
        """A record's data, marshalled, as the second process of the load read it (`stored`, or a fresh read):
        kept as `record` (a hit) or `put_record` (a miss) keeps it."""
        self._used[key] = blob
        self.hits += hit

    def record(self, text: str) -> tuple[bytes, Any]:
        """The key of a record file with this text (for `put_record` after a miss) and its data, or MISS."""
        key, blob = self.stored(text)
        if blob is None:
            return key, MISS
        try:
            data = marshal.loads(blob)
        except (ValueError, EOFError, TypeError):
            return key, MISS
        self._used[key] = blob
        self.hits += 1
        return key, data

    def put_record(self, key: bytes, data: Any) -> None:
        try:
            blob = marshal.dumps(data)
        except ValueError:  # a value marshal cannot write: not cached
            return
        self._used[key] = blob

    # --- the bibliography ------------------------------------------------------------------------
    def bibliography(self, path: Path) -> tuple[Any, list[Any]] | None:
        """The parsed bibliography and its diagnostics, if the file's bytes are those cached."""
        body = _read(self.folder / BIBLIOGRAPHY, self.code)
        try:
            self._key = key = _hashlib().sha1(path.read_bytes()).hexdigest().encode()
        except OSError:
            return None
        if body is None or body[:40] != key:
            return None
        try:
            bib, diags = pickle.loads(body[41:])
        except Exception:  # a damaged pickle is a miss, whatever it raises
            return None
        return bib, diags

    def missed_bibliography(self, bib: Any, diags: list[Any]) -> None:
        """The bibliography as read afresh (after a miss), to be stored by `save`."""
        if self._key is not None:
            self._bib = (self._key, bib, list(diags))

    # --- after the model -------------------------------------------------------------------------
    def save(self, csl: dict[str, dict[str, Any]] | None = None) -> None:
        """Write what changed. `csl`: the CSL items the model worked out (study key -> item), kept with a
        bibliography read afresh so that the next load needs none."""
        if self._used.keys() != self._stored.keys():
            _write(self.folder / RECORDS, self.code, marshal.dumps(self._used))
            self._stored = dict(self._used)
        if self._bib is not None:
            key, bib, diags = self._bib
            items = {**{k: v for k, v in (csl or {}).items() if k in bib.entries}, **bib.csl}
            try:
                body = pickle.dumps((dataclasses.replace(bib, csl=items), diags), protocol=pickle.HIGHEST_PROTOCOL)
            except (pickle.PicklingError, TypeError, AttributeError):
                return
            _write(self.folder / BIBLIOGRAPHY, self.code, key + b"\n" + body)
            self._bib = None
