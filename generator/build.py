"""Build: write the generated pages, then run the site builder (MkDocs) into site/.

The generator never imports MkDocs: it writes Markdown into build/docs and runs
`mkdocs build` as a separate program, so the builder can be swapped (Zensical)
without touching load/check/model/render. The new site is built beside the old
one and swapped in only when the build succeeds; a failure leaves site/ as it was.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import orjson

from . import diagnostics as dg
from . import forked
from .check import check
from .check_bib import bibliography_diagnostics
from .csl import Citations, csl_item, look_up_pandoc
from .files import write_whole
from .handoff import DOCS_MANIFEST, GO_FD, PREMADE_DIRS
from .load import load_project
from .load_cache import FOLDER as LOAD_CACHE
from .load_cache import LoadCache
from .model import build_model
from .nav_entries import NAV_FILE, nav_entries
from .pages import render
from .render import compile_templates, templates_compiled
from .render_cache import FOLDER as STUDY_CACHE
from .render_cache import StudyCache
from .render_codebook import MARKER, vocabulary_table
from .search_cache import FOLDER as SEARCH_CACHE
from .search_cache import OUTPUT, FragmentReuse, ReadingCopy

DOCS = Path("build/docs")
SITE = Path("site")
CONTENT = Path("content")
ASSETS = Path(__file__).parent / "assets"
WATCHED = ("evidence", "content", "references.bib", "mkdocs.yml", "overrides")


def _say(quiet: bool, message: str) -> None:
    if not quiet:
        print(message, file=sys.stderr, flush=True)


def generate(root: Path, quiet: bool = False, strict: bool = False, keep: list[Any] | None = None) -> tuple[bool, int]:
    """load -> check -> model -> render, then sync build/docs. Returns (ok, pages changed).

    With a `keep` list, the step's objects are put in it rather than freed on return (`_generate`): for a
    program that ends right after (`evidence generate`), as `evidence build` frees them only while MkDocs
    works."""
    ok, changed, _ = _generate(root, quiet, strict, keep)
    return ok, changed


def _generate(root: Path, quiet: bool, strict: bool, keep: list[Any] | None = None,
              checked: Callable[[dict[str, str]], None] | None = None) -> tuple[bool, int, dict[str, str]]:
    """As generate(), also returning the environment the site builder needs (dataset version).

    The cyclic garbage collector is paused for the length of the step: the generator makes millions of
    small objects and almost no reference cycles, and the collector's passes over them were a fifth of
    the step at 10,000 studies (19.1 s against 15.0 s). It is switched back on afterwards, so that a
    long-running `evidence serve` still collects between regenerations.

    With a `keep` list, the step's objects (the loaded base, its model and pages) are put in it rather
    than freed on return: freeing millions of objects takes most of a second at 10,000 studies, and
    build() does it while MkDocs works in its own process.

    `checked`, if given, is called with that environment as soon as the check has passed, before the model
    is built: build() starts MkDocs there (`_SiteBuilder`).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _generate_pass(root, quiet, strict, keep, checked)
    finally:
        if enabled:
            if keep is not None:
                # What the caller keeps (800,000 objects at 10,000 studies) would be walked by the first
                # collection after this, 0.3 s before MkDocs could start; frozen, the collector leaves it
                # alone, and it is freed by reference counting when the caller lets go of it (it is in no
                # cycle: tests/test_build.py). build() unfreezes what is left when it ends.
                gc.freeze()
            gc.enable()


def _generate_pass(root: Path, quiet: bool, strict: bool, keep: list[Any] | None,
                   checked: Callable[[dict[str, str]], None] | None) -> tuple[bool, int, dict[str, str]]:
    started = time.monotonic()
    parsed = LoadCache(root / LOAD_CACHE)
    loaded = load_project(root, csl=csl_item, cache=parsed, bib_check=bibliography_diagnostics)
    with _compiled_beside(root / TEMPLATE_CACHE):
        result = check(loaded)
        diags = dg.escalate(result.diagnostics) if strict else result.diagnostics
        if diags:
            print(dg.format_text(diags), file=sys.stderr)
        _say(quiet, dg.summary_line(diags, loaded.files))
        if dg.has_errors(diags):
            return False, 0, {}
        env = {"ATLAS_VERSION": str(result.dataset.get("version", "")),
               "ATLAS_RELEASED": str(result.dataset.get("released", ""))}
        if checked is not None:
            checked(env)
        look_up_pandoc()  # in a thread, while the model is built (the citation cache's keys hold pandoc's version)
        model = build_model(result.records, result.codebook, loaded.bib, loaded.record_paths, result.corrected,
                            result.screening)
        cache = _load_cache(root)
        studies = StudyCache(root / STUDY_CACHE)
        pages = render(model, result.dataset, result.changes, loaded.bib.text, cache, loaded.corrections, studies,
                       root / TEMPLATE_CACHE)
        if cache.changed():  # a reference formatted now, or one no study needs any more (dropped)
            _save_cache(root, {k: v for k, v in cache.items() if k in cache.asked})
        # the pages rendered now; drops the pages of inputs that are gone. Many files to write (a first build:
        # 180 MB in 256 files at 10,000 studies, 0.3 s) are written by a forked process while build/docs is synced
        # the load cache (with the CSL items the model made) is saved with them, off the way to build/docs
        csl = {key: study.csl for key, study in model.studies.items()}
        saving = forked.Forked(_save, studies, parsed, csl) \
            if studies.rewrites() >= SAVE_ELSEWHERE and forked.available() else None
        if saving is None:
            _save_caches(studies, parsed, csl)
        pages.update(_content_pages(root, pages, {MARKER: vocabulary_table(model)}))
        changed = _sync(root / DOCS, pages, root / DOCS_MANIFEST)
        if saving is not None and saving.result() is not True:  # it failed: saved here, where an error shows
            _save_caches(studies, parsed, csl)
        _write_if_changed(root / NAV_FILE, json.dumps(nav_entries(model.nav()), indent=1) + "\n")
        _say(quiet, f"generated {len(pages):,} files ({changed:,} changed, {studies.hits:,} study pages reused) "
                    f"in {time.monotonic() - started:.1f} s")
        if keep is not None:
            keep.extend((loaded, result, model, pages, studies))
        return True, changed, env


@contextlib.contextmanager
def _compiled_beside(template_cache: Path) -> Iterator[None]:
    """The generator's templates compiled by a second process (render.compile_templates) while this one checks
    and models, unless the caches hold them; reaped when the pass ends (done long before, as a rule; a template
    the render reached first, it compiled itself)."""
    compiling = forked.Forked(compile_templates, template_cache) \
        if forked.available() and not templates_compiled(template_cache) else None
    try:
        yield
    finally:
        if compiling is not None:
            compiling.result()


SAVE_ELSEWHERE = 64  # files of the render cache to rewrite from which a forked process writes them


def _save_caches(studies: StudyCache, parsed: LoadCache, csl: dict[str, dict[str, Any]]) -> None:
    """The render cache and the load cache (with the CSL items the model made), saved."""
    studies.save()
    parsed.save(csl)


def _save(studies: StudyCache, parsed: LoadCache, csl: dict[str, dict[str, Any]]) -> bool:
    """What the forked process runs when there is much to write: True once both caches are saved."""
    _save_caches(studies, parsed, csl)
    return True


CACHE = Path("build/cache/citations.json")
TEMPLATE_CACHE = Path("build/cache/templates/generator")  # the generator's compiled templates (render_cache.template_cache)


def _load_cache(root: Path) -> Citations:
    """Formatted references from earlier builds (each costs a share of a pandoc call); a damaged cache is ignored."""
    try:
        data = orjson.loads((root / CACHE).read_bytes())
    except (OSError, ValueError):
        return Citations()
    return Citations({str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {})


def _save_cache(root: Path, cache: dict[str, str]) -> None:
    path = root / CACHE
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(orjson.dumps(cache, option=orjson.OPT_SORT_KEYS))
    tmp.replace(path)


def _content_pages(root: Path, generated: dict[str, bytes], fills: dict[str, str] | None = None) -> dict[str, bytes]:
    """The hand-written pages of content/ and the assets, as UTF-8; a line that is one of `fills`' markers is
    replaced by its generated text (the codebook page's table of vocabularies)."""
    out: dict[str, bytes] = {}
    content = root / CONTENT
    for path in sorted(content.rglob("*")) if content.is_dir() else ():
        if path.is_file() and not path.name.startswith(("_", ".")):
            rel = path.relative_to(content).as_posix()
            if rel in generated:
                continue  # generated pages win; test_build.py::test_content_pages_never_collide_with_generated_pages
            text = path.read_text(encoding="utf-8")
            for marker, fill in (fills or {}).items():
                text = text.replace(marker, fill)
            out[rel] = text.encode("utf-8")
    for path in sorted(ASSETS.glob("*")):
        out[f"assets/{path.name}"] = path.read_text(encoding="utf-8").encode("utf-8")  # read as text: UTF-8 checked
    return out


PARALLEL_WRITES = 2000  # files to write from which _sync shares the writes with a second process


def _write_if_changed(path: Path, text: str) -> None:
    """Write a generated file only when its text changes (so that `evidence serve` sees real changes only)."""
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _sync(docs: Path, pages: dict[str, bytes], manifest_path: Path) -> int:
    """Write only what changed, delete what is gone: MkDocs' watcher and mtimes see real changes only.

    What was written last time is remembered (hash, size and modification time per file), so an
    unchanged file is recognised by one stat() instead of a read; a file touched by anything else
    since is compared by its bytes as before.

    Every file is compared first, and the writes and deletions follow in one burst. `mkdocs serve`
    rebuilds 0.1 s after the last change it sees: writes spread over the comparison of 11,000 files
    (about a second at 10,000 studies) made it start a rebuild after the first one and a second
    rebuild after the rest, so a preview showed a half-written state and took two rebuilds.
    """
    docs.mkdir(parents=True, exist_ok=True)
    try:
        previous = orjson.loads(manifest_path.read_bytes())
        if not isinstance(previous, dict):
            previous = {}
    except (OSError, ValueError):
        previous = {}
    manifest: dict[str, list[Any]] = {}
    writes: list[tuple[str, bytes]] = []
    folder = str(docs)
    for rel, data in pages.items():
        target = os.path.join(folder, rel)
        try:
            st = os.stat(target)
        except OSError:  # not there: written, and hashed where it is written
            writes.append((rel, data))
            continue
        if st.st_size == len(data):
            digest = hashlib.sha1(data).hexdigest()
            if previous.get(rel) == [digest, st.st_size, st.st_mtime_ns] or Path(target).read_bytes() == data:
                manifest[rel] = [digest, st.st_size, st.st_mtime_ns]
                continue
        writes.append((rel, data))
    wanted = set(pages)
    gone: list[Path] = []  # os.walk and string paths: pathlib's rglob and relative_to cost 0.3 s over 11,000 files
    for walked, _, names in os.walk(docs):
        prefix = os.path.relpath(walked, docs).replace(os.sep, "/")
        prefix = "" if prefix == "." else prefix + "/"
        gone.extend(Path(walked, name) for name in names if prefix + name not in wanted)
    gone.sort(reverse=True)
    # one mkdir per folder, not per file; by string, not Path (pathlib's parsing of 1,860 paths took 0.02 s)
    for parent in sorted({os.path.dirname(rel) for rel, _ in writes}):
        os.makedirs(os.path.join(folder, parent), exist_ok=True)
    # The burst: writes, then deletions. Many writes (a first generation writes 11,000 files at 10,000
    # studies) are shared with a second process: creating a file is mostly the kernel's work, and on the
    # development machine 11,000 creations took 2.5 to 8.5 s on one core, about half that on two.
    theirs = writes[len(writes) // 2:] if len(writes) >= PARALLEL_WRITES and forked.available() else []
    helper = forked.Forked(_write_files, docs, theirs) if theirs else None
    manifest.update(_write_files(docs, writes[:len(writes) - len(theirs)]))
    if helper is not None:
        written = helper.result()
        manifest.update(_write_files(docs, theirs) if written is None else written)  # it failed: written here
    for path in gone:
        path.unlink()
    if gone:
        for path in sorted((p for p in docs.rglob("*") if p.is_dir()), reverse=True):
            if not any(path.iterdir()):
                path.rmdir()
    manifest_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = manifest_path.with_suffix(".tmp")
    tmp.write_bytes(orjson.dumps(manifest, option=orjson.OPT_SORT_KEYS))
    tmp.replace(manifest_path)
    return len(writes) + len(gone)


def _write_files(docs: Path, writes: list[tuple[str, bytes]]) -> dict[str, list[Any]]:
    """Write each file whole; return what the sync manifest keeps of each (hash, size, modification time).
    The bytes are hashed here, so that a second process writing half the files does half of that too
    (170 MB at 10,000 studies)."""
    out: dict[str, list[Any]] = {}
    folder = str(docs)
    for rel, data in writes:
        st = write_whole(os.path.join(folder, rel), (data,))
        out[rel] = [hashlib.sha1(data).hexdigest(), st.st_size, st.st_mtime_ns]
    return out


def _source_date_epoch(root: Path) -> str:
    """Dates in the output come from the last commit, not the clock (byte-identical builds)."""
    if os.environ.get("SOURCE_DATE_EPOCH"):
        return os.environ["SOURCE_DATE_EPOCH"]
    try:
        out = subprocess.run(["git", "log", "-1", "--format=%ct"], cwd=root, capture_output=True,
                             text=True, check=True, timeout=30).stdout.strip()
        return out or "0"
    except (OSError, subprocess.SubprocessError):
        return "0"


def build(root: Path, strict: bool = False, quiet: bool = False) -> int:
    site = root / SITE
    # the last site's folders, made again beside the new one while the generator works (see _Premade)
    premade = _Premade(site, Path(tempfile.mkdtemp(prefix=".site-dirs-", dir=root)))
    try:
        return _build(root, site, premade, strict, quiet)
    finally:
        premade.discard()
        gc.unfreeze()  # what _generate froze and outlived the build's use of it (module-level caches)


def _build(root: Path, site: Path, premade: _Premade, strict: bool, quiet: bool) -> int:
    keep: list[Any] = []
    staging = Path(tempfile.mkdtemp(prefix=".site-", dir=root))
    builder = _SiteBuilder(root, staging)
    try:
        ok, _, _ = _generate(root, quiet, strict, keep, checked=builder.start)
        if ok:
            builder.go(premade.folder if premade.wait() else None)
    finally:
        if not builder.going:  # the check failed, or the generator did: MkDocs (if started) ends unbuilt
            builder.stop()
            shutil.rmtree(staging, ignore_errors=True)
    if not ok:
        print("evidence: the check failed; nothing was built and site/ was left as it was", file=sys.stderr)
        return 1
    emptying = _Emptying(root / TRASH)  # the site the last build replaced, deleted while MkDocs and Pagefind work
    _say(quiet, "building the site with mkdocs ...")
    started = time.monotonic()
    proc = builder.proc
    assert proc is not None
    keep.clear()  # the generator's objects are freed while MkDocs works
    pagefind_command()  # found while MkDocs works (its imports cost 0.03 s)
    fragments = FragmentReuse(root / SEARCH_CACHE, staging, SEARCH_OPTIONS)
    fragments.stage()  # the last build's search fragments, linked while MkDocs works
    log: list[str] = []
    ticker = _Ticker(quiet, started)
    assert proc.stdout is not None
    for line in proc.stdout:
        log.append(line)
        if not quiet and ("WARNING" in line or "ERROR" in line):
            print("  " + line.rstrip(), file=sys.stderr)
    status = proc.wait()
    searched = ""
    failed = "mkdocs failed"
    if status == 0:
        failed = "the search index could not be made"
        premade.prune(staging)
        _say(quiet, "indexing the site for search with pagefind ...")
        status, searched = _index(staging, log, root / SEARCH_CACHE, fragments)
    ticker.stop()
    emptying.wait()
    if status != 0:
        shutil.rmtree(staging, ignore_errors=True)
        tail = "".join(log[-30:])
        print(tail, file=sys.stderr, end="")
        print(f"evidence: {failed}; site/ was left as it was", file=sys.stderr)
        return 1
    _swap(staging, site, root / TRASH)
    reuse = next((line.split("atlas-cache:", 1)[1].strip() for line in log if "atlas-cache:" in line), "")
    notes = "; ".join(note for note in (reuse, searched) if note)
    _say(quiet, f"built {site.relative_to(root)}/ in {time.monotonic() - started:.1f} s" + (f" ({notes})" if notes else ""))
    return 0


class _SiteBuilder:
    """`mkdocs build`, started as soon as the check has passed and told to build once build/docs is written.

    MkDocs' start (Python, its imports, the theme's and the configuration's loading, and the reading of its
    page cache's manifest: 0.15 s at 1,000 studies) then runs on the second core while the generator builds
    the model and writes the pages, rather than after them. It
    waits, before its build reads anything from build/docs, for one line on a pipe whose descriptor it is
    given (handoff.GO_FD; site_cache.CachePlugin.on_config): the go, with the folders made beforehand for it
    (`_Premade`). If the pipe closes without it (the generator failed, or was stopped), MkDocs ends without
    building. The configuration's values from dataset.yaml (ATLAS_VERSION ...) are known once the check has
    passed, which is why MkDocs starts there and not earlier. Where a descriptor cannot be handed on (not
    POSIX), MkDocs starts at the go, as it did before."""

    def __init__(self, root: Path, staging: Path) -> None:
        self.root, self.staging = root, staging
        self.proc: subprocess.Popen[str] | None = None
        self.going = False
        self._env: dict[str, str] = {}
        self._pipe: IO[bytes] | None = None

    def start(self, atlas_env: dict[str, str]) -> None:
        self._env = {**os.environ, **atlas_env, "SOURCE_DATE_EPOCH": _source_date_epoch(self.root),
                     "NO_MKDOCS_2_WARNING": "1"}
        if _hands_on_descriptors():
            (self.root / DOCS).mkdir(parents=True, exist_ok=True)  # MkDocs' configuration requires the folder
            read, write = os.pipe()
            try:
                self._launch({**self._env, GO_FD: str(read)}, (read,))
            except BaseException:
                os.close(write)
                raise
            finally:
                os.close(read)
            self._pipe = os.fdopen(write, "wb")

    def _launch(self, env: dict[str, str], fds: tuple[int, ...] = ()) -> None:
        cmd = [sys.executable, "-m", "mkdocs", "build", "--strict", "--clean", "--site-dir", str(self.staging)]
        self.proc = subprocess.Popen(cmd, cwd=self.root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, pass_fds=fds)

    def go(self, premade: Path | None) -> None:
        """build/docs is written: MkDocs builds (started now if it could not be started before)."""
        folders = {PREMADE_DIRS: str(premade)} if premade is not None else {}
        if self._pipe is None:
            self._launch({**self._env, **folders})
        else:
            try:
                with self._pipe:
                    self._pipe.write(json.dumps({"go": True, **folders}).encode() + b"\n")
            except OSError:  # MkDocs has ended already (its configuration failed): its status and log say why
                pass
            self._pipe = None
        self.going = True

    def stop(self) -> None:
        """MkDocs, if started, ends without building (the pipe closes without the go)."""
        if self._pipe is not None:
            self._pipe.close()
            self._pipe = None
        if self.proc is not None:
            self.proc.communicate()
            self.proc = None


def _hands_on_descriptors() -> bool:
    """Whether a started program can be handed a pipe's descriptor (Popen's pass_fds: POSIX only)."""
    return os.name == "posix"


class _Premade:
    """The folders of the last site, made again in `folder` beside the generator's work.

    A site at 10,000 studies has 11,000 folders (one per page: studies/<key>/index.html), and making
    them cost MkDocs 1 to 1.5 s of a rebuild on the development machine, where creating a folder is
    slow (kernel time). The atlas-cache plugin moves them into the new site right after MkDocs has
    emptied it (site_cache.py, PREMADE_DIRS), and `prune` removes afterwards those that no page used (a
    study deleted since), so the site is the one a full build writes. Without a last site, or if anything
    fails, nothing is made and MkDocs makes every folder, as before.

    The folders are made by a forked process where there is a second core: as a thread, the walk over
    the last site (Python between the system calls) took turns with the generator for the interpreter's
    lock, and at 10,000 studies a rebuild's generator step lasted 0.3 to 1.7 s longer while it ran."""

    def __init__(self, site: Path, folder: Path) -> None:
        self.folder = folder
        self.made: list[str] = []  # relative paths, parents first
        self._stop = threading.Event()
        self._ok = False
        self._thread: threading.Thread | None = None
        self._child: forked.Forked | None = None
        if not site.is_dir():
            return
        if forked.available():
            self._child = forked.Forked(_premade_folders, str(site), str(folder), None)
        else:
            self._thread = threading.Thread(target=self._run, args=(site,), daemon=True)
            self._thread.start()

    def _run(self, site: Path) -> None:
        made = _premade_folders(str(site), str(self.folder), self._stop)
        if made is not None:
            self.made, self._ok = made, True

    def wait(self) -> bool:
        """Whether the folders are all made (the process or thread has finished)."""
        if self._child is not None:
            made = self._child.result()
            self._child = None
            if made is not None:
                self.made, self._ok = made, True
        elif self._thread is not None:
            self._thread.join()
        else:
            return False
        return self._ok and bool(self.made)

    def prune(self, staging: Path) -> None:
        """Remove the folders made here that hold nothing in the built site (deepest first)."""
        if not self._ok:
            return
        top = str(staging)
        for rel in reversed(self.made):
            try:
                os.rmdir(top + rel)
            except OSError:  # not empty (the usual case), or not moved there
                pass

    def discard(self) -> None:
        self._stop.set()
        if self._child is not None:
            self._child.stop()
        if self._thread is not None:
            self._thread.join()
        shutil.rmtree(self.folder, ignore_errors=True)


def _premade_folders(top: str, out: str, stop: threading.Event | None) -> list[str] | None:
    """Make in `out` the folders of the site in `top` (less the search index's); their relative paths, parents
    first, or None if one could not be made or `stop` was set."""
    made: list[str] = []
    try:
        for folder, subfolders, _ in os.walk(top):
            if stop is not None and stop.is_set():
                return None
            if folder == top:
                subfolders[:] = [name for name in subfolders if name != OUTPUT]  # pagefind/: not MkDocs'
            for name in subfolders:
                rel = folder[len(top):] + os.sep + name
                os.mkdir(out + rel)
                made.append(rel)
    except OSError:
        return None
    return made


SEARCH_OPTIONS = ["--force-language", "en", "--silent"]  # Pagefind's, besides where it reads and writes


def _index(site: Path, log: list[str], cache: Path, reuse: FragmentReuse | None = None) -> tuple[int, str]:
    """Pagefind's chunked, static search index: a first search downloads a few hundred KB, offline.

    Pagefind reads the site's reading copy in `cache` (build/cache/search/pages/: each indexed page without
    the part before its data-pagefind-body element, which Pagefind takes nothing from; `ReadingCopy`), and
    writes the index into the site. The page fragments of the last build whose pages are unchanged are put
    in place first, so that Pagefind writes only the others (generator/search_cache.py). If the result
    cannot be checked against the index's own page list, the site is indexed again from nothing. A build
    gives the `reuse` it staged while MkDocs worked (`FragmentReuse.stage`).
    Returns Pagefind's status and a note on the reuse for the build's last line."""
    copy = ReadingCopy(cache)
    try:
        indexed = copy.update(site)
    except OSError as exc:
        log.append(f"the pages could not be copied for Pagefind into {copy.folder}: {exc}\n")
        return 1, ""
    if reuse is None:
        reuse = FragmentReuse(cache, site, SEARCH_OPTIONS)
    reuse.prepare(indexed)
    status = _pagefind(copy.folder, site / OUTPUT, SEARCH_OPTIONS, log)
    if status != 0 or reuse.finish():
        return status, (f"{reuse.reused:,} of {reuse.indexed:,} search fragments reused" if status == 0 else "")
    log.append("the search index did not match its page list; indexing the site again from nothing\n")
    shutil.rmtree(site / OUTPUT, ignore_errors=True)
    (cache / "manifest.json").unlink(missing_ok=True)
    status = _pagefind(copy.folder, site / OUTPUT, SEARCH_OPTIONS, log)
    if status == 0:
        FragmentReuse(cache, site, SEARCH_OPTIONS).finish()
    return status, ""


@functools.lru_cache(maxsize=1)
def pagefind_command() -> tuple[str, ...]:
    """How Pagefind is run: its binary, found as `python -m pagefind` finds it (pagefind.service's
    `get_executable`: PAGEFIND_BINARY_PATH, the extended or the plain binary wheel, then PATH), and run
    directly. `python -m pagefind` only finds it and replaces itself with it, and that second Python's
    start-up and imports were 0.05 s of every build. If it cannot be found here, `python -m pagefind`
    runs, and says what is missing."""
    try:
        from pagefind.service import get_executable
        found = get_executable()
    except Exception:  # any failure here: the module's own command reports it
        found = None
    return (str(found),) if found is not None else (sys.executable, "-m", "pagefind")


def _pagefind(pages: Path, output: Path, options: list[str], log: list[str]) -> int:
    cmd = [*pagefind_command(), "--site", str(pages), "--output-path", str(output), *options]
    try:
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    except (OSError, subprocess.SubprocessError) as exc:
        log.append(f"pagefind could not run: {exc}\n")
        return 1
    log.append(result.stdout + result.stderr)
    return result.returncode


TRASH = Path("build/trash")


def _swap(new: Path, site: Path, trash: Path) -> None:
    """Put the new site in place of the old one, by two renames.

    The old site is moved into `trash` (build/trash/), not deleted here: at 10,000 studies deleting its
    21,000 files and 11,000 folders took 4 to 5 s, at the end of every build. The next build deletes it
    while MkDocs and Pagefind run (`_Emptying`), when one core is mostly idle. Where the trash cannot
    take it (build/ on another file system), the old site is deleted here, as before."""
    if site.exists():
        try:
            trash.mkdir(parents=True, exist_ok=True)
            site.rename(Path(tempfile.mkdtemp(prefix="site-", dir=trash)) / site.name)
        except OSError:
            old = site.with_name(site.name + ".old")
            shutil.rmtree(old, ignore_errors=True)
            site.rename(old)
            new.rename(site)
            shutil.rmtree(old, ignore_errors=True)
            return
    new.rename(site)


class _Emptying:
    """Deletes what is in the trash (sites replaced by earlier builds) in a thread, from the start of the
    build's MkDocs step. File deletion is system calls, which release the GIL: the thread runs beside
    the process waiting on MkDocs and Pagefind. `wait` is called before the next swap, so that a build
    never ends with two deletions pending; a build stopped by Ctrl-C leaves the rest to the next. What
    cannot be deleted (a file in use on some systems) stays for the next build to try again."""

    def __init__(self, trash: Path) -> None:
        self._thread: threading.Thread | None = None
        try:
            names = sorted(os.listdir(trash))
        except OSError:
            return
        if names:
            self._thread = threading.Thread(target=self._run, args=([trash / name for name in names],),
                                            daemon=True)
            self._thread.start()

    @staticmethod
    def _run(paths: list[Path]) -> None:
        for path in paths:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)

    def wait(self) -> None:
        if self._thread is not None:
            self._thread.join()
            self._thread = None


class _Ticker:
    """Progress on long builds: a line every 10 s while mkdocs works."""

    def __init__(self, quiet: bool, started: float) -> None:
        self._stop = threading.Event()
        self._thread = None
        if not quiet and sys.stderr.isatty():
            self._thread = threading.Thread(target=self._run, args=(started,), daemon=True)
            self._thread.start()

    def _run(self, started: float) -> None:
        while not self._stop.wait(10):
            print(f"  ... still building ({time.monotonic() - started:.0f} s)", file=sys.stderr, flush=True)

    def stop(self) -> None:
        self._stop.set()


def _snapshot(root: Path) -> dict[str, float]:
    stamp: dict[str, float] = {}
    for name in WATCHED:
        path = root / name
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else []
        for p in files:
            stamp[str(p)] = p.stat().st_mtime
    return stamp


def _exit_on_signal(signum: int, frame: object) -> None:  # noqa: ARG001 - signal handler signature
    raise SystemExit(128 + signum)


def serve(root: Path, addr: str) -> int:
    """Regenerate build/docs when the evidence changes; `mkdocs serve` reloads the browser."""
    ok, _, atlas_env = _generate(root, False, False)
    if not ok:
        print("evidence: fix the errors above; the preview shows the last good pages", file=sys.stderr)
    env = {**os.environ, **atlas_env, "NO_MKDOCS_2_WARNING": "1"}
    # Stopped by a signal (a supervisor's SIGTERM, a closed terminal's SIGHUP), the preview must not leave
    # MkDocs serving on its own: exit through the `finally` below, which stops it.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _exit_on_signal)
    proc = subprocess.Popen([sys.executable, "-m", "mkdocs", "serve", "--dev-addr", addr], cwd=root, env=env)
    last = _snapshot(root)
    try:
        while proc.poll() is None:
            time.sleep(1)
            now = _snapshot(root)
            if now != last:
                last = now
                print("change detected; regenerating ...", file=sys.stderr)
                generate(root)
    except KeyboardInterrupt:
        pass
    finally:
        proc.terminate()
        proc.wait()
    return 0
