"""The render cache of study pages: a page whose inputs are unchanged is read back, not rendered again.

A study page is a pure function of its inputs (`Renderer.study_digests` lists them: the study, the
short cites and titles of its related studies, its formatted references, the labels and addresses of
the terms it links, the codebook, the dataset's metadata and the generator's own code and templates).
Each page is stored under the SHA-256 of a canonical serialisation of those inputs, so a one-record
rebuild renders the pages made from that record and reads the other ~10,000 from build/cache/md
(issue #17). A changed input changes the key; nothing is ever invalidated by date or by hand.

One file per page: a rebuild writes only the pages it rendered and reads only the pages it needs,
where one JSON file of every page (~100 MB at 10,000 studies) would be read and rewritten whole.
Each file carries a checksum of its text; a file that is damaged, truncated or unreadable counts as a
miss and is rendered and written again (as `build._load_cache` ignores a damaged citation cache).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
import platform
import zlib
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

from . import __version__

FOLDER = Path("build/cache/md")
FORMAT = b"atlas-study-page 1"  # the first line of every entry; a new layout changes it
SUFFIX = ".md"
PACKAGE = Path(__file__).parent
# Libraries whose behaviour shows in a page: the template engine, its escaping, the country names.
LIBRARIES = ("Jinja2", "MarkupSafe", "pycountry")


def _plain(value: Any) -> Any:
    """What json cannot write itself, as JSON: dataclasses by their fields (named by the class), sets sorted
    by their members' canonical text (set order changes with PYTHONHASHSEED), dates as ISO text.
    Anything else is refused: repr() and pickle would key a page on memory addresses and hash order."""
    cls = type(value)
    names = _FIELDS.get(cls)
    if names is None and dataclasses.is_dataclass(cls):
        names = _FIELDS[cls] = (f"{cls.__module__}.{cls.__qualname__}", tuple(f.name for f in dataclasses.fields(cls)))
    if names is not None:
        return {"<dataclass>": names[0], "fields": {name: getattr(value, name) for name in names[1]}}
    if isinstance(value, (set, frozenset)):
        return {"<set>": sorted(canonical(v) for v in value)}
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return {f"<{cls.__name__}>": value.isoformat()}
    if isinstance(value, bytes):
        return {"<bytes>": value.hex()}
    raise TypeError(f"{cls.__name__} has no canonical form")


_FIELDS: dict[type, tuple[str, tuple[str, ...]]] = {}  # a dataclass -> its name and its fields' names


def canonical(value: Any) -> str:
    """The value as JSON text that is the same in every process for equal values.

    Dataclasses, tuples, lists, dicts and sets are walked (json's encoder, with `_plain` for what it does
    not know). Dicts keep their insertion order rather than being sorted: a page can print a dict in its
    order (the CSL-JSON on a study page), so two dicts that differ only in order are different inputs.
    Insertion order, unlike set order, does not depend on PYTHONHASHSEED.
    """
    return json.dumps(value, default=_plain, ensure_ascii=False, separators=(",", ":"), allow_nan=True)


def code_digest(templates: Path) -> str:
    """The generator's own part of every key: its version, the bytes of its Python modules, of the template
    tree and of the citation styles, and the versions of Python and of the libraries that shape a page.

    The modules are included, not only the version: a page is also made by code (escaping, links, the
    reference files), and a change there must not be hidden by an unchanged version number. The browser
    assets are left out (no page is made from them).
    """
    h = hashlib.sha256()
    h.update(FORMAT + b"\0" + __version__.encode() + b"\0" + platform.python_version().encode())
    for name in LIBRARIES:
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


class StudyCache:
    """The stored study pages of earlier builds, by digest; `None` as the folder: an empty cache that keeps nothing.

    The render stage asks `stored` and `get` and hands rendered pages to `put`; `save` (build.py) writes what
    was put and removes every entry no current study needs, so the folder holds one build's pages.
    """

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.hits = 0  # pages read from the cache in this build (the others were rendered)
        self._new: dict[str, str] = {}
        self._used: set[str] = set()

    def stored(self) -> set[str]:
        """The digests with an entry (not yet read, so not yet known to be sound)."""
        if self.folder is None:
            return set()
        try:
            with os.scandir(self.folder) as entries:
                return {e.name.removesuffix(SUFFIX) for e in entries if e.name.endswith(SUFFIX)}
        except OSError:
            return set()

    def get(self, digest: str) -> str | None:
        """The page stored under `digest`, or None when there is none or it is damaged."""
        if self.folder is None:
            return None
        try:
            data = (self.folder / (digest + SUFFIX)).read_bytes()
            header, body = data.split(b"\n", 1)
            fmt, checksum, length = header.rsplit(b" ", 2)
            if fmt != FORMAT or int(length) != len(body) or int(checksum, 16) != zlib.crc32(body):
                return None
            return body.decode("utf-8")
        except (OSError, ValueError):  # unreadable, no header, not numbers, not UTF-8
            return None

    def keep(self, digests: Iterable[str]) -> None:
        """Entries this build needs, read or not: `save` keeps them and drops every other."""
        self._used.update(digests)

    def put(self, digest: str, text: str) -> None:
        self._new[digest] = text
        self._used.add(digest)

    def save(self) -> None:
        """Write the pages put since the last save, each atomically, and drop the entries no `keep` or `put` named."""
        if self.folder is None:
            return
        if self.folder.exists() and not self.folder.is_dir():
            self.folder.unlink()  # a file where the folder belongs: damage, like any other
        self.folder.mkdir(parents=True, exist_ok=True)
        for digest, text in self._new.items():
            body = text.encode("utf-8")
            path = self.folder / (digest + SUFFIX)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(b"%s %08x %d\n%s" % (FORMAT, zlib.crc32(body), len(body), body))
            tmp.replace(path)
        self._new.clear()
        with os.scandir(self.folder) as entries:
            gone = [e.path for e in entries if e.name.removesuffix(SUFFIX) not in self._used]
        for stale in gone:  # stale pages and any .tmp left by an interrupted build
            try:
                os.unlink(stale)
            except OSError:
                pass  # a folder or a file in use: harmless, tried again next build
