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

Pagefind does not read the site itself but its reading copy (`ReadingCopy`, build/cache/search/pages/):
every page it indexes, with what comes before the element marked data-pagefind-body (the head's styles,
scripts and citation metadata, the header, the navigation: half of a study page) cut down to the page's
<html> tag and <title>. Pagefind takes nothing from that part of a page, but it parses every byte it
reads, and its time goes by the byte: on 1,000 studies it indexed the copy in 0.77-0.79 s against
0.91-0.98 s for the site (three runs each, alternating). The index is the same file by file (tested on
the atlas's own site in tests/test_build.py, and on hand-made pages in tests/test_search_cache.py). A
page is copied whole when anything there could matter to Pagefind: a `data-pagefind-` attribute or text
before the body element, a script, style or comment left open there, or no body element at all. The
copy is kept between builds, with a manifest of the stamp of each page's HTML file it was made from, so
a rebuild copies only the pages that changed.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import re
import shutil
import zlib
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

import cbor2
import orjson

from . import forked
from .files import write_whole
from .urls import COMPARE

FOLDER = Path("build/cache/search")
FORMAT = 1  # what the manifest holds; a change makes every fragment new once
COPY_FORMAT = 1  # how ReadingCopy cuts a page; a change makes the copy again once
OUTPUT = "pagefind"  # the index's folder in the site (Pagefind's `--output-path`)
PREFIX = b"pagefind_dcd"  # begins every decompressed Pagefind file
SUFFIX = ".pf_fragment"
CHUNK_SUFFIX = ".pf_index"
_URL = re.compile(rb'\{"url":("(?:[^"\\]|\\.)*")[,}]')  # a fragment's first field
MARK = b"data-pagefind-"
# the start tag that carries data-pagefind-body as an attribute: no quote, < or > between its < and the name
# (matched, like everything below, in the page's lower-cased copy: HTML's names are not case-sensitive)
_BODY_TAG = re.compile(rb"<[a-z][^\s/<>\"']*(?:\s[^<>\"']*)?\sdata-pagefind-body(?=[\s/>=])")
_HTML_TAG = re.compile(rb"<html(?:\s[^>]*)?>")
_TITLE = re.compile(rb"(?s)<title(?:\s[^>]*)?>.*?</title\s*>")
# what makes text before the body element read otherwise than as tags: raw text elements and comments
# (and declarations such as <!doctype>, read up to their first >)
_OPEN = re.compile(rb"<(script|style|textarea|title)[\s>]|<!--|<[!?]")
_CLOSE = {kind: re.compile(rb"</" + kind + rb"\s*>") for kind in (b"script", b"style", b"textarea", b"title")}
_CLOSE[b"<!--"] = re.compile(rb"-->")
_CLOSE[b"<!"] = _CLOSE[b"<?"] = re.compile(rb">")
PARALLEL_COPIES = 2000  # pages to copy from which a second process copies half of them

Stamp = list[int]  # device, inode, size, modification time (ns) of a page's HTML file


def identity(options: list[str]) -> str:
    """What besides a page's HTML makes its fragment: the Pagefind version, the options it runs with, and
    how the reading copy cuts the page (COPY_FORMAT)."""
    versions = []
    for name in ("pagefind", "pagefind_bin"):
        try:
            versions.append(f"{name}={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name}=?")
    return json.dumps([FORMAT, COPY_FORMAT, versions, options])


def _stamp(path: str) -> Stamp | None:
    try:
        return _stamp_of(os.stat(path))
    except OSError:
        return None


def _stamp_of(st: os.stat_result) -> Stamp:
    return [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns]


def cut(page: bytes) -> tuple[bytes, int]:
    """What Pagefind needs to read of a page: the element marked data-pagefind-body and all that follows it
    (`page[start:]`), behind the page's <html> tag and <title> (`head`); or the whole page (an empty head
    and 0) when anything before that element could matter to Pagefind (see the module's docstring)."""
    low = page.lower()
    mark = low.find(MARK)
    if mark < 0:  # no body element (nor anything else of Pagefind's): the page is read whole
        return b"", 0
    pos = 0
    while (opened := _OPEN.search(low, pos, mark)) is not None:
        closed = _CLOSE[opened.group(1) or opened.group()].search(low, opened.end(), mark)
        if closed is None:  # the mark is inside raw text, a comment or a declaration
            return b"", 0
        pos = closed.end()
    start = low.rfind(b"<", pos, mark)
    tag = _BODY_TAG.match(low, start) if start >= 0 else None
    if tag is None or tag.end() - len(b"data-pagefind-body") != mark:
        return b"", 0  # the first mark is not the body element's attribute
    html = _HTML_TAG.search(low, 0, start)
    title = _TITLE.search(low, 0, start)
    return b"".join((b"<!doctype html>", page[html.start():html.end()] if html else b"", b"<head>",
                     page[title.start():title.end()] if title else b"", b"</head><body>")), start


def indexed_pages(site: Path) -> dict[str, Stamp]:
    """The pages Pagefind indexes, by their path in the site, with their files' stamps: every HTML file but
    the index's own (pagefind/) and the matrix cells' (compare/<matrix>/<cell>/index.html).

    Cells stay out of search (their front matter says `search: exclude`, so they carry no
    data-pagefind-body and Pagefind would index nothing of them), but Pagefind would still parse them: at
    10,000 studies 800 pages of 30 KB, about 2 s of the 15 s it took. The index is the same with or
    without them (tests/test_build.py::test_indexed_pages_leave_out_only_pages_kept_out_of_search)."""
    pages: dict[str, Stamp] = {}
    folders = [("", str(site))]
    while folders:
        rel, path = folders.pop()
        with os.scandir(path) as entries:
            for entry in entries:
                name = rel + entry.name
                if entry.is_dir(follow_symlinks=False):
                    if rel == COMPARE + "/":  # a matrix: its own page, not its cells
                        stamp = _stamp(os.path.join(entry.path, "index.html"))
                        if stamp is not None:
                            pages[name + "/index.html"] = stamp
                    elif name != OUTPUT:
                        folders.append((name + "/", entry.path))
                elif entry.name.endswith(".html"):
                    pages[name] = _stamp_of(entry.stat())
    return pages


class ReadingCopy:
    """build/cache/search/pages/: each page Pagefind indexes, as `cut` leaves it, kept between builds.

    Its manifest (pages.json) gives, for each page, the stamp of the site's HTML file it was made from
    and the stamp of the copy. The copy holds exactly the pages the manifest names whenever there is a
    manifest: it is removed before the copy changes and written after, and without it the copy is made
    again from nothing."""

    def __init__(self, cache: Path) -> None:
        self.folder = cache / "pages"
        self.manifest = cache / "pages.json"
        self.copied = 0  # pages cut and written in this build

    def update(self, site: Path) -> dict[str, Stamp]:
        """Make the copy hold the site's indexed pages as the site now has them, copying only those whose
        HTML file is not the one of last time; returns every indexed page's stamp. Raises OSError.

        From PARALLEL_COPIES pages to copy (a first build at 10,000 studies copies 10,000, 1.6 s on one
        core), a second process copies half of them."""
        pages = indexed_pages(site)
        old = self._read()
        with contextlib.suppress(FileNotFoundError):
            self.manifest.unlink()
        if old is None:  # made again from nothing, whatever is there
            if self.folder.is_dir() and not self.folder.is_symlink():
                shutil.rmtree(self.folder)
            else:
                self.folder.unlink(missing_ok=True)
            old = {}
        folder = str(self.folder)  # strings: pathlib is slow over 10,000 names
        kept: dict[str, list[Stamp]] = {}
        stale: list[str] = []
        for rel, stamp in pages.items():
            entry = old.pop(rel, None)
            if entry is not None and entry[0] == stamp and _stamp(os.path.join(folder, rel)) == entry[1]:
                kept[rel] = entry
            else:
                stale.append(rel)
        theirs = stale[len(stale) // 2:] if len(stale) >= PARALLEL_COPIES and forked.available() else []
        helper = forked.Forked(_copy, str(site), folder, theirs) if theirs else None
        copied = _copy(str(site), folder, stale[:len(stale) - len(theirs)])
        if helper is not None:
            done = helper.result()
            copied.update(_copy(str(site), folder, theirs) if done is None else done)  # it failed: copied here
        for rel, copy_stamp in copied.items():
            kept[rel] = [pages[rel], copy_stamp]
        self.copied = len(copied)
        for rel in old:  # pages the site no longer has
            path = os.path.join(folder, rel)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
            with contextlib.suppress(OSError):
                os.removedirs(os.path.dirname(path))  # its folders, up to the first that is not empty
        tmp = self.manifest.with_suffix(".tmp")
        tmp.write_bytes(orjson.dumps({"format": COPY_FORMAT, "pages": kept}))
        tmp.replace(self.manifest)
        return pages

    def _read(self) -> dict[str, list[Stamp]] | None:
        """The last build's manifest, or None if there is none this code can trust."""
        try:
            manifest = orjson.loads(self.manifest.read_bytes())
        except (OSError, ValueError):
            return None
        if not isinstance(manifest, dict) or manifest.get("format") != COPY_FORMAT \
                or not isinstance(manifest.get("pages"), dict):
            return None
        pages: dict[str, list[Stamp]] = manifest["pages"]
        for rel, entry in pages.items():
            if rel.startswith("/") or "\\" in rel or ".." in rel.split("/") \
                    or not (isinstance(entry, list) and len(entry) == 2):
                return None
        return pages


def _copy(site: str, folder: str, rels: list[str]) -> dict[str, Stamp]:
    """Copy each page, cut, from the site into the reading copy; return each copy's stamp. Raises OSError."""
    out: dict[str, Stamp] = {}
    for rel in rels:
        with open(os.path.join(site, rel), "rb") as f:
            page = f.read()
        head, start = cut(page)
        parts = (head, memoryview(page)[start:])
        target = os.path.join(folder, rel)
        try:
            st = write_whole(target, parts)
        except FileNotFoundError:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            st = write_whole(target, parts)
        out[rel] = _stamp_of(st)
    return out


def _page_file(url: str) -> str | None:
    """The HTML file (relative to the site) that Pagefind gave `url`: `/a/b/` is a/b/index.html."""
    if not url.startswith("/") or "\\" in url or "/../" in url + "/" or "?" in url or "#" in url:
        return None
    rel = url[1:]
    return rel + "index.html" if rel == "" or rel.endswith("/") else rel


class FragmentReuse:
    """One build's use of the fragment cache: `stage` while MkDocs works, `prepare` before Pagefind runs,
    `finish` after it succeeds."""

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
        self._side = cache / "staged"  # where `stage` links the last build's files
        self._staged: dict[str, list[Any]] | None = None  # staged fragment -> page, manifest entry, file stamp

    def stage(self) -> None:
        """Link the last build's fragments and index chunks whose stored files are intact into a side folder
        (build/cache/search/staged/), for `prepare` to move into the site. A build calls this while MkDocs
        works and this process only waits for it: at 1,000 studies the 1,200 links took 0.025-0.04 s."""
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
        self._staged = {}
        shutil.rmtree(self._side, ignore_errors=True)
        self._link_chunks(chunks)
        stored, target = str(self.cache / "fragment"), str(self._side / "fragment")
        made = False
        for rel, entry in sorted(pages.items()):
            if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], str)):
                continue
            name = entry[0]
            if not name.endswith(SUFFIX) or "/" in name or name in self._staged or name not in stamps:
                continue
            source = os.path.join(stored, name)
            if _stamp(source) != stamps[name]:  # changed in place (through the site's link to it): not trusted
                continue
            if not made:
                os.makedirs(target, exist_ok=True)
                made = True
            try:
                os.link(source, os.path.join(target, name))
            except OSError:  # no hard links on this file system: Pagefind writes it
                continue
            self._staged[name] = [rel, entry, stamps[name]]

    def prepare(self, indexed: dict[str, Stamp]) -> int:
        """Put the staged fragments of pages whose HTML is unchanged, and the staged index chunks, into the
        site's index folder (staging them first if `stage` was not called); how many fragments.
        `indexed` gives the stamp of every page Pagefind will index (`indexed_pages`)."""
        if self._staged is None:
            self.stage()
        assert self._staged is not None
        try:
            for staged, folder in ((self._side / "fragment", self.fragments), (self._side / "index", self.chunks)):
                if staged.is_dir():
                    folder.parent.mkdir(parents=True, exist_ok=True)
                    _move(staged, folder)
        except OSError:  # nothing is reused; what did get in place, `finish` finds unnamed (then: from nothing)
            self._staged, self.linked_chunks = {}, {}
        shutil.rmtree(self._side, ignore_errors=True)
        for name, (rel, entry, stored) in self._staged.items():
            if indexed.get(rel) != entry[1]:  # the page changed or is gone: Pagefind writes what it needs
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(os.path.join(self.fragments, name))
                continue
            self.linked[name] = rel
            self._known[name] = [entry, stored]
        return len(self.linked)

    def _link_chunks(self, chunks: dict[str, Any]) -> None:
        """Link every index chunk of the last build into the side folder (Pagefind skips those whose
        content it would write again; `finish` removes the others)."""
        stored, target = str(self.cache / "index"), str(self._side / "index")
        for name, stamp in sorted(chunks.items()):
            if not name.endswith(CHUNK_SUFFIX) or "/" in name or os.sep in name:
                continue
            source = os.path.join(stored, name)
            if _stamp(source) != stamp:  # gone, or changed in place through the site's link: not trusted
                continue
            if not self.linked_chunks:
                os.makedirs(target, exist_ok=True)
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


def _move(staged: Path, folder: Path) -> None:
    """Put the files of `staged` into `folder` (which does not exist yet): one rename, or a link per file
    where a rename cannot be made (another file system); `staged` is gone afterwards. Raises OSError."""
    try:
        os.rename(staged, folder)
        return
    except OSError:
        pass
    folder.mkdir(parents=True, exist_ok=True)
    for name in os.listdir(staged):
        os.link(os.path.join(staged, name), os.path.join(folder, name))
    shutil.rmtree(staged)


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
