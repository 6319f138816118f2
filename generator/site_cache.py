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
Every page can be reused. Other pages show a page of the navigation through its title and front
matter only, so the structure holds those; a page of the navigation whose title is not given there
takes it from its first heading, so the structure holds its whole source (and a change to it renders
every page). A study's title or citation edit changes the studies index, which is titled in the
navigation: it re-renders that page, not every page.

Anchors: MkDocs checks, after rendering, that every link to `page#anchor` finds that anchor.
A reused page brings back, from the manifest, the anchors it defines and the anchored links it
makes, so the check sees exactly what a full build sees. The manifest is written only after a
build with no warning, so a page is never reused from a build that failed or warned.

Nothing here changes what a full build writes: with an empty cache (a fresh clone, CI, the Pages
workflow) every page is rendered as before.

Writing a reused page is a hard link to the stored HTML, not a copy (a fifth of the time at 10,000
pages), and a rendered page is stored the same way; where the file system has no hard links the page
is copied. A page MkDocs renders is written to a fresh file, never through a link, so the store
only ever changes by adding and removing whole files.

With two cores and at least PARALLEL_PAGES pages to render (a first build renders every page), `mkdocs
build` renders the second half of them, in MkDocs' order, in a forked process (`on_env`, `_render_share`),
which writes them to the site directory and sends back each page's anchors and anchored links and every
record it logged. This process renders the first half meanwhile, and on reaching the second collects the
answer and logs those records there, so the warnings (and a strict build's failure) are exactly a
one-process build's. If the second process fails, this one renders its pages, as it would have without
it. `mkdocs serve` never forks: a preview renders a handful of pages, and its server runs threads.

Under `mkdocs serve` the plugin lives across rebuilds (it has `on_startup`) and makes a rebuild
touch only what changed: the preview's site directory is not emptied first; a page whose key is
the one written there by the last rebuild is left as it is; a static file is copied only when its
source is newer; the key of a page whose source has the same size and modification time as at the
last rebuild (with the same configuration and structure) is not computed again; and the files the
last rebuild wrote that this one does not are deleted. `mkdocs build` takes none of these paths.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import inspect
import json
import logging
import os
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2
import orjson
from mkdocs import utils as mkdocs_utils
from mkdocs.commands import build as mkdocs_build
from mkdocs.plugins import BasePlugin, event_priority
from mkdocs.structure.files import File, Files, InclusionLevel
from mkdocs.structure.nav import Navigation, Section
from mkdocs.structure.pages import Page

from . import forked
from .handoff import DOCS_MANIFEST, GO_FD, NOT_BUILT, PREMADE_DIRS
from .render_cache import template_cache

log = logging.getLogger("mkdocs.plugins.atlas-cache")

CACHE_DIR = Path("build/cache/pages")
TEMPLATE_CACHE = Path("build/cache/templates/theme")  # the theme's compiled templates (render_cache.template_cache)
FORMAT = "2"  # bump when what the manifest holds, or how a key is made, changes
PACKAGES = ("mkdocs", "mkdocs-material", "markdown", "pymdown-extensions", "jinja2", "pygments", "markupsafe",
            "minify-html")
KEEP_MANIFESTS = 3  # `evidence build` and `evidence serve` have different configs (site_url): keep both
# From this many pages to render, `mkdocs build` renders the second half of them in a second process
# (the shipped base renders about 730 pages in a full build, a one-record rebuild about 5)
PARALLEL_PAGES = 200


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


def _setting(value: Any) -> str:
    """A configuration value that JSON cannot hold, as text that is the same in every run: a function
    (such as the `toc` extension's `slugify`) by its name and its module's source, so that editing it
    re-renders the pages; anything else by str()."""
    if callable(value) and hasattr(value, "__module__") and hasattr(value, "__qualname__"):
        module = sys.modules.get(value.__module__)
        source = inspect.getsource(module) if module else ""
        return f"{value.__module__}.{value.__qualname__}:{_digest(source)}"
    return str(value)


def _read_docs_manifest(path: Path) -> dict[str, tuple[str, int, int]]:
    """build/cache/docs.json as {src_uri: (sha1, size, mtime_ns)}; entries of any other form are left out, and
    a missing or damaged file gives none (every page is then read and hashed)."""
    try:
        data = orjson.loads(path.read_bytes())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {src: (e[0], e[1], e[2]) for src, e in data.items()
            if isinstance(e, list) and len(e) == 3 and isinstance(e[0], str) and len(e[0]) == 40
            and type(e[1]) is int and type(e[2]) is int}


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
        self._store = str(self.root / CACHE_DIR)
        self.config_digest = ""
        self.structure_digest = ""
        self.manifest: dict[str, dict[str, Any]] = {}  # src_uri -> {key, anchors, links}
        self.docs: dict[str, tuple[str, int, int]] = {}  # src_uri -> the generator's SHA-1, size, mtime (ns)
        self.keys: dict[str, str] = {}  # src_uri -> key of this build
        self.reused: set[str] = set()
        self.deferred: dict[str, tuple[Files, bool]] = {}
        self.titled: set[str] = set()  # pages in the navigation that it gives a title
        self.rendered: set[str] = set()
        self.share: forked.Forked | None = None  # the second process rendering part of the pages, if any
        self.elsewhere: set[str] = set()  # src_uris of the pages handed to it
        self.answer: dict[str, Any] | None = None  # what it sent back, once collected
        self.uris: Mapping[str, File] = {}  # src_uri -> File, to resolve the anchored links in the answer
        self.counter = _WarningCounter()
        self._files = Files([])
        self.nav: Navigation | None = None
        # under `mkdocs serve` only, kept from one rebuild to the next (see the module's docstring)
        self.serving = False
        self.go: str | None = None  # the descriptor of the pipe on which `evidence build` gives the go (GO_FD)
        self.built = False  # `mkdocs build` (the program) returned from its build: on_shutdown ends it
        self.in_place = 0  # reused pages the last rebuild of a preview had already written
        self.stat_keys: dict[str, tuple[tuple[str, str, int, int], str]] = {}  # src_uri -> (signature, key)
        self.written: dict[str, str] = {}  # destination -> key of the page the last rebuild left there
        self.outputs: set[str] = set()  # every file the last rebuild wrote

    def on_startup(self, *, command: str, dirty: bool) -> None:  # noqa: ARG002 - MkDocs hook, called by keyword
        self.serving = command == "serve"
        self.built = False
        go = os.environ.pop(GO_FD, None)
        self.go = go if command == "build" else None  # on_config waits for the go there
        if command == "build" and _the_mkdocs_program():
            original = _ORIGINAL["build"]

            def build(config: Any, *args: Any, **kwargs: Any) -> None:
                original(config, *args, **kwargs)
                self.built = True  # returned: the site is written, no strict-mode abort, no error

            mkdocs_build.build = build  # looked up by `mkdocs build` after this event

    def on_shutdown(self) -> None:
        """The last event of `mkdocs build`. After a build that succeeded, the program ends here with status 0,
        without the interpreter's teardown (forked.end_now). After a failure, MkDocs goes on as it would (its
        error and exit status). Only `mkdocs build` run as a program does this, never a build run in-process
        (tests/test_build.py::test_mkdocs_ends_a_successful_build_at_once)."""
        mkdocs_build.build = _ORIGINAL["build"]
        if self.built:
            forked.end_now(0)

    # --- before the pages ----------------------------------------------------------------
    @event_priority(100)  # before every other plugin's: atlas-nav's reads build/nav.json, written before the go
    def on_config(self, config: Any) -> Any:
        """What the build reuses: the configuration's digest and the pages stored under it, worked out from what the
        generator does not write, then (for a `mkdocs build` started early by `evidence build`) the wait for the
        go (`_await_go`), then what the generator wrote (build/cache/docs.json)."""
        self.root = Path(config.config_file_path).resolve().parent if config.config_file_path else Path.cwd()
        self._store = str(self.root / CACHE_DIR)
        custom = config.theme.custom_dir
        config_text = Path(config.config_file_path).read_bytes() if config.config_file_path else b""
        settings = json.dumps({k: config.get(k) for k in ("site_url", "site_name", "use_directory_urls",
                                                            "copyright", "extra", "extra_css", "extra_javascript",
                                                            "markdown_extensions", "mdx_configs")},
                              sort_keys=True, default=_setting)
        self.config_digest = _digest(FORMAT, config_text, settings, _versions(),
                                     _tree_digest(Path(custom)) if custom else "")
        self.manifest = self._read_manifest()
        if self.go is not None:
            _await_go(self.go)
            self.go = None
        self.docs = {} if self.serving else _read_docs_manifest(self.root / DOCS_MANIFEST)  # a preview keeps its own
        self.keys, self.reused, self.rendered, self.deferred = {}, set(), set(), {}
        self.titled = set()
        self._stop_share()
        self.in_place = 0
        self.counter.count = 0
        logging.getLogger("mkdocs").addHandler(self.counter)
        _install(self)
        return config

    @event_priority(-100)  # after every other plugin has changed the navigation
    def on_nav(self, nav: Navigation, config: Any, files: Files) -> Navigation:
        listing = [[f.src_uri, f.dest_uri, f.url, f.inclusion.name] for f in sorted(files, key=lambda f: f.src_uri)]
        # Every page shows the navigation, and in it the other pages' titles and front matter (Material
        # reads an icon or a subtitle there). A page given its title by the navigation adds its front
        # matter to the structure, and can be reused like any other page; one without a title there
        # takes it from its own first heading, so its whole source is part of the structure.
        self.titled = set()
        parts: list[str | bytes] = []
        for page in sorted(nav.pages, key=lambda p: p.file.src_uri):
            if page.title is not None and page.file.abs_src_path:
                page.read_source(config)
                self.titled.add(page.file.src_uri)
                parts.append(json.dumps([page.file.src_uri, page.meta], sort_keys=True, default=str))
            elif page.file.abs_src_path:
                parts.append(Path(page.file.abs_src_path).read_bytes())
        self.structure_digest = _digest(json.dumps(_nav_items(nav.items)), json.dumps(listing), *parts)
        self.nav = nav
        return nav

    @event_priority(-100)  # after every other plugin's on_env: the second process renders with the final env
    def on_env(self, env: Any, config: Any, files: Files) -> Any:
        """Hand the second half of the pages to render to a second process (see `_render_share`).

        Only `mkdocs build` does this, with two cores and at least PARALLEL_PAGES pages to render: a
        preview's rebuild renders a handful, and its server's threads make forking unsafe. The pages
        are split in the order MkDocs builds them; the second process takes the last half, so this
        one meets them only after rendering its own half, and collects the answer there."""
        env.bytecode_cache = template_cache(self.root / TEMPLATE_CACHE)  # compiled templates kept between builds
        if self.serving or len(self.deferred) < PARALLEL_PAGES or not forked.available():
            return env
        doc_files = files.documentation_pages(inclusion=InclusionLevel.is_included)
        order = [f for f in doc_files if f.src_uri in self.deferred]
        if len(order) != len(self.deferred):  # a page MkDocs would not build here: keep to one process
            return env
        share = order[len(order) // 2:]
        jobs = [(f.page, *self.deferred[f.src_uri]) for f in share]
        self.share = forked.Forked(_render_share, jobs, config, doc_files, self.nav, env)
        self.elsewhere = {f.src_uri for f in share}
        return env

    def _collect(self) -> dict[str, Any] | None:
        """The second process's answer, waited for once; None if it failed (this process then renders
        its pages itself, as if it had never been started). The warnings it logged are logged here, at
        the place in the build where its pages are, so the log reads as a one-process build's."""
        if self.share is not None:
            self.answer = self.share.result()
            self.share = None
            self.uris = self._files.src_uris  # built once: MkDocs makes this dict anew on every access
            if self.answer is None:
                self.elsewhere = set()
                log.info("atlas-cache: the second render process failed; its pages are rendered here")
            else:
                for record in self.answer["records"]:
                    logging.getLogger(record.name).handle(record)
        return self.answer

    def _stop_share(self) -> None:
        if self.share is not None:
            self.share.stop()
        self.share, self.elsewhere, self.answer = None, set(), None

    # --- the two steps MkDocs takes for every page ------------------------------------------
    def populate(self, original: Any, page: Page, config: Any, files: Files, dirty: bool) -> None:
        file = page.file
        reusable = file.inclusion.is_not_in_nav() or file.src_uri in self.titled  # type: ignore[no-untyped-call]
        if reusable and file.abs_src_path:
            key = self._key(file.src_uri, file.abs_src_path)
            self.keys[file.src_uri] = key
            entry = self.manifest.get(file.src_uri)
            if entry and entry["key"] == key and os.path.isfile(self._stored(key)):
                page.present_anchor_ids = set(entry["anchors"])
                uris = files.src_uris  # the manifest holds src_uris as MkDocs writes them: no path parsing
                page.links_to_anchors = {target: dict(links) for src, links in entry["links"].items()
                                         if (target := uris.get(src)) is not None}
                self.reused.add(file.src_uri)
                return
            # Rendered just before it is written (build_page), not now: MkDocs would otherwise hold the
            # HTML of every page in memory at once (2 GB at 10,000 studies). No other page reads what a
            # page renders (a page of the navigation is shown through its title and front matter, read
            # in on_nav), and anchors are checked only after every page is written.
            self.deferred[file.src_uri] = (files, dirty)
            return
        original(page, config, files, dirty)

    def build_page(self, original: Any, page: Page, config: Any, doc_files: Any, nav: Navigation, env: Any,
                   dirty: bool = False, excluded: bool = False) -> None:
        src = page.file.src_uri
        if src in self.reused:
            key = self.keys[src]
            target = page.file.abs_dest_path
            if self.serving:
                written = str(Path(target))  # the serve map's keys, as on_post_build writes them
                if self.written.get(written) == key and os.path.isfile(target):
                    self.in_place += 1
                    return
            _place(self._stored(key), target)
            if self.serving:
                self.written[written] = key
            return
        dest = Path(page.file.abs_dest_path)
        if src in self.elsewhere and self._collect() is not None:
            assert self.answer is not None
            anchors, links = self.answer["pages"][src]
            uris = self.uris
            page.present_anchor_ids = set(anchors)
            page.links_to_anchors = {uris[target]: dict(found) for target, found in links.items()}
            del self.deferred[src]
            self.rendered.add(src)
            return
        deferred = self.deferred.pop(src, None)
        if deferred is not None:
            _ORIGINAL["populate"](page, config, *deferred)
        if self.serving:  # the last rebuild of the preview may have left a link to a stored page here
            dest.unlink(missing_ok=True)
            self.written.pop(str(dest), None)
        original(page, config, doc_files, nav, env, dirty, excluded)
        if src in self.keys:
            self.rendered.add(src)
        if deferred is not None:
            page.content = None  # written: only its anchors are needed from here on
            page.markdown = None

    # --- after the build ------------------------------------------------------------------------
    def on_post_build(self, config: Any) -> None:
        self._stop_share()  # collected by now (its pages were built); only a process never asked is stopped
        logging.getLogger("mkdocs").removeHandler(self.counter)
        _uninstall()
        files: Files = self._files
        if self.serving:
            self._remove_stale(config, files)
        if self.counter.count:
            log.info("atlas-cache: the build warned; no page is stored for reuse")
            return
        store = self.root / CACHE_DIR
        store.mkdir(parents=True, exist_ok=True)
        manifest: dict[str, dict[str, Any]] = {}
        uris = files.src_uris
        for src, key in sorted(self.keys.items()):
            file = uris.get(src)
            if file is None or file.page is None:
                continue
            if src in self.rendered:
                _place(Path(file.abs_dest_path), self._html(key))
                if self.serving:
                    self.written[str(Path(file.abs_dest_path))] = key
            page = file.page
            manifest[src] = {
                "key": key,
                "anchors": sorted(page.present_anchor_ids or ()),
                "links": {target.src_uri: links for target, links in sorted(
                    (page.links_to_anchors or {}).items(), key=lambda kv: kv[0].src_uri)},
            }
        if manifest == self.manifest and self._manifest_path().is_file():
            os.utime(self._manifest_path())  # nothing new to store (a preview's rebuild, mostly): still in use
        else:
            self._write_manifest(manifest)
            self.manifest = manifest
        log.info(f"atlas-cache: {len(self.reused)} pages reused, {len(self.rendered)} rendered"
                 + (f"; {self.in_place} already in place" if self.serving else ""))

    def on_build_error(self, error: Exception) -> None:  # noqa: ARG002 - MkDocs hook, called by keyword
        self._stop_share()
        logging.getLogger("mkdocs").removeHandler(self.counter)
        _uninstall()
        self.written.clear()  # the next rebuild of a preview writes every page again

    # --- under `mkdocs serve` ----------------------------------------------------------------
    def _key(self, src: str, path: str) -> str:
        """A page's key: the configuration, the site's structure, its address and the SHA-1 of its Markdown.

        The SHA-1 is the generator's, from build/cache/docs.json, for a file whose size and modification
        time are those the generator recorded when it wrote it (the generator trusts the same stamp to
        leave a file unwritten); any other file is read and hashed here. Reading and hashing every page
        cost a one-record rebuild about 0.4 s of MkDocs' 2.6 s at 10,000 studies."""
        st = os.stat(path)
        signature = (self.config_digest, self.structure_digest, st.st_mtime_ns, st.st_size)
        if self.serving:  # a preview remembers the keys of its last rebuild
            known = self.stat_keys.get(src)
            if known is not None and known[0] == signature:
                return known[1]
        else:
            recorded = self.docs.get(src)
            if recorded is not None and recorded[1] == st.st_size and recorded[2] == st.st_mtime_ns:
                return _digest(self.config_digest, self.structure_digest, src, recorded[0])
        with open(path, "rb") as f:  # not pathlib: 11,000 pages at 10,000 studies
            key = _digest(self.config_digest, self.structure_digest, src, hashlib.sha1(f.read()).hexdigest())
        if self.serving:
            self.stat_keys[src] = (signature, key)
        return key

    def _remove_stale(self, config: Any, files: Files) -> None:
        """Delete what the last rebuild of the preview wrote and this one did not: the site directory
        is not emptied first, and a deleted record must not leave its page behind. Only files that a
        rebuild itself accounts for are ever deleted."""
        site = Path(config.site_dir)
        outputs = {str(Path(f.abs_dest_path)) for f in files} | {str(site / name) for name in config.theme.static_templates}
        for stale in self.outputs - outputs:
            Path(stale).unlink(missing_ok=True)
            self.written.pop(stale, None)
        self.outputs = outputs

    def on_files(self, files: Files, config: Any) -> Files:  # noqa: ARG002 - MkDocs hook, called by keyword
        self._files = files
        return files

    # --- storage -----------------------------------------------------------------------------
    def _stored(self, key: str) -> str:
        """`_html(key)` as a string, for the per-page paths (pathlib's objects cost 0.4 s over 11,000 pages)."""
        return os.path.join(self._store, key + ".html")

    def _html(self, key: str) -> Path:
        return Path(self._stored(key))

    def _manifest_path(self) -> Path:
        return self.root / CACHE_DIR / f"manifest-{self.config_digest[:16]}.json"

    def _read_manifest(self) -> dict[str, dict[str, Any]]:
        try:
            data = orjson.loads(self._manifest_path().read_bytes())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _write_manifest(self, manifest: dict[str, dict[str, Any]]) -> None:
        store = self.root / CACHE_DIR
        path = self._manifest_path()
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(orjson.dumps(manifest, option=orjson.OPT_SORT_KEYS))
        tmp.replace(path)
        os.utime(path)
        manifests = sorted(store.glob("manifest-*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in manifests[KEEP_MANIFESTS:]:
            old.unlink()
        # the pages this manifest names, from memory (reading it back cost 0.2 s at 10,000 studies), and those
        # of the other manifests kept (another configuration's: `evidence serve`'s), read from their files
        wanted = {f"{e['key']}.html" for e in manifest.values()}
        for kept in manifests[:KEEP_MANIFESTS]:
            if kept == path:
                continue
            try:
                wanted.update(f"{e['key']}.html" for e in orjson.loads(kept.read_bytes()).values())
            except (OSError, ValueError, KeyError, TypeError):
                continue
        for name in os.listdir(store):  # not pathlib's glob: 11,000 names at 10,000 studies
            if name.endswith(".html") and name not in wanted:
                os.unlink(os.path.join(store, name))


class _Held(logging.Handler):
    """Keeps the records MkDocs logs in the second render process, to be logged by the first."""

    def __init__(self) -> None:
        super().__init__(logging.NOTSET)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        record.msg, record.args = record.getMessage(), None  # plain text: it is pickled back
        record.exc_info = record.exc_text = record.stack_info = None
        self.records.append(record)


def _render_share(jobs: list[tuple[Page, Files, bool]], config: Any, doc_files: Any, nav: Navigation,
                  env: Any) -> dict[str, Any]:
    """In the second process: read, render and write each page of its share, as MkDocs' own loop would,
    and send back what the first process still needs of each page (the anchors it defines, and its
    links to anchors, which MkDocs checks once every page is written) and every record it logged.
    The pages are written to the same site directory. If anything raises, the answer is None and the
    first process renders the whole share itself, so an error is reported as a one-process build
    reports it."""
    logger = logging.getLogger("mkdocs")
    held = _Held()
    logger.handlers = [held]  # nothing is printed or counted here: the first process does both
    logger.propagate = False
    pages: dict[str, tuple[list[str], dict[str, dict[str, str]]]] = {}
    for page, files, dirty in jobs:
        _ORIGINAL["populate"](page, config, files, dirty)
        excluded = page.file.inclusion.is_excluded()  # type: ignore[no-untyped-call]
        _ORIGINAL["build_page"](page, config, doc_files, nav, env, dirty, excluded)
        pages[page.file.src_uri] = (
            sorted(page.present_anchor_ids or ()),
            {target.src_uri: dict(found) for target, found in (page.links_to_anchors or {}).items()})
        page.content = page.markdown = None
    return {"pages": pages, "records": held.records}


def _place(source: Path | str, dest: Path | str) -> None:
    """Put the bytes of `source` at `dest` as a hard link (a new name for the same file), or as a copy
    where the file system has none. An existing `dest` is replaced, never written through.

    The usual case, a new name in a folder that exists, is one system call; a missing folder is made
    and an existing file removed only when the link says so."""
    src, dst = os.fspath(source), os.fspath(dest)
    try:
        os.link(src, dst)
        return
    except FileNotFoundError:
        os.makedirs(os.path.dirname(dst), exist_ok=True)
    except OSError:  # the name is taken (removed below), or no hard links here
        pass
    with contextlib.suppress(FileNotFoundError):
        os.unlink(dst)
    try:
        os.link(src, dst)
    except OSError:
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copyfile(src, dst)


# MkDocs' build loop calls these two module functions for every page; the plugin wraps them for
# the length of one build (on_config to on_post_build) and restores them afterwards. Under
# `mkdocs serve` it also keeps the site directory (utils.clean_directory) and copies a static file
# only when its source is newer (Files.copy_static_files with dirty=True).
_ORIGINAL: dict[str, Any] = {"populate": mkdocs_build._populate_page, "build_page": mkdocs_build._build_page,
                             "clean_directory": mkdocs_utils.clean_directory,
                             "copy_static_files": Files.copy_static_files,
                             "add_files_from_theme": Files.add_files_from_theme, "build": mkdocs_build.build}


def _await_go(fd: str) -> None:
    """Wait, before the build reads anything, for `evidence build` to say that build/docs is written (build.py,
    `_SiteBuilder`): one line of JSON on the pipe `fd`, with the folder of premade site folders, if any, which
    `_install` then adopts. Without it (the pipe closed: the generator failed or was stopped), this program ends
    with NOT_BUILT, having built nothing."""
    try:
        with os.fdopen(int(fd), "rb") as pipe:
            message = json.loads(pipe.readline() or b"null")
    except (OSError, ValueError):
        message = None
    if not isinstance(message, dict) or message.get("go") is not True:
        forked.end_now(NOT_BUILT)
    premade = message.get(PREMADE_DIRS)
    if isinstance(premade, str) and premade:
        os.environ[PREMADE_DIRS] = premade


def _the_mkdocs_program() -> bool:
    """Whether this process is the `mkdocs` program (`mkdocs ...` or `python -m mkdocs ...`), not a program that
    calls MkDocs in-process."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    return (spec is not None and spec.name == "mkdocs.__main__") or Path(sys.argv[0]).name == "mkdocs"


class _Undotted:
    """A theme's Jinja environment whose `list_templates` does not walk into dot-folders.

    MkDocs lists a theme's static files by listing every file of its folders and dropping, among
    others, every file in a dot-folder ('.*' and '*/.*' in `Files.add_files_from_theme`). Material's
    templates hold 14,000 icons in `.icons/`, and walking them was 0.05 s of every build, for 45
    files kept. Not walking them leaves out only files that filter drops, so the files are the same
    (tests/test_build.py::test_theme_files_are_listed_as_mkdocs_lists_them)."""

    def __init__(self, env: jinja2.Environment) -> None:
        self._env = env
        self._loader: jinja2.FileSystemLoader = env.loader  # type: ignore[assignment]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._env, name)

    def list_templates(self, extensions: Any = None, filter_func: Any = None) -> list[str]:
        found: set[str] = set()
        for top in self._loader.searchpath:  # as jinja2's FileSystemLoader.list_templates, less the dot-folders
            for folder, subfolders, names in os.walk(top, followlinks=self._loader.followlinks):
                subfolders[:] = [name for name in subfolders if not name.startswith(".")]
                for name in names:
                    template = os.path.join(folder, name)[len(top):].strip(os.path.sep).replace(os.path.sep, "/")
                    found.add(template[2:] if template[:2] == "./" else template)
        return [name for name in sorted(found) if filter_func is None or filter_func(name)] \
            if extensions is None else self._env.list_templates(extensions, filter_func)


def _add_files_from_theme(files: Files, env: Any, config: Any) -> None:
    """MkDocs' own, given a theme environment that lists no dot-folder (`_Undotted`) when its loader is
    the plain FileSystemLoader MkDocs makes."""
    _ORIGINAL["add_files_from_theme"](files, _Undotted(env) if type(env.loader) is jinja2.FileSystemLoader else env,
                                      config)


def _install(plugin: CachePlugin) -> None:
    def populate(page: Page, config: Any, files: Files, dirty: bool = False) -> None:
        plugin.populate(_ORIGINAL["populate"], page, config, files, dirty)

    def build_page(page: Page, config: Any, doc_files: Any, nav: Navigation, env: Any, dirty: bool = False,
                   excluded: bool = False) -> None:
        plugin.build_page(_ORIGINAL["build_page"], page, config, doc_files, nav, env, dirty, excluded)

    mkdocs_build._populate_page = populate
    mkdocs_build._build_page = build_page
    Files.add_files_from_theme = _add_files_from_theme  # type: ignore[method-assign, assignment]
    premade = os.environ.get(PREMADE_DIRS)
    if not plugin.serving and premade:
        def clean_and_adopt(directory: str) -> None:
            _ORIGINAL["clean_directory"](directory)
            _adopt(Path(premade), Path(directory))

        mkdocs_utils.clean_directory = clean_and_adopt
    if plugin.serving:
        def keep_directory(directory: str) -> None:  # noqa: ARG001 - replaces utils.clean_directory
            return None

        def copy_newer(files: Files, dirty: bool = False, *, inclusion: Any = None) -> None:  # noqa: ARG001
            if inclusion is None:
                _ORIGINAL["copy_static_files"](files, dirty=True)
            else:
                _ORIGINAL["copy_static_files"](files, dirty=True, inclusion=inclusion)

        mkdocs_utils.clean_directory = keep_directory
        Files.copy_static_files = copy_newer  # type: ignore[method-assign, assignment]


def _adopt(premade: Path, site: Path) -> None:
    """Move the folders `evidence build` made beforehand (build._Premade) into the emptied site directory.

    Only into an empty site, and only what is there: whatever cannot be moved is made by MkDocs as
    usual, and build.py removes the folders no page used."""
    try:
        if any(site.iterdir()):
            return
        for name in sorted(os.listdir(premade)):
            os.rename(premade / name, site / name)
    except OSError:
        return


def _uninstall() -> None:
    mkdocs_build._populate_page = _ORIGINAL["populate"]
    mkdocs_build._build_page = _ORIGINAL["build_page"]
    mkdocs_utils.clean_directory = _ORIGINAL["clean_directory"]
    Files.copy_static_files = _ORIGINAL["copy_static_files"]  # type: ignore[method-assign]
    Files.add_files_from_theme = _ORIGINAL["add_files_from_theme"]  # type: ignore[method-assign]


__all__ = ["CachePlugin"]
