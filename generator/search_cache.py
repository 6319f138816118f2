"""Reuse of the search index's page fragments between builds (issue #17).

Pagefind cannot update an index in part: every build reads every page again. Reading is not most of
its time, though. At 10,000 studies it parsed the site in about 4 s and then spent about 6 s writing
the index, nearly all of it on the 10,000 page fragments (`pagefind/fragment/*.pf_fragment`, one per
page, each compressed at gzip's highest level and written to a new file). Pagefind names a fragment
by a hash of its content and does not write a hashed file that is already there (its `write` in
`pagefind/src/output/mod.rs`: "immutable" files). So a fragment from the last build can be put in
place before Pagefind runs, and Pagefind then writes only the fragments of the pages that changed.

The index's word chunks (`pagefind/index/*.pf_index`, named by a hash of their content as well) are
kept the same way: every chunk of the last build is linked in before Pagefind runs, Pagefind writes only
the chunks whose content is new (after a one-record change at 10,000 studies, 29 of 57; their absence
cost Pagefind about a second), and afterwards a linked chunk the new page list (`pf_meta`) does not name
is removed, and the chunk folder must hold exactly the chunks it names.

A fragment is made from one page's HTML (its address, text, title, anchors), the Pagefind version and
its options. This module keeps, in build/cache/search/, the fragments of the last build (hard links,
so they cost no copy) and a manifest of which page each came from, with that page's HTML file as it
was then: device, inode, size and modification time. A page that the site cache reused is a hard
link to the stored HTML (generator/site_cache.py), so an unchanged page has the same inode, size and
time as last time, and its fragment is linked in again. A page rendered again is a new file and gets
a new fragment from Pagefind. Nothing is reused across Pagefind versions or options.

Only fragments of pages that are in the new build with the same HTML are linked, so every linked
file is one Pagefind would write with the same name and bytes, and Pagefind's own check for name
collisions (made over the fragments of the whole build) is the one a full build makes. After the
run the index's page list (`pagefind.<hash>.pf_meta`, CBOR behind gzip) is read: a linked fragment
it does not name is removed, and the fragment folder must then hold exactly the fragments it names.
If that cannot be shown (an index this code cannot read, a missing fragment), `build._index` indexes
the site again from an empty output folder, as a full build does. A rebuild's index is byte-identical
to a full build's (tests/test_build.py::test_a_rebuild_reuses_pages_and_equals_a_full_build).
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import re
import zlib
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

import cbor2
import orjson

FOLDER = Path("build/cache/search")
FORMAT = 1  # what the manifest holds; a change makes every fragment new once
OUTPUT = "pagefind"  # the index's folder in the site (`--output-subdir`)
PREFIX = b"pagefind_dcd"  # begins every decompressed Pagefind file
SUFFIX = ".pf_fragment"
CHUNK_SUFFIX = ".pf_index"
_URL = re.compile(rb'\{"url":("(?:[^"\\]|\\.)*")[,}]')  # a fragment's first field

Stamp = list[int]  # device, inode, size, modification time (ns) of a page's HTML file


def identity(options: list[str]) -> str:
    """What besides a page's HTML makes its fragment: the Pagefind version and the options it runs with."""
    versions = []
    for name in ("pagefind", "pagefind_bin"):
        try:
            versions.append(f"{name}={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name}=?")
    return json.dumps([FORMAT, versions, options])


def _stamp(path: str) -> Stamp | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns]


def _page_file(url: str) -> str | None:
    """The HTML file (relative to the site) that Pagefind gave `url`: `/a/b/` is a/b/index.html."""
    if not url.startswith("/") or "\\" in url or "/../" in url + "/" or "?" in url or "#" in url:
        return None
    rel = url[1:]
    return rel + "index.html" if rel == "" or rel.endswith("/") else rel


class FragmentReuse:
    """One build's use of the fragment cache: `prepare` before Pagefind runs, `finish` after it succeeds."""

    def __init__(self, cache: Path, site: Path, options: list[str]) -> None:
        self.cache = cache
        self.site = site
        self.identity = identity(options)
        self.fragments = site / OUTPUT / "fragment"
        self.chunks = site / OUTPUT / "index"
        self.linked: dict[str, str] = {}  # fragment file name -> page file it was linked for
        self.linked_chunks: dict[str, Stamp] = {}  # index chunk file name -> its stamp in the cache
        self.reused = 0
        self.indexed = 0
        self._known: dict[str, list[Any]] = {}  # linked fragment -> its manifest entry and file stamp

    def prepare(self) -> int:
        """Link the fragments of pages whose HTML is unchanged into the site's index folder; how many."""
        try:
            manifest = orjson.loads((self.cache / "manifest.json").read_bytes())
            if manifest.get("identity") != self.identity:
                manifest = {}
            pages, stamps = manifest.get("pages", {}), manifest.get("fragments", {})
            chunks = manifest.get("chunks", {})
            if not (isinstance(pages, dict) and isinstance(stamps, dict) and isinstance(chunks, dict)):
                pages, stamps, chunks = {}, {}, {}
        except (OSError, ValueError, AttributeError):
            pages, stamps, chunks = {}, {}, {}
        self._link_chunks(chunks)
        stored, target = str(self.cache / "fragment"), str(self.fragments)
        made = False
        for rel, entry in sorted(pages.items()):
            if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], str)):
                continue
            name, stamp = entry
            if not name.endswith(SUFFIX) or "/" in name or name in self.linked or name not in stamps \
                    or _stamp(os.path.join(self.site, rel)) != stamp:
                continue
            source = os.path.join(stored, name)
            if _stamp(source) != stamps[name]:  # changed in place (through the site's link to it): not trusted
                continue
            if not made:
                self.fragments.mkdir(parents=True, exist_ok=True)
                made = True
            try:
                os.link(source, os.path.join(target, name))
            except OSError:  # no hard links on this file system: Pagefind writes it
                continue
            self.linked[name] = rel
            self._known[name] = [entry, stamps[name]]
        return len(self.linked)

    def _link_chunks(self, chunks: dict[str, Any]) -> None:
        """Link every index chunk of the last build into the site's index folder (Pagefind skips those whose
        content it would write again; `finish` removes the others)."""
        stored, target = str(self.cache / "index"), str(self.chunks)
        for name, stamp in sorted(chunks.items()):
            if not name.endswith(CHUNK_SUFFIX) or "/" in name or os.sep in name:
                continue
            source = os.path.join(stored, name)
            if _stamp(source) != stamp:  # gone, or changed in place through the site's link: not trusted
                continue
            if not self.linked_chunks:
                self.chunks.mkdir(parents=True, exist_ok=True)
            try:
                os.link(source, os.path.join(target, name))
            except OSError:
                continue
            self.linked_chunks[name] = stamp

    def finish(self) -> bool:
        """After a successful run: drop linked fragments and chunks the index does not name, check that each
        folder holds exactly the files it names, and store this build's for the next. False when the index
        cannot be read or does not match a folder (the caller indexes again from scratch)."""
        indexed = self._indexed()
        if indexed is None:
            return False
        names, chunk_names = indexed
        if not (_settle(self.fragments, self.linked, names)
                and _settle(self.chunks, self.linked_chunks, chunk_names)):
            return False
        self.reused = len(names & self.linked.keys())
        self.indexed = len(names)
        pages: dict[str, list[Any]] = {}
        stamps: dict[str, Stamp] = {}
        for name in sorted(names):
            if name in self._known:
                pages[self.linked[name]], stamps[name] = self._known[name]
                continue
            rel = self._page_of(name)
            stamp = _stamp(os.path.join(self.site, rel)) if rel is not None else None
            if rel is not None and stamp is not None and rel not in pages:
                pages[rel] = [name, stamp]
        self._store(pages, stamps, chunk_names)
        return True

    def _indexed(self) -> tuple[set[str], set[str]] | None:
        """The fragment files and the word chunk files the new index names, from every language's page list
        (MetaIndex.pages: [hash, word count] per page; MetaIndex.index_chunks: [from, to, hash] per chunk),
        or None if it cannot be read."""
        out = self.site / OUTPUT
        try:
            entry = json.loads((out / "pagefind-entry.json").read_text(encoding="utf-8"))
            fragments: set[str] = set()
            chunks: set[str] = set()
            for language in entry["languages"].values():
                data = gzip.decompress((out / f"pagefind.{language['hash']}.pf_meta").read_bytes())
                if not data.startswith(PREFIX):
                    return None
                meta = cbor2.loads(data[len(PREFIX):])
                for page in meta[1]:
                    if not (isinstance(page, list) and page and isinstance(page[0], str)) or "/" in page[0]:
                        return None
                    fragments.add(page[0] + SUFFIX)
                for chunk in meta[2]:
                    if not (isinstance(chunk, list) and len(chunk) == 3 and isinstance(chunk[2], str)) \
                            or "/" in chunk[2]:
                        return None
                    chunks.add(chunk[2] + CHUNK_SUFFIX)
            return fragments, chunks
        except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError, EOFError,
                cbor2.CBORDecodeError):
            return None

    def _page_of(self, name: str) -> str | None:
        """The page file a fragment Pagefind wrote in this run was made from (its `url`).

        A fragment is JSON whose first field is the page's address; only its start is decompressed (a first
        build reads 10,000 fragments), and the whole is parsed if the start is not of that form."""
        try:
            with open(os.path.join(self.fragments, name), "rb") as f:
                packed = f.read()
            head = zlib.decompressobj(wbits=31).decompress(packed, 4096)  # gzip
            if not head.startswith(PREFIX):
                return None
            found = _URL.match(head, len(PREFIX))
            if found is not None:
                url = json.loads(found.group(1))
            else:
                url = json.loads(gzip.decompress(packed)[len(PREFIX):])["url"]
        except (OSError, ValueError, KeyError, TypeError, EOFError, zlib.error):
            return None
        return _page_file(url) if isinstance(url, str) else None

    def _store(self, pages: dict[str, list[Any]], stamps: dict[str, Stamp], chunk_names: set[str]) -> None:
        """Keep this build's fragments (hard links) and manifest for the next build; any failure keeps nothing.

        `stamps` holds the fragments that were linked in from the cache (their files are the cache's);
        every other fragment is linked into the cache here and stamped."""
        stored = self.cache / "fragment"
        manifest = self.cache / "manifest.json"
        try:
            with contextlib.suppress(FileNotFoundError):
                manifest.unlink()  # no manifest names a fragment while the folder changes
            wanted = {entry[0] for entry in pages.values()}
            stamps = _keep(self.fragments, stored, wanted, stamps)
            chunks = _keep(self.chunks, self.cache / "index", chunk_names, self.linked_chunks)
            tmp = manifest.with_suffix(".tmp")
            tmp.write_bytes(orjson.dumps({"identity": self.identity, "pages": pages, "chunks": chunks,
                                          "fragments": stamps}, option=orjson.OPT_SORT_KEYS))
            tmp.replace(manifest)
        except OSError:
            with contextlib.suppress(OSError):
                manifest.unlink()


def _settle(folder: Path, linked: Iterable[str], named: set[str]) -> bool:
    """Remove the files linked into `folder` that the index does not name; whether the folder then holds
    exactly the files it names."""
    for name in set(linked) - named:
        with contextlib.suppress(OSError):
            (folder / name).unlink()
    try:
        present = set(os.listdir(folder)) if named or folder.exists() else set()
    except OSError:
        return False
    return present == named


def _keep(folder: Path, stored: Path, names: set[str], known: dict[str, Stamp]) -> dict[str, Stamp]:
    """Make `stored` hold exactly `names`, as hard links to the files of `folder`, and return their stamps.

    `known` are files linked in from `stored` in this build (the same files: kept with their stamps); any
    other name is linked from `folder`, replacing a file of that name from an earlier build. Raises OSError."""
    stored.mkdir(parents=True, exist_ok=True)
    there = set(os.listdir(stored))
    source, target = str(folder), str(stored)  # strings: pathlib costs 0.4 s over 10,000 names
    out: dict[str, Stamp] = {}
    for name in sorted(names):
        if name in known and name in there:
            out[name] = known[name]
            continue
        path = os.path.join(target, name)
        if name in there:
            os.link(os.path.join(source, name), path + ".tmp")
            os.replace(path + ".tmp", path)
        else:
            os.link(os.path.join(source, name), path)
        stamp = _stamp(path)
        if stamp is None:
            raise OSError(path)
        out[name] = stamp
    for name in there - names:
        os.unlink(os.path.join(target, name))
    return out
