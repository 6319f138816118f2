"""A MkDocs plugin that reuses the HTML of pages whose inputs have not changed (`atlas-cache`).

MkDocs has no safe incremental build (`--dirty` leaves a truncated search index and stale
navigation), so every build renders every page. At 10,000 studies that is most of the build
time, although a changed record changes a handful of pages. This plugin renders a page only
when something it is made from has changed, and copies the HTML written last time otherwise.

A page's HTML is a function of:
- its Markdown source (front matter included);
- the configuration (mkdocs.yml, the environment values it reads, the versions of MkDocs,
  Material, Markdown and the other packages that render it, and the theme overrides);
- the site's structure: the navigation (titles and addresses) and the list of all files with
  their addresses, since links are resolved against them.

The cache key of a page is a hash of all three, so a reused page is byte-identical to the page a
full build would write (`tests/test_build.py::test_a_rebuild_reuses_pages_and_equals_a_full_build`).
Only pages outside the navigation are reused (studies, terms, matrix cells: nearly all pages at
scale); the few pages in the navigation are always rendered, since other pages show their titles.

Anchors: MkDocs checks, after rendering, that every link to `page#anchor` finds that anchor.
A reused page brings back, from the manifest, the anchors it defines and the anchored links it
makes, so the check sees exactly what a full build sees. The manifest is written only after a
build with no warning, so a page is never reused from a build that failed or warned.

Nothing here changes what a full build writes: with an empty cache (a fresh clone, CI, the Pages
workflow) every page is rendered as before.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import logging
import os
import shutil
from pathlib import Path
from typing import Any

from mkdocs.commands import build as mkdocs_build
from mkdocs.plugins import BasePlugin, event_priority
from mkdocs.structure.files import Files
from mkdocs.structure.nav import Navigation, Section
from mkdocs.structure.pages import Page

log = logging.getLogger("mkdocs.plugins.atlas-cache")

CACHE_DIR = Path("build/cache/pages")
FORMAT = "1"  # bump when what the manifest holds, or how a key is made, changes
PACKAGES = ("mkdocs", "mkdocs-material", "markdown", "pymdown-extensions", "jinja2", "pygments", "markupsafe",
            "minify-html")
KEEP_MANIFESTS = 3  # `evidence build` and `evidence serve` have different configs (site_url): keep both


class _WarningCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:  # noqa: ARG002 - logging.Handler.emit signature
        self.count += 1


def _digest(*parts: str | bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
    return h.hexdigest()


def _tree_digest(root: Path) -> str:
    if not root.is_dir():
        return ""
    parts: list[str | bytes] = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        parts += [path.relative_to(root).as_posix(), path.read_bytes()]
    return _digest(*parts)


def _versions() -> str:
    out = []
    for name in PACKAGES:
        try:
            out.append(f"{name}=={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            out.append(f"{name}==none")
    return ";".join(out)


def _nav_items(items: list[Any]) -> list[Any]:
    out: list[Any] = []
    for item in items:
        if isinstance(item, Section):
            out.append([item.title, _nav_items(item.children)])
        else:
            out.append([item.title, getattr(item, "url", ""), getattr(getattr(item, "file", None), "src_uri", "")])
    return out


# MkDocs' plugins take a config class parameter, and BasePlugin.__init_subclass__ is unannotated
class CachePlugin(BasePlugin):  # type: ignore[type-arg, no-untyped-call]
    """Reuse the HTML of unchanged pages outside the navigation (see the module's docstring)."""

    def __init__(self) -> None:
        self.root = Path.cwd()
        self.config_digest = ""
        self.structure_digest = ""
        self.manifest: dict[str, dict[str, Any]] = {}  # src_uri -> {key, anchors, links}
        self.keys: dict[str, str] = {}  # src_uri -> key of this build
        self.reused: set[str] = set()
        self.deferred: dict[str, tuple[Files, bool]] = {}
        self.rendered: set[str] = set()
        self.counter = _WarningCounter()
        self._files = Files([])

    # --- before the pages ----------------------------------------------------------------
    def on_config(self, config: Any) -> Any:
        self.root = Path(config.config_file_path).resolve().parent if config.config_file_path else Path.cwd()
        custom = config.theme.custom_dir
        config_text = Path(config.config_file_path).read_bytes() if config.config_file_path else b""
        settings = json.dumps({k: config.get(k) for k in ("site_url", "site_name", "use_directory_urls",
                                                            "copyright", "extra", "extra_css", "extra_javascript",
                                                            "markdown_extensions", "mdx_configs")},
                              sort_keys=True, default=str)
        self.config_digest = _digest(FORMAT, config_text, settings, _versions(),
                                     _tree_digest(Path(custom)) if custom else "")
        self.manifest = self._read_manifest()
        self.keys, self.reused, self.rendered, self.deferred = {}, set(), set(), {}
        self.counter.count = 0
        logging.getLogger("mkdocs").addHandler(self.counter)
        _install(self)
        return config

    @event_priority(-100)  # after every other plugin has changed the navigation
    def on_nav(self, nav: Navigation, config: Any, files: Files) -> Navigation:  # noqa: ARG002 - MkDocs hook, called by keyword
        listing = [[f.src_uri, f.dest_uri, f.url, f.inclusion.name] for f in sorted(files, key=lambda f: f.src_uri)]
        # the pages in the navigation are few, and other pages may show their titles: hash their sources too
        in_nav = [Path(f.abs_src_path).read_bytes() for f in sorted(files.documentation_pages(), key=lambda f: f.src_uri)
                  if f.inclusion.is_in_nav() and f.abs_src_path]  # type: ignore[no-untyped-call]  # unannotated in MkDocs
        self.structure_digest = _digest(json.dumps(_nav_items(nav.items)), json.dumps(listing), *in_nav)
        return nav

    # --- the two steps MkDocs takes for every page ------------------------------------------
    def populate(self, original: Any, page: Page, config: Any, files: Files, dirty: bool) -> None:
        file = page.file
        if file.inclusion.is_not_in_nav() and file.abs_src_path:  # type: ignore[no-untyped-call]  # unannotated in MkDocs
            key = _digest(self.config_digest, self.structure_digest, file.src_uri, Path(file.abs_src_path).read_bytes())
            self.keys[file.src_uri] = key
            entry = self.manifest.get(file.src_uri)
            if entry and entry["key"] == key and self._html(key).is_file():
                page.present_anchor_ids = set(entry["anchors"])
                page.links_to_anchors = {target: dict(links) for src, links in entry["links"].items()
                                         if (target := files.get_file_from_path(src)) is not None}
                self.reused.add(file.src_uri)
                return
            # Rendered just before it is written (build_page), not now: MkDocs would otherwise hold the
            # HTML of every page in memory at once (2 GB at 10,000 studies). No other page reads a page
            # outside the navigation, and anchors are checked only after every page is written.
            self.deferred[file.src_uri] = (files, dirty)
            return
        original(page, config, files, dirty)

    def build_page(self, original: Any, page: Page, config: Any, doc_files: Any, nav: Navigation, env: Any,
                   dirty: bool = False, excluded: bool = False) -> None:
        src = page.file.src_uri
        if src in self.reused:
            dest = Path(page.file.abs_dest_path)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(self._html(self.keys[src]), dest)
            return
        deferred = self.deferred.pop(src, None)
        if deferred is not None:
            _ORIGINAL["populate"](page, config, *deferred)
        original(page, config, doc_files, nav, env, dirty, excluded)
        if src in self.keys:
            self.rendered.add(src)
        if deferred is not None:
            page.content = None  # written: only its anchors are needed from here on
            page.markdown = None

    # --- after the build ------------------------------------------------------------------------
    def on_post_build(self, config: Any) -> None:  # noqa: ARG002 - MkDocs hook, called by keyword
        logging.getLogger("mkdocs").removeHandler(self.counter)
        _uninstall()
        if self.counter.count:
            log.info("atlas-cache: the build warned; no page is stored for reuse")
            return
        store = self.root / CACHE_DIR
        store.mkdir(parents=True, exist_ok=True)
        manifest: dict[str, dict[str, Any]] = {}
        files: Files = self._files
        for src, key in sorted(self.keys.items()):
            file = files.get_file_from_path(src)
            if file is None or file.page is None:
                continue
            if src in self.rendered:
                shutil.copyfile(file.abs_dest_path, self._html(key))
            page = file.page
            manifest[src] = {
                "key": key,
                "anchors": sorted(page.present_anchor_ids or ()),
                "links": {target.src_uri: links for target, links in sorted(
                    (page.links_to_anchors or {}).items(), key=lambda kv: kv[0].src_uri)},
            }
        self._write_manifest(manifest)
        log.info(f"atlas-cache: {len(self.reused)} pages reused, {len(self.rendered)} rendered")

    def on_build_error(self, error: Exception) -> None:  # noqa: ARG002 - MkDocs hook, called by keyword
        logging.getLogger("mkdocs").removeHandler(self.counter)
        _uninstall()

    def on_files(self, files: Files, config: Any) -> Files:  # noqa: ARG002 - MkDocs hook, called by keyword
        self._files = files
        return files

    # --- storage -----------------------------------------------------------------------------
    def _html(self, key: str) -> Path:
        return self.root / CACHE_DIR / f"{key}.html"

    def _manifest_path(self) -> Path:
        return self.root / CACHE_DIR / f"manifest-{self.config_digest[:16]}.json"

    def _read_manifest(self) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads(self._manifest_path().read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _write_manifest(self, manifest: dict[str, dict[str, Any]]) -> None:
        store = self.root / CACHE_DIR
        path = self._manifest_path()
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(manifest, sort_keys=True), encoding="utf-8")
        tmp.replace(path)
        os.utime(path)
        manifests = sorted(store.glob("manifest-*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in manifests[KEEP_MANIFESTS:]:
            old.unlink()
        wanted: set[str] = set()
        for kept in manifests[:KEEP_MANIFESTS]:
            try:
                wanted.update(f"{e['key']}.html" for e in json.loads(kept.read_text(encoding="utf-8")).values())
            except (OSError, ValueError, KeyError, TypeError):
                continue
        for html in store.glob("*.html"):
            if html.name not in wanted:
                html.unlink()


# MkDocs' build loop calls these two module functions for every page; the plugin wraps them for
# the length of one build (on_config to on_post_build) and restores them afterwards.
_ORIGINAL: dict[str, Any] = {"populate": mkdocs_build._populate_page, "build_page": mkdocs_build._build_page}


def _install(plugin: CachePlugin) -> None:
    def populate(page: Page, config: Any, files: Files, dirty: bool = False) -> None:
        plugin.populate(_ORIGINAL["populate"], page, config, files, dirty)

    def build_page(page: Page, config: Any, doc_files: Any, nav: Navigation, env: Any, dirty: bool = False,
                   excluded: bool = False) -> None:
        plugin.build_page(_ORIGINAL["build_page"], page, config, doc_files, nav, env, dirty, excluded)

    mkdocs_build._populate_page = populate
    mkdocs_build._build_page = build_page


def _uninstall() -> None:
    mkdocs_build._populate_page = _ORIGINAL["populate"]
    mkdocs_build._build_page = _ORIGINAL["build_page"]


__all__ = ["CachePlugin"]
