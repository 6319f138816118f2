"""MkDocs plugin `atlas-nav`: the navigation entries of the dimensions, from the field spec.

mkdocs.yml holds the hand-written part of the navigation and one marker entry,
`- Browse: atlas:dimensions`. The generator writes the entries of the dimensions (their
term indexes: the main ones at the top level, the others under "Vocabularies") to
build/nav.json, from the spec and the codebook (nav_entries.py); this plugin puts them
where the marker stands before MkDocs resolves the navigation. A vocabulary added to
the codebook thus reaches the navigation with no edit of mkdocs.yml.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin

from .nav_entries import MARKER, NAV_FILE


# MkDocs' plugins take a config class parameter, and BasePlugin.__init_subclass__ is unannotated
class NavPlugin(BasePlugin):  # type: ignore[type-arg, no-untyped-call]
    def on_config(self, config: Any) -> Any:
        root = Path(config.config_file_path).resolve().parent if config.config_file_path else Path.cwd()
        path = root / NAV_FILE
        try:
            entries = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise PluginError(f"atlas-nav: {NAV_FILE} is missing or unreadable ({exc}); "
                              "run `evidence build`, which writes it") from exc
        nav = config.nav or []
        at = [i for i, item in enumerate(nav) if isinstance(item, dict) and MARKER in item.values()]
        if len(at) != 1:
            raise PluginError(f"atlas-nav: mkdocs.yml's nav needs exactly one entry whose page is '{MARKER}'")
        config.nav = [*nav[:at[0]], *entries, *nav[at[0] + 1:]]
        return config
