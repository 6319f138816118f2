"""Every page of the site: the renderer's own pages, then the comparative views built on it.

The one entry point of the render stage (build.py calls it). render.py and render_compare.py do not
import each other's entry points: the comparative renderer uses the base renderer, and this module
puts the two together.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from .model import Model
from .render import Renderer
from .render_compare import render_compare


def render(model: Model, dataset: dict[str, Any], changes: list[dict[str, Any]], bib_text: str,
           cite_cache: MutableMapping[str, str] | None = None, corrections: str = "") -> dict[str, str]:
    base = Renderer(model, dataset, changes, bib_text, cite_cache, corrections=corrections)
    pages = base.render_all()
    pages.update(render_compare(base))
    return pages
