"""The render cache of study pages: a page whose inputs are unchanged is read back, not rendered again.

A study page is a pure function of its inputs (`Renderer.study_digests` lists them: the study, the
short cites and titles of its related studies, its formatted references, the labels and addresses of
the terms it links, the codebook, the dataset's metadata and the generator's own code and templates).
Each page is stored under the SHA-256 of a canonical serialisation of those inputs, so a one-record
rebuild renders the pages made from that record and reads the other ~10,000 from build/cache/md
(issue #17). A changed input changes the key; nothing is ever invalidated by date or by hand.

The pages are kept in 256 files, by the first two characters of their key (`3f.pages` holds the keys
3f...), each page behind a header with its key, a CRC-32 and its length. One file per page was measured
first: a rebuild reads ~10,000 small files quickly, but a first build creates ~10,000 files, and on the
development machine's file system that cost 3-6 s of system time (a third of the generator step).
One JSON file of every page (~110 MB) would be read, and after any change written, whole: ~1 s on
every rebuild. 256 files cost a first build 256 creations, and a one-record rebuild rewrites the few
files holding the pages that changed and the pages they replace (a file is rewritten whole, atomically).
A file that is damaged is read up to its first bad header, and an entry whose checksum or text is bad
is a miss: the page is rendered and written again (as `build._load_cache` ignores a damaged citation
cache), never shown.

Two more kinds of entry are kept the same way, each under a key derived from what it is made of
(pages.py): a study's pieces of the files made of every study (its explorer entry, its rows of the CSV
files, its record of data/evidence.json; pages.Wholes), under its page's digest; and each part of the
other pages (the matrices and their cells, the term and index pages, the views, the home page), under
`Renderer.parts_digest`, which leaves out the fields only a study's own page prints. After a one-record
edit of a summary at 10,000 studies the render stage then reads nearly everything (1.2 s against 2.1).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import math
import operator
import os
import platform
import zlib
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

import orjson
from jinja2 import FileSystemBytecodeCache

from . import __version__

FOLDER = Path("build/cache/md")
FORMAT = b"atlas-study-page 1"  # begins every entry's header; a new layout changes it
SUFFIX = ".pages"
PACKAGE = Path(__file__).parent
# Libraries whose behaviour shows in a page: the template engine, its escaping, the country names.
LIBRARIES = ("Jinja2", "MarkupSafe", "pycountry")


def _plain(value: Any) -> Any:
    """What json cannot write itself, as JSON: dataclasses by the values of their fields in order (named by
    the class; the fields' names and order are the class's code, which is in every key: code_digest), sets
    sorted by their members' canonical text (set order changes with PYTHONHASHSEED), dates as ISO text.
    Anything else is refused: repr() and pickle would key a page on memory addresses and hash order."""
    cls = type(value)
    known = _FIELDS.get(cls)
    if known is None and dataclasses.is_dataclass(cls):
        names = tuple(f.name for f in dataclasses.fields(cls))
        # every field in one call (45,000 dataclasses a build at 10,000 studies, issue #17); a dataclass
        # of one field gives its value alone, one of none an empty list
        get = operator.attrgetter(*names) if names else (lambda _value: ())
        known = _FIELDS[cls] = (f"{cls.__module__}.{cls.__qualname__}", get)
    if known is not None:
        return {"<dataclass>": known[0], "fields": known[1](value)}
    if isinstance(value, (set, frozenset)):
        return {"<set>": sorted(canonical(v) for v in value)}
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return {f"<{cls.__name__}>": value.isoformat()}
    if isinstance(value, bytes):
        return {"<bytes>": value.hex()}
    raise TypeError(f"{cls.__name__} has no canonical form")


_FIELDS: dict[type, tuple[str, Any]] = {}  # a dataclass -> its name and the getter of its fields' values


def canonical(value: Any) -> str:
    """The value as JSON text that is the same in every process for equal values.

    Dataclasses, tuples, lists, dicts and sets are walked (orjson's encoder, with `_plain` for what it does
    not know; at 10,000 studies it writes the study pages' inputs in a sixth of the time json's did). Dicts
    keep their insertion order rather than being sorted: a page can print a dict in its order (the
    CSL-JSON on a study page), so two dicts that differ only in order are different inputs. Insertion
    order, unlike set order, does not depend on PYTHONHASHSEED. A dict key that is not text is refused
    (TypeError), as are integers beyond 64 bits.

    orjson writes NaN and the infinities as null, the text of None: a value that may hold one must pass
    `finite` first. A study's own inputs cannot (every field of a Study is text or a count, made so by
    the model); what YAML gives the pages as it is (dataset.yaml, the codebook) is checked once a build.
    """
    return canonical_bytes(value).decode("utf-8")


def canonical_bytes(value: Any) -> bytes:
    """`canonical` as UTF-8, for hashing (without a decode and an encode)."""
    return orjson.dumps(value, default=_plain, option=_OPTIONS)


_OPTIONS = orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME  # both to _plain


def finite(value: Any) -> bool:
    """Whether no float in the value (walked as `canonical` walks it) is NaN or infinite (YAML reads
    1e999 as infinity)."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(finite(v) for v in value.values())
    if isinstance(value, (list, tuple, set, frozenset)):
        return all(finite(v) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return all(finite(getattr(value, f.name)) for f in dataclasses.fields(value))
    return True


def code_digest(templates: Path, libraries: tuple[str, ...] = LIBRARIES) -> str:
    """The generator's own part of every key: its version, the bytes of its Python modules, of the template
    tree and of the citation styles, and the versions of Python and of the `libraries` (by default those that
    shape a page; the load cache adds the parsers).

    The modules are included, not only the version: a page is also made by code (escaping, links, the
    reference files), and a change there must not be hidden by an unchanged version number. The browser
    assets are left out (no page is made from them).
    """
    h = hashlib.sha256()
    h.update(FORMAT + b"\0" + __version__.encode() + b"\0" + platform.python_version().encode())
    for name in libraries:
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            version = "?"
        h.update(f"\0{name}={version}".encode())
    files = [("", p) for p in sorted(PACKAGE.glob("*.py"))]
    files += [("templates", p) for p in sorted(templates.rglob("*")) if p.is_file()]
    files += [("csl", p) for p in sorted((PACKAGE / "csl").rglob("*")) if p.is_file()]
    for part, path in files:
        base = templates if part == "templates" else PACKAGE
        h.update(f"\0{part}/{path.relative_to(base).as_posix()}\0".encode())
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def template_cache(folder: Path | None) -> FileSystemBytecodeCache | None:
    """Jinja's cache of compiled templates in `folder`, which checks each template's source before using what it
    holds: the generator's in build/cache/templates/generator (compiling them cost a generation about 0.3 CPU-s)
    and the theme's in build/cache/templates/theme (site_cache.py: about 0.3 s of MkDocs' part of a rebuild).
    None (compile every time) without a folder or where it cannot be made."""
    if folder is None:
        return None
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return FileSystemBytecodeCache(str(folder))


class StudyCache:
    """The stored study pages of earlier builds, by digest; `None` as the folder: an empty cache that keeps nothing.

    `load` reads the files once, before the render forks (the second process shares what was read); the
    render stage asks `get` and hands rendered pages to `put`; `save` (build.py) rewrites the files whose
    content changes and drops every entry no current study needs (`keep`, `put`), so the folder holds one
    build's pages.
    """

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.hits = 0  # pages read from the cache in this build (the others were rendered)
        self._entries: dict[str, Entry] = {}
        self._damaged: set[str] = set()  # files with bytes that are no entry: rewritten by save
        self._loaded = False
        self._new: dict[str, bytes] = {}
        self._used: set[str] = set()

    def load(self) -> None:
        self._loaded = True
        if self.folder is None:
            return
        try:
            names = sorted(n for n in os.listdir(self.folder) if _is_shard(n))
        except OSError:
            return
        for name in names:
            try:
                entries, whole = _entries((self.folder / name).read_bytes(), name[:2])
            except OSError:
                entries, whole = {}, False
            self._entries.update(entries)
            if not whole:
                self._damaged.add(name[:2])

    def get(self, digest: str) -> bytes | None:
        """The page stored under `digest`, as UTF-8, or None when there is none or it is damaged."""
        body = self._body(digest)
        if body is None or not _utf8(body):
            return None
        return body

    def holds(self, digest: str) -> bool:
        """Whether an entry is stored under `digest` (whole or not: `get` checks that)."""
        return digest in self._entries

    def get_bytes(self, digest: str) -> bytes | None:
        """The bytes stored under `digest` (a study's pieces: pages.Wholes), or None when there are none or they are damaged."""
        return self._body(digest)

    def _body(self, digest: str) -> bytes | None:
        found = self._entries.get(digest)
        if found is None:
            return None
        data, start, length, crc = found
        body = data[start:start + length]
        return body if zlib.crc32(body) == crc else None

    def keep(self, digests: Iterable[str]) -> None:
        """Entries this build needs, read or not: `save` keeps them and drops every other."""
        self._used.update(digests)

    def put(self, digest: str, data: bytes) -> None:
        """A page (as UTF-8) or a study's pieces, stored under `digest`."""
        self._new[digest] = data
        self._used.add(digest)

    def _changed(self) -> set[str]:
        """The files to rewrite: those that gain an entry, lose one no study needs or hold damage (a damaged
        entry that is needed was a miss, so it is among the new ones)."""
        return self._damaged | {d[:2] for d in self._new} | {d[:2] for d in self._entries if d not in self._used}

    def rewrites(self) -> int:
        """How many files `save` would rewrite."""
        return len(self._changed()) if self.folder is not None and self._loaded else 0

    def save(self) -> None:
        """Rewrite, each atomically, the files that gain a page, lose one no study needs or hold damage."""
        if self.folder is None:
            return
        if not self._loaded:
            self.load()
        changed = self._changed()
        if self.folder.exists() and not self.folder.is_dir():
            self.folder.unlink()  # a file where the folder belongs: damage, like any other
        self.folder.mkdir(parents=True, exist_ok=True)
        shards: dict[str, dict[str, bytes]] = {shard: {} for shard in changed}
        for digest in self._entries.keys() | self._new.keys():
            if digest[:2] in changed and digest in self._used:
                body = self._new[digest] if digest in self._new else self._body(digest)
                if body is not None:
                    shards[digest[:2]][digest] = body
        for shard, entries in sorted(shards.items()):
            path = self.folder / (shard + SUFFIX)
            if not entries:
                path.unlink(missing_ok=True)
                continue
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            with tmp.open("wb") as out:
                for digest, body in sorted(entries.items()):
                    out.write(b"%s %s %08x %d\n" % (FORMAT, digest.encode(), zlib.crc32(body), len(body)))
                    out.write(body)
            tmp.replace(path)
        for name in os.listdir(self.folder):  # anything else: a .tmp of an interrupted build, an older layout
            if not _is_shard(name):
                with contextlib.suppress(OSError):
                    (self.folder / name).unlink()
        self._new.clear()
        self._entries.clear()


def pack(items: Iterable[bytes]) -> bytes:
    """Byte strings as one entry's bytes: a line of their lengths, then the strings one after another (a part of
    the other pages: pack_pages; a study's pieces: pages.Wholes)."""
    items = list(items)
    return b" ".join(b"%d" % len(item) for item in items) + b"\n" + b"".join(items)


def unpack(data: bytes) -> list[bytes] | None:
    """The byte strings `pack` packed, or None for bytes that are not such a packing."""
    end = data.find(b"\n")
    try:
        lengths = [int(n) for n in data[:end].split(b" ") if n] if end >= 0 else None
    except ValueError:
        return None
    if lengths is None or min(lengths, default=0) < 0 or end + 1 + sum(lengths) != len(data):
        return None
    out, pos = [], end + 1
    for n in lengths:
        out.append(data[pos:pos + n])
        pos += n
    return out


def pack_pages(pages: dict[str, bytes]) -> bytes:
    """Pages (path -> UTF-8) as one entry's bytes: each path, then its text (`pack`)."""
    return pack(item for rel, data in pages.items() for item in (rel.encode("utf-8"), data))


def unpack_pages(data: bytes) -> dict[str, bytes] | None:
    """The pages `pack_pages` packed, or None for bytes that are not a packing of pages in UTF-8."""
    items = unpack(data)
    if items is None or len(items) % 2 or not all(_utf8(item) for item in items):
        return None
    return {items[i].decode("utf-8"): items[i + 1] for i in range(0, len(items), 2)}


def _utf8(data: bytes) -> bool:
    """Whether the bytes are UTF-8 (a page is handed on as its bytes, and MkDocs reads it as UTF-8)."""
    if data.isascii():
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


Entry = tuple[bytes, int, int, int]  # the file's bytes, where the page starts in them, its length, its CRC-32


def _is_shard(name: str) -> bool:
    return len(name) == 2 + len(SUFFIX) and name.endswith(SUFFIX)


def _entries(data: bytes, shard: str) -> tuple[dict[str, Entry], bool]:
    """The entries of one file, up to the first header that is not one of its own; and whether that was the whole file."""
    out: dict[str, Entry] = {}
    pos = 0
    while pos < len(data):
        end = data.find(b"\n", pos)
        try:
            fmt, digest, crc, length = data[pos:end].rsplit(b" ", 3) if end >= 0 else (b"",) * 4
            size = int(length)
            if fmt != FORMAT or len(digest) != 64 or not digest.startswith(shard.encode()) or size < 0 \
                    or end + 1 + size > len(data):
                return out, False
            out[digest.decode("ascii")] = (data, end + 1, size, int(crc, 16))
        except ValueError:  # too few fields, not numbers, not ASCII
            return out, False
        pos = end + 1 + size
    return out, True
