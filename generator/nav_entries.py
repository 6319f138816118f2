"""The dimensions' entries in the site's navigation, as the generator writes them to build/nav.json.

The atlas-nav plugin (site_nav.py) puts them where mkdocs.yml's nav has the marker entry. They are
here, apart from the plugin, so that the generator writes them without importing MkDocs (0.008 s of
every build's start-up).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

NAV_FILE = Path("build/nav.json")
MARKER = "atlas:dimensions"
GROUP = "Vocabularies"


def nav_entries(dimensions: list[tuple[str, str, str]]) -> list[Any]:
    """(nav place, label, index page) of each dimension, in display order -> MkDocs nav entries."""
    top = [{label: page} for place, label, page in dimensions if place == "top"]
    grouped = [{label: page} for place, label, page in dimensions if place != "top"]
    return [*top, *([{GROUP: grouped}] if grouped else [])]
