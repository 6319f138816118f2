"""What `evidence build` hands to MkDocs' atlas-cache plugin, named once for both sides.

The generator (build.py) never imports MkDocs, and the plugin (site_cache.py) does, so the names they share
live here, in a module that imports neither.
"""

from __future__ import annotations

from pathlib import Path

# Written by the generator's sync of build/docs (build._sync): each file with the SHA-1 of its bytes, its size
# and its modification time, as the generator wrote it. The plugin knows an unchanged page by it.
DOCS_MANIFEST = Path("build/cache/docs.json")
# An environment value: a folder of the last site's folders, made while the generator ran (build._Premade), to
# move into the site directory once MkDocs has emptied it.
PREMADE_DIRS = "ATLAS_PREMADE_DIRS"
# An environment value: the descriptor of the pipe on which `evidence build` gives a `mkdocs build` it started
# early the go, once build/docs is written (build._SiteBuilder, site_cache._await_go).
GO_FD = "ATLAS_GO_FD"
NOT_BUILT = 3  # how that `mkdocs build` ends when the pipe closes without the go
