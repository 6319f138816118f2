"""Every page of the site: the renderer's own pages, then the comparative views built on it.

The one entry point of the render stage (build.py calls it). render.py and render_compare.py do not
import each other's entry points: the comparative renderer uses the base renderer, and this module
puts the two together.

Where the machine has two cores, the work runs side by side: this process renders the base pages
other than study pages, a forked one the comparative views, and then both take the study pages in
chunks until none is left. Sharing the study pages out as they come keeps the two busy for about as
long whether most pages are rendered (a first build) or read from the render cache (a rebuild, where
a study page costs a quarter of a rendering). The pages do not depend on how the work is split, so
the output is the same with one process or two (tests/test_build.py::test_two_builds_are_byte_identical
and test_render_golden.py).

With a render cache (render_cache.py), its files are read once, before the fork; each chunk's study
pages are looked up by their digests, those the cache holds are taken from it and only the others
rendered; the second process hands back which pages it rendered, and the cache is given them here, in
the one process that writes it (build.py saves it).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, MutableMapping
from typing import Any

from . import forked, urls
from .model import Model
from .render import Renderer
from .render_cache import StudyCache
from .render_compare import render_compare

PARALLEL_FROM = 400  # studies: below this, a second process costs more than it saves
CHUNK = 250  # study pages taken at a time by whichever process is free

Studies = tuple[dict[str, str], dict[str, str], list[str]]  # pages, study key -> digest, the keys rendered


def render(model: Model, dataset: dict[str, Any], changes: list[dict[str, Any]], bib_text: str,
           cite_cache: MutableMapping[str, str] | None = None, corrections: str = "",
           study_cache: StudyCache | None = None) -> dict[str, str]:
    """Every page; with a `study_cache`, the study pages it holds are read from it, and those rendered are put in it."""
    base = Renderer(model, dataset, changes, bib_text, cite_cache, corrections=corrections)
    cache = study_cache or StudyCache(None)
    if cache.folder is not None:
        try:
            base.study_digests([])  # the part of every digest that is the same: worked out once, before any fork
        except TypeError:  # an input with no canonical form (a YAML oddity in dataset.yaml): render without the cache
            cache = StudyCache(None)
    cache.load()
    keys = list(model.studies)
    if len(keys) < PARALLEL_FROM or not forked.available():
        studies = _studies(base, keys, cache)
        rest = base.render_rest()
        compare = render_compare(base)
    else:
        fork = multiprocessing.get_context("fork")
        handed_out = fork.Value("i", 0)

        def take() -> list[str]:
            with handed_out.get_lock():
                start = handed_out.value
                handed_out.value = start + CHUNK
            return keys[start:start + CHUNK]

        def second() -> tuple[dict[str, str], Studies]:
            out = render_compare(base)
            return out, _shared(base, take, cache)

        child = forked.Forked(second)
        rest = base.render_rest()
        studies = _shared(base, take, cache)
        answer = child.result()
        if answer is None:  # the second process failed: its share is done here (an error then shows where)
            done = studies[0]
            answer = render_compare(base), _studies(base, [k for k in keys if urls.study_page(k) not in done], cache)
        compare, theirs = answer
        studies = _merge(studies, theirs)
    found, digests, rendered = studies
    cache.keep(digests.values())
    for key in rendered:
        if key in digests:
            cache.put(digests[key], found[urls.study_page(key)])
    cache.hits += len(keys) - len(rendered)
    pages = {page: found[page] for page in map(urls.study_page, keys)}  # in the order of the keys, however shared out
    pages.update(rest)
    pages.update(compare)
    return pages


def _shared(base: Renderer, take: Callable[[], list[str]], cache: StudyCache) -> Studies:
    """The study pages of every chunk this process takes."""
    out: Studies = ({}, {}, [])
    while chunk := take():
        out = _merge(out, _studies(base, chunk, cache))
    return out


def _merge(a: Studies, b: Studies) -> Studies:
    a[0].update(b[0])
    a[1].update(b[1])
    a[2].extend(b[2])
    return a


def _studies(base: Renderer, keys: list[str], cache: StudyCache) -> Studies:
    """The study pages of `keys`, read from the cache where it holds them and rendered where not; also
    each study's digest and the keys rendered."""
    if cache.folder is None:
        return base.render_studies(keys), {}, list(keys)
    digests = base.study_digests(keys)
    found = {key: cache.get(digests[key]) for key in keys}
    todo = [key for key, text in found.items() if text is None]
    pages = base.render_studies(todo)
    out: dict[str, str] = {}
    for key, text in found.items():
        page = urls.study_page(key)
        out[page] = pages[page] if text is None else text
    return out, digests, todo
