"""Every page of the site: the renderer's own pages, then the comparative views built on it.

The one entry point of the render stage (build.py calls it). render.py and render_compare.py do not
import each other's entry points: the comparative renderer uses the base renderer, and this module
puts the two together.

Rendering is split in two halves of about equal work that run side by side where the machine has
two cores (a forked process renders the comparative views and half of the study pages). The pages
do not depend on how the work is split, so the output is the same with one process or two
(tests/test_build.py::test_two_builds_are_byte_identical and test_render_golden.py).
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
from collections.abc import MutableMapping
from typing import Any

from .model import Model
from .render import Renderer
from .render_compare import render_compare

PARALLEL_FROM = 400  # studies: below this, a second process costs more than it saves


def render(model: Model, dataset: dict[str, Any], changes: list[dict[str, Any]], bib_text: str,
           cite_cache: MutableMapping[str, str] | None = None, corrections: str = "") -> dict[str, str]:
    base = Renderer(model, dataset, changes, bib_text, cite_cache, corrections=corrections)
    keys = list(model.studies)
    half = len(keys) * 2 // 5  # the comparative views weigh about a fifth of the study pages

    def second() -> dict[str, str]:
        out = base.render_studies(keys[half:])
        out.update(render_compare(base))
        return out

    if len(keys) < PARALLEL_FROM or (os.cpu_count() or 1) < 2 or "fork" not in multiprocessing.get_all_start_methods():
        pages = base.render_studies(keys[:half])
        pages.update(base.render_rest())
        pages.update(second())
        return pages
    fork = multiprocessing.get_context("fork")
    reader, writer = fork.Pipe(duplex=False)
    child = fork.Process(target=_run, args=(second, writer), daemon=True)
    child.start()
    writer.close()
    pages = base.render_studies(keys[:half])
    pages.update(base.render_rest())
    try:
        data = reader.recv_bytes()
    except EOFError:
        data = b""
    child.join()
    if child.exitcode != 0 or not data:
        raise RuntimeError(f"the second render process failed (exit code {child.exitcode})")
    pages.update(pickle.loads(data))
    return pages


def _run(job: Any, writer: Any) -> None:
    writer.send_bytes(pickle.dumps(job(), protocol=pickle.HIGHEST_PROTOCOL))
    writer.close()
