"""Every page of the site: the renderer's own pages, then the comparative views built on it.

The one entry point of the render stage (build.py calls it). render.py and render_compare.py do not
import each other's entry points: the comparative renderer uses the base renderer, and this module
puts the two together.

Where the machine has two cores, the work runs side by side, as jobs handed out as they come: first
the parts of the other pages (`Renderer.parts`, `CompareRenderer.parts`: the matrices and their cells,
the term pages, ...), the longest first; then the study pages in chunks until none is left. A chunk
also gives each of its studies' pieces of the files made of every study (`Wholes`: the explorer's
index, the dataset's files), which this process puts together at the end. Handing the jobs
out as they come keeps the two busy for about as long whether most study pages are rendered (a first
build) or read from the render cache (a rebuild, where the parts are most of the work). The pages do not
depend on how the work is split, and they are put together in one fixed order, so the output is the same
with one process or two (tests/test_build.py::test_two_builds_are_byte_identical, test_render_golden.py
and test_render_cache.py::test_two_processes_share_out_the_study_pages_and_fill_one_cache).

With a render cache (render_cache.py), its files are read once, before the fork; each chunk's study
pages are looked up by their digests, those the cache holds are taken from it and only the others
rendered, and the same for their pieces. The second process hands back the pages and pieces it made
and the digests of the others: this process reads those from the same cache, rather than have them
sent over (75 MB of pages at 10,000 studies).
It hands them back job by job, as files in a spool folder (`_spool`), while this process is still at
work: at the end this process reads them (0.1 s at 10,000 studies) rather than wait while one answer of
67 MB is pickled and sent (0.6 s). Whatever that process did not leave there (it died) is done here.
The cache is given the rendered pages and made pieces here, in the one process that writes it (build.py
saves it).
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from collections.abc import Callable, Iterator, MutableMapping
from pathlib import Path
from typing import Any

from . import forked, urls
from .model import Model
from .render import Renderer
from .render_cache import StudyCache, canonical, pack, pack_pages, unpack, unpack_pages
from .render_cite import study_data
from .render_compare import CompareRenderer

PARALLEL_FROM = 400  # studies: below this, a second process costs more than it saves
CHUNK = 250  # study pages taken at a time by whichever process is free
PARALLEL_RENDERS = 100  # study pages to render from which a second process pays when every part is cached
# The parts of the other pages, handed out first and the longest first, so that the last jobs are short
# (CPU seconds at 10,000 studies: matrices 1.2, indexes 0.4, views 0.3, about 0.1); any part not named
# here follows them.
TAKEN = ("matrices", "indexes", "views", "about")
SHM = "/dev/shm"  # where the second process leaves its results, if the system has it (_spool)
SHM_ROOM = 1 << 30  # bytes free there from which it is used

# Every page is handed on as its UTF-8 bytes: a page read from the render cache is never decoded and encoded
# again, and a rendered one is encoded in the process that rendered it (at 10,000 studies encoding the 170 MB
# of build/docs in build._sync took 0.55 s).
Pages = dict[str, bytes]
Pieces = tuple[bytes, bytes, bytes, bytes]  # a study's explorer entry, studies.csv row, claims.csv rows, evidence.json record
# pages, study key -> digest, the keys whose pages were rendered, study key -> its pieces (those made, and in
# this process those read from the cache as well), the keys whose pieces were made
Studies = tuple[Pages, dict[str, str], list[str], dict[str, Pieces], list[str]]
# the parts done (name -> their pages, and whether they were made rather than read), the study pages done
Done = tuple[dict[str, tuple[Pages, bool]], Studies]
Job = Callable[[bool], Done]


class Wholes:
    """The files made of one piece of every study: the explorer's index (an entry a study) and the dataset's
    files (a row of data/studies.csv, the rows of data/claims.csv, a record of data/evidence.json).

    A study's pieces are made with its page (in whichever process renders that) and kept in the render cache
    beside it, under a key made from the page's digest, which covers everything they are made from (the
    study, its formatted references, the field spec, the code), and a digest of the explorer's term
    positions (`salt`), the one thing they read from the rest of the base. A one-record rebuild then puts
    the files together from 10,000 stored pieces rather than making them again (0.9 CPU-s at 10,000
    studies). The files have the bytes of files written in one go (tests/test_render_golden.py)."""

    def __init__(self, base: Renderer, compare: CompareRenderer) -> None:
        self.base, self.compare = base, compare
        positions = canonical(compare.explorer_facets[1])  # worked out before any fork
        self.salt = hashlib.sha256(PIECES + b"\0" + positions.encode("utf-8")).digest()

    def key(self, digest: str) -> str:
        """The cache key of the pieces of the study whose page has `digest`."""
        return hashlib.sha256(self.salt + digest.encode("ascii")).hexdigest()

    def make(self, key: str) -> Pieces:
        """A study's pieces."""
        return (self.compare.explorer_entry(key), *study_data(self.base.model, key))

    def read(self, cache: StudyCache, digest: str) -> Pieces | None:
        """The pieces of the study whose page has `digest`, from the cache; None if it holds none (or bytes that
        are not four pieces)."""
        stored = cache.get_bytes(self.key(digest))
        pieces = unpack(stored) if stored is not None else None
        return (pieces[0], pieces[1], pieces[2], pieces[3]) if pieces is not None and len(pieces) == 4 else None

    def files(self, pieces: list[Pieces]) -> dict[str, Pages]:
        """The explorer's files and the dataset's files, from every study's pieces in the order of the studies."""
        return {"data": self.base.data_files([p[1:] for p in pieces]),
                "explorer": self.compare.explorer_files([p[0] for p in pieces])}


PIECES = b"atlas-study-pieces 2"  # in every pieces key; a new packing changes it
PART = b"atlas-part 2"  # in every part's key (_part_key); a new packing changes it


def render(model: Model, dataset: dict[str, Any], changes: list[dict[str, Any]], bib_text: str,
           cite_cache: MutableMapping[str, str] | None = None, corrections: str = "",
           study_cache: StudyCache | None = None, template_cache: Path | None = None) -> Pages:
    """Every page, as UTF-8; with a `study_cache`, the study pages it holds are read from it, and those rendered are put in it;
    with a `template_cache` folder, the compiled templates are kept there."""
    base = Renderer(model, dataset, changes, bib_text, cite_cache, corrections=corrections,
                    template_cache=template_cache)
    compare = CompareRenderer(base)
    wholes = Wholes(base, compare)
    cache = study_cache or StudyCache(None)
    if cache.folder is not None:
        try:
            base.study_digests([])  # the part of every digest that is the same: worked out once, before any fork
        except TypeError:  # an input with no canonical form (a YAML oddity in dataset.yaml): render without the cache
            cache = StudyCache(None)
        else:
            base.parts_digest()  # the same, for the parts of the other pages
    cache.load()
    keys = list(model.studies)
    parts = {**base.parts(), **compare.parts()}  # in the order the pages are put together
    jobs = [_part(name, parts[name], base, cache) for name in TAKEN if name in parts]
    jobs += [_part(name, make, base, cache) for name, make in parts.items() if name not in TAKEN]
    jobs += [_chunk(base, wholes, keys[start:start + CHUNK], cache) for start in range(0, len(keys), CHUNK)]
    if not _worth_a_second_process(base, cache, keys, list(parts)):
        done = _run(_counter(len(jobs)), jobs, True)
    else:
        handed_out = forked.Shared(0)

        def take() -> int:
            with handed_out:
                job = handed_out.values[0]
                handed_out.values[0] = job + 1
            if job >= len(jobs):
                raise StopIteration
            return job

        with tempfile.TemporaryDirectory(prefix="atlas-render-", dir=_spool_folder(), ignore_cleanup_errors=True) as spool:
            child = forked.Forked(_spool, take, jobs, spool)
            try:
                done = _run(take, jobs, True)
            except BaseException:  # a failure here (a bug, Ctrl-C): the other stops before its folder goes
                child.stop()
                raise
            child.result()  # None if it failed: what it finished is in the spool all the same
            handed_out.close()
            for theirs in _unspool(spool):
                _add(done, theirs)
        # what the second process did not finish (it failed) is done here, where an error then shows
        missing = [_part(name, parts[name], base, cache) for name in parts if name not in done[0]]
        left = [key for key in keys if key not in done[1][1] and urls.study_page(key) not in done[1][0]]
        if left:
            missing.append(_chunk(base, wholes, left, cache))
        _run(_counter(len(missing)), missing, True, done)
    return _put_together(base, wholes, cache, keys, list(parts), done)


def _worth_a_second_process(base: Renderer, cache: StudyCache, keys: list[str], parts: list[str]) -> bool:
    """Whether the render is shared with a second process: from PARALLEL_FROM studies, unless the render cache
    holds every part and all but PARALLEL_RENDERS study pages (a rebuild after an edit that only a study's own
    page shows). What is left then is reading, which a second process made slower, not faster (0.116 s against
    0.108 s at 1,000 studies), and it took the second core from MkDocs, which starts beside the generator. The
    digests worked out to count the pages to render are kept (Renderer.study_digests) for the render itself."""
    if len(keys) < PARALLEL_FROM or not forked.available():
        return False
    part_keys = [_part_key(base, cache, name) for name in parts]
    if not all(key is not None and cache.holds(key) for key in part_keys):  # parts to make (or no cache)
        return True
    digests = base.study_digests(keys)
    return sum(1 for key in keys if not cache.holds(digests[key])) >= PARALLEL_RENDERS


def _put_together(base: Renderer, wholes: Wholes, cache: StudyCache, keys: list[str], parts: list[str],
                  done: Done) -> Pages:
    """Every page, in one fixed order however the work was shared out: the study pages, the parts, then the
    files made of every study's pieces; the cache is given what was rendered and made."""
    found, digests, rendered, pieces_done, made = done[1]
    cache.keep(digests.values())
    for key in rendered:
        if key in digests:
            cache.put(digests[key], found[urls.study_page(key)])
    cache.hits += len(keys) - len(rendered)
    pages: Pages = {}
    pieces = []
    made_now = set(made)
    for key in keys:  # in the order of the keys, however shared out
        page = urls.study_page(key)
        text = found.get(page)
        if text is None:  # read from the cache by the second process: read here from the same bytes
            text = cache.get(digests[key])
            if text is None:  # the same bytes pass the same check; rendered rather than lost all the same
                text = base.render_studies([key])[page].encode("utf-8")
        pages[page] = text
        pieces.append(_pieces(wholes, cache, key, digests.get(key), pieces_done.get(key), key in made_now))
    for name in parts:
        part, part_made = done[0][name]
        pages.update(part)
        part_key = _part_key(base, cache, name)
        if part_key is not None:
            cache.keep([part_key])
            if part_made:  # not in the cache, or damaged there
                cache.put(part_key, pack_pages(part))
    for whole in wholes.files(pieces).values():
        pages.update(whole)
    return pages


def _pieces(wholes: Wholes, cache: StudyCache, key: str, digest: str | None, done: Pieces | None,
            made: bool) -> Pieces:
    """A study's pieces: as a job left them, or read from the cache (where the second process read them), or
    made here (the second process failed before it answered); those made are put in the cache."""
    if done is None and digest is not None:
        done = wholes.read(cache, digest)
    if done is None:
        done, made = wholes.make(key), True
    if digest is not None and cache.folder is not None:
        store = wholes.key(digest)
        cache.keep([store])
        if made:
            cache.put(store, pack(done))
    return done


def _counter(n: int) -> Callable[[], int]:
    """Jobs 0 to n-1, for one process."""
    return iter(range(n)).__next__


def _part(name: str, make: Callable[[], dict[str, str]], base: Renderer, cache: StudyCache) -> Job:
    """A part of the other pages: read from the render cache where it holds the part made from the same
    inputs (`_part_key`), made otherwise (`_put_together` puts it in the cache: it was not there, or its
    bytes there, though whole, are no packing of pages)."""
    def job(_here: bool) -> Done:
        key = _part_key(base, cache, name)
        stored = cache.get_bytes(key) if key is not None else None
        pages = unpack_pages(stored) if stored is not None else None
        made = pages is None
        if pages is None:
            pages = _encoded(make())
        return {name: (pages, made)}, ({}, {}, [], {}, [])
    return job


def _part_key(base: Renderer, cache: StudyCache, name: str) -> str | None:
    """The cache key of a part of the other pages: its name and what every such part is made from
    (`Renderer.parts_digest`). None without a cache (the digest is then not worked out)."""
    digest = base.parts_digest() if cache.folder is not None else None
    if digest is None:
        return None
    return hashlib.sha256(PART + b"\0" + name.encode("utf-8") + b"\0" + digest.encode("ascii")).hexdigest()


def _chunk(base: Renderer, wholes: Wholes, keys: list[str], cache: StudyCache) -> Job:
    def job(here: bool) -> Done:
        return {}, _studies(base, wholes, keys, cache, here)
    return job


def _run(take: Callable[[], int], jobs: list[Job], here: bool, out: Done | None = None) -> Done:
    """Every job this process takes, added to `out`. `here`: this is the process that puts the pages
    together; the other leaves out the study pages it read from the cache."""
    out = out if out is not None else ({}, ({}, {}, [], {}, []))
    for result in _taken(take, jobs, here):
        _add(out, result)
    return out


def _taken(take: Callable[[], int], jobs: list[Job], here: bool) -> Iterator[Done]:
    """The result of each job this process takes, as it is done, until `take` raises StopIteration."""
    while True:
        try:
            job = take()
        except StopIteration:
            return
        yield jobs[job](here)


def _spool_folder() -> str | None:
    """Where the second process leaves its results: memory (/dev/shm) where the system has it with room to
    spare (a container's is often 64 MB; the results are 67 MB at 10,000 studies), else the temporary folder."""
    try:
        st = os.statvfs(SHM)
    except (OSError, AttributeError):  # no such folder, or no statvfs (Windows)
        return None
    return SHM if st.f_bavail * st.f_frsize >= SHM_ROOM and os.access(SHM, os.W_OK) else None


def _spool(take: Callable[[], int], jobs: list[Job], folder: str) -> int:
    """What the second process runs: every job it takes (as `_run`), each one's result pickled to a file of
    its own in `folder` as soon as it is done, so that this process reads them when it has finished its own
    share rather than wait for one large answer at the end (67 MB at 10,000 studies, 0.6 s to pickle and
    send after the last job). A file appears whole (written, then renamed) or not at all. Returns how many."""
    n = 0
    for n, result in enumerate(_taken(take, jobs, False), 1):
        path = os.path.join(folder, f"{n:05d}")
        with open(path + ".tmp", "wb") as f:
            pickle.dump(result, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(path + ".tmp", path + ".done")
    return n


def _unspool(folder: str) -> list[Done]:
    """The results the second process left in `folder`, in the order it finished them; one that cannot be
    read is left out (its work is then done again here)."""
    out: list[Done] = []
    for name in sorted(n for n in os.listdir(folder) if n.endswith(".done")):
        try:
            with open(os.path.join(folder, name), "rb") as f:
                out.append(pickle.load(f))
        except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError, AttributeError):
            continue
    return out


def _add(out: Done, result: Done) -> None:
    """One job's result, added to what is done."""
    parts, (pages, digests, rendered, pieces, made) = result
    out[0].update(parts)
    out[1][0].update(pages)
    out[1][1].update(digests)
    out[1][2].extend(rendered)
    out[1][3].update(pieces)
    out[1][4].extend(made)


def _studies(base: Renderer, wholes: Wholes, keys: list[str], cache: StudyCache, here: bool = True) -> Studies:
    """The study pages of `keys`, read from the cache where it holds them and rendered where not, and the same
    for their pieces (`Wholes`); also each study's digest, the keys rendered and the keys whose pieces were
    made. Not `here`, the pages and pieces read from the cache are left out (this process reads them)."""
    if cache.folder is None:
        return _encoded(base.render_studies(keys)), {}, list(keys), {key: wholes.make(key) for key in keys}, list(keys)
    digests = base.study_digests(keys)
    found = {key: cache.get(digests[key]) for key in keys}
    todo = [key for key, text in found.items() if text is None]
    pages = _encoded(base.render_studies(todo))
    pieces: dict[str, Pieces] = {}
    made: list[str] = []
    for key in keys:
        stored = wholes.read(cache, digests[key])
        if stored is None:
            pieces[key] = wholes.make(key)
            made.append(key)
        elif here:
            pieces[key] = stored
        text = found[key]
        if here and text is not None:
            pages[urls.study_page(key)] = text
    return pages, digests, todo, pieces, made


def _encoded(pages: dict[str, str]) -> Pages:
    return {rel: text.encode("utf-8") for rel, text in pages.items()}
