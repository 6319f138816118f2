"""Every page of the site: the renderer's own pages, then the comparative views built on it.

The one entry point of the render stage (build.py calls it). render.py and render_compare.py do not
import each other's entry points: the comparative renderer uses the base renderer, and this module
puts the two together.

Where the machine has two cores, the work runs side by side, as jobs handed out as they come. This
process first makes the parts of the other pages whose output is largest (`HERE`: the data files and the
explorer's index), so that they are not sent over from the other process; that one meanwhile takes the
other parts (`Renderer.parts`, `CompareRenderer.parts`: the matrices and their cells, the term pages,
...), the longest first; then both take the study pages in chunks until none is left. Handing the jobs
out as they come keeps the two busy for about as long whether most study pages are rendered (a first
build) or read from the render cache (a rebuild, where the parts are most of the work). The pages do not
depend on how the work is split, and they are put together in one fixed order, so the output is the same
with one process or two (tests/test_build.py::test_two_builds_are_byte_identical, test_render_golden.py
and test_render_cache.py::test_two_processes_share_out_the_study_pages_and_fill_one_cache).

With a render cache (render_cache.py), its files are read once, before the fork; each chunk's study
pages are looked up by their digests, those the cache holds are taken from it and only the others
rendered. The second process hands back the pages it rendered and the digests of the others: this
process reads those from the same cache, rather than have them sent over (75 MB at 10,000 studies).
It hands them back job by job, as files in a spool folder (`_spool`), while this process is still at
work: at the end this process reads them (0.1 s at 10,000 studies) rather than wait while one answer of
67 MB is pickled and sent (0.6 s). Whatever that process did not leave there (it died) is done here.
The cache is given the rendered pages here, in the one process that writes it (build.py saves it).
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import tempfile
from collections.abc import Callable, Iterator, MutableMapping
from pathlib import Path
from typing import Any

from . import forked, urls
from .model import Model
from .render import Renderer
from .render_cache import StudyCache
from .render_compare import CompareRenderer

PARALLEL_FROM = 400  # studies: below this, a second process costs more than it saves
CHUNK = 250  # study pages taken at a time by whichever process is free
# The parts whose pages are largest (at 10,000 studies the data files are 43 MB, the explorer's index 15 MB)
# are done in this process, first, so that they are not sent over from the other: the other meanwhile takes
# the rest of the parts, in the order they are handed out, the longest first, so that the last jobs are
# short (CPU seconds at 10,000 studies: here, explorer 1.3 and data 1.0; handed out, matrices 1.5,
# indexes 0.6, views 0.3, about 0.1).
HERE = ("explorer", "data")
TAKEN = ("matrices", "indexes", "views", "about")
SHM = "/dev/shm"  # where the second process leaves its results, if the system has it (_spool)
SHM_ROOM = 1 << 30  # bytes free there from which it is used

Studies = tuple[dict[str, str], dict[str, str], list[str]]  # pages, study key -> digest, the keys rendered
Done = tuple[dict[str, dict[str, str]], Studies]  # the parts done (name -> their pages), the study pages done
Job = Callable[[bool], Done]


def render(model: Model, dataset: dict[str, Any], changes: list[dict[str, Any]], bib_text: str,
           cite_cache: MutableMapping[str, str] | None = None, corrections: str = "",
           study_cache: StudyCache | None = None, template_cache: Path | None = None) -> dict[str, str]:
    """Every page; with a `study_cache`, the study pages it holds are read from it, and those rendered are put in it;
    with a `template_cache` folder, the compiled templates are kept there."""
    base = Renderer(model, dataset, changes, bib_text, cite_cache, corrections=corrections,
                    template_cache=template_cache)
    cache = study_cache or StudyCache(None)
    if cache.folder is not None:
        try:
            base.study_digests([])  # the part of every digest that is the same: worked out once, before any fork
        except TypeError:  # an input with no canonical form (a YAML oddity in dataset.yaml): render without the cache
            cache = StudyCache(None)
    cache.load()
    keys = list(model.studies)
    parts = {**base.parts(), **CompareRenderer(base).parts()}  # in the order the pages are put together
    mine = [_part(name, parts[name]) for name in HERE if name in parts]
    jobs = [_part(name, parts[name]) for name in TAKEN if name in parts]
    jobs += [_part(name, make) for name, make in parts.items() if name not in HERE + TAKEN]
    jobs += [_chunk(base, keys[start:start + CHUNK], cache) for start in range(0, len(keys), CHUNK)]
    if len(keys) < PARALLEL_FROM or not forked.available():
        done = _run(_counter(len(mine) + len(jobs)), mine + jobs, True)
    else:
        handed_out = multiprocessing.get_context("fork").Value("i", 0)

        def take() -> int:
            with handed_out.get_lock():
                job: int = handed_out.value
                handed_out.value = job + 1
            if job >= len(jobs):
                raise StopIteration
            return job

        with tempfile.TemporaryDirectory(prefix="atlas-render-", dir=_spool_folder(), ignore_cleanup_errors=True) as spool:
            child = forked.Forked(_spool, take, jobs, spool)
            try:
                done = _run(_counter(len(mine)), mine, True)
                _run(take, jobs, True, done)
            except BaseException:  # a failure here (a bug, Ctrl-C): the other stops before its folder goes
                child.stop()
                raise
            child.result()  # None if it failed: what it finished is in the spool all the same
            for theirs in _unspool(spool):
                _add(done, theirs)
        # what the second process did not finish (it failed) is done here, where an error then shows
        missing = [_part(name, parts[name]) for name in parts if name not in done[0]]
        left = [key for key in keys if key not in done[1][1] and urls.study_page(key) not in done[1][0]]
        if left:
            missing.append(_chunk(base, left, cache))
        _run(_counter(len(missing)), missing, True, done)
    found, digests, rendered = done[1]
    cache.keep(digests.values())
    for key in rendered:
        if key in digests:
            cache.put(digests[key], found[urls.study_page(key)])
    cache.hits += len(keys) - len(rendered)
    pages: dict[str, str] = {}
    for key in keys:  # in the order of the keys, however shared out
        page = urls.study_page(key)
        text = found.get(page)
        if text is None:  # read from the cache by the second process: read here from the same bytes
            text = cache.get(digests[key])
            if text is None:  # the same bytes pass the same check; rendered rather than lost all the same
                text = base.render_studies([key])[page]
        pages[page] = text
    for name in parts:
        pages.update(done[0][name])
    return pages


def _counter(n: int) -> Callable[[], int]:
    """Jobs 0 to n-1, for one process."""
    return iter(range(n)).__next__


def _part(name: str, make: Callable[[], dict[str, str]]) -> Job:
    def job(_here: bool) -> Done:
        return {name: make()}, ({}, {}, [])
    return job


def _chunk(base: Renderer, keys: list[str], cache: StudyCache) -> Job:
    def job(here: bool) -> Done:
        return {}, _studies(base, keys, cache, here)
    return job


def _run(take: Callable[[], int], jobs: list[Job], here: bool, out: Done | None = None) -> Done:
    """Every job this process takes, added to `out`. `here`: this is the process that puts the pages
    together; the other leaves out the study pages it read from the cache."""
    out = out if out is not None else ({}, ({}, {}, []))
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
    parts, (pages, digests, rendered) = result
    out[0].update(parts)
    out[1][0].update(pages)
    out[1][1].update(digests)
    out[1][2].extend(rendered)


def _studies(base: Renderer, keys: list[str], cache: StudyCache, here: bool = True) -> Studies:
    """The study pages of `keys`, read from the cache where it holds them and rendered where not; also
    each study's digest and the keys rendered. Not `here`, the pages read from the cache are left out."""
    if cache.folder is None:
        return base.render_studies(keys), {}, list(keys)
    digests = base.study_digests(keys)
    found = {key: cache.get(digests[key]) for key in keys}
    todo = [key for key, text in found.items() if text is None]
    pages = base.render_studies(todo)
    if here:
        for key, text in found.items():
            if text is not None:
                pages[urls.study_page(key)] = text
    return pages, digests, todo
