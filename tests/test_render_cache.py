"""The render cache of study pages (generator/render_cache.py): a rebuild renders exactly the study pages
whose inputs changed, reads the others from build/cache/md, and writes the same bytes as a build without it."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import io
import json
import os
import pickle
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from generator import render
from generator.build import DOCS, generate
from generator.load_cache import FOLDER as LOAD_CACHE
from generator.render_cache import FOLDER, FORMAT, SUFFIX, _entries, canonical, finite, unpack

from .conftest import copy_project
from .helpers import BASE, ROOT, ForkedJobs, make_project

STUDIES = DOCS / "studies"
PROGRESS = re.compile(r"generated ([\d,]+) files \(([\d,]+) changed, ([\d,]+) study pages reused\)")


def generate_counting(root: Path) -> tuple[int, int]:
    """Run the generator step; (files changed in build/docs, study pages read from the cache), from its progress line."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        ok, _ = generate(root)
    text = err.getvalue()
    assert ok and "Traceback" not in text, text
    found = PROGRESS.search(text)
    assert found is not None, text
    return int(found.group(2).replace(",", "")), int(found.group(3).replace(",", ""))


def study_pages(root: Path) -> dict[str, str]:
    """Study key -> its page (the list of studies, studies/index.md, left out)."""
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted((root / STUDIES).glob("*.md")) if p.stem != "index"}


def cache_entries(root: Path, kind: str | None = None) -> dict[str, Path]:
    """Digest -> the file of the render cache holding it, in the order of the files and of the entries in
    them; every file is read whole. With a `kind`, only the study pages ("page") or only the pieces of the
    files made of every study ("pieces", pages.Wholes)."""
    out: dict[str, Path] = {}
    for path in sorted((root / FOLDER).glob("*" + SUFFIX)):
        entries, whole = _entries(path.read_bytes(), path.name[:2])
        assert whole, path
        for digest, (data, start, length, _crc) in entries.items():
            if kind is None or kind == entry_kind(data[start:start + length]):
                out[digest] = path
    return out


def files_of(root: Path, digest: str) -> Path:
    """The file of the render cache that holds the entry `digest`."""
    return cache_entries(root)[digest]


def entry_kind(body: bytes) -> str:
    """A study page begins with its front matter; a study's pieces are four packed byte strings, the first an
    explorer entry (a JSON object); a part of the other pages (pages._part) is paths and texts, packed."""
    if body.startswith(b"---"):
        return "page"
    items = unpack(body)
    assert items is not None, body[:64]
    return "pieces" if len(items) == 4 and items[0].startswith(b"{") else "part"


def equals_an_uncached_build(root: Path) -> None:
    """The cache removed, the same input generated again changes no file: the cached output was byte-identical."""
    shutil.rmtree(root / FOLDER)
    changed, reused = generate_counting(root)
    assert (changed, reused) == (0, 0)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped evidence base, generated once with the cache filled (copied by each test that changes it)."""
    root = copy_project(tmp_path_factory.mktemp("cache") / "project")
    changed, reused = generate_counting(root)
    assert changed > 0 and reused == 0
    n = len(study_pages(root))
    assert len(cache_entries(root, "page")) == len(cache_entries(root, "pieces")) == n
    assert len(cache_entries(root, "part")) == PARTS
    assert len(cache_entries(root)) == 2 * n + PARTS
    return root


PARTS = 4  # the parts of the other pages (Renderer.parts, CompareRenderer.parts), each one entry


def copy_built(built: Path, dest: Path) -> Path:
    shutil.copytree(built, dest, symlinks=True)
    return dest


def test_an_unchanged_rebuild_reads_every_study_page_from_the_cache(built: Path, tmp_path: Path) -> None:
    root = copy_built(built, tmp_path / "p")
    assert generate_counting(root) == (0, len(study_pages(root)))


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


CHANGES: dict[str, Callable[[Path], None]] = {
    # printed on its own page only
    "summary": lambda root: edit(root / "evidence/studies/bovaird2007.yaml", "summary: >-\n",
                                 "summary: >-\n  A changed summary.\n"),
    # printed on its own page and, as a related study's title, on the pages that list it
    "title": lambda root: edit(root / "references.bib", "title   = {Beyond engagement and participation:",
                               "title   = {Beyond engagement, participation and more:"),
    # moves it up or down other studies' related lists
    "codes": lambda root: edit(root / "evidence/studies/bovaird2007.yaml", "sectors: [public-services-general]",
                               "sectors: [public-services-general, health]"),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_changed_record_rerenders_exactly_the_pages_made_from_it(built: Path, tmp_path: Path, change: str) -> None:
    """Every study page that differs was rendered again, and no other (the misses are counted), and the
    whole output equals an uncached build of the same input byte for byte."""
    root = copy_built(built, tmp_path / "p")
    before = study_pages(root)
    CHANGES[change](root)
    _, reused = generate_counting(root)
    after = study_pages(root)
    differ = {key for key in after if after[key] != before.get(key)}
    assert "bovaird2007" in differ
    assert len(after) - reused == len(differ), (len(after) - reused, sorted(differ))
    # a page other than the record's own differs only because it links the record (as a related study)
    assert all("](bovaird2007.md)" in after[key] for key in differ - {"bovaird2007"})
    if change == "summary":
        assert differ == {"bovaird2007"}
    else:
        assert len(differ) > 1  # the base has studies that list it as related
    equals_an_uncached_build(root)


def test_two_processes_share_out_the_study_pages_and_fill_one_cache(built: Path, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The render split in two processes taking chunks of study pages (as from 400 studies) reads and fills
    the same cache, and writes the bytes of the one-process render the fixture made."""
    from generator import pages

    monkeypatch.setattr(pages, "PARALLEL_FROM", 1)
    monkeypatch.setattr(pages, "CHUNK", 9)
    root = copy_built(built, tmp_path / "p")
    n = len(study_pages(root))
    assert generate_counting(root) == (0, n)
    before = study_pages(root)
    CHANGES["title"](root)
    _, reused = generate_counting(root)
    after = study_pages(root)
    assert n - reused == sum(after[key] != before[key] for key in after) > 1
    equals_an_uncached_build(root)
    assert generate_counting(root) == (0, n)  # the second process's pages were put in the cache too


@pytest.mark.parametrize(("change", "two"), [("summary", False), ("codes", True), ("none", False)])
def test_a_second_render_process_is_started_only_for_work_worth_it(built: Path, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch,
                                                                  change: str, two: bool) -> None:
    """Above PARALLEL_FROM studies the render is shared with a second process, but not when the cache holds every
    part of the other pages and all but a few study pages (an edit that only a study's own page shows, or none):
    reading is not worth a second process. An edit that makes the parts again is. Either way the output is
    that of a build without the cache."""
    from generator import forked, pages

    monkeypatch.setattr(pages, "PARALLEL_FROM", 1)
    monkeypatch.setattr(pages, "PARALLEL_RENDERS", 2)
    monkeypatch.setattr(forked, "available", lambda: True)  # a one-core machine still tests the choice
    started: list[str] = []
    real = forked.Forked

    def spy(job: Any, *args: Any) -> Any:
        started.append(job.__name__)
        return real(job, *args)

    monkeypatch.setattr(forked, "Forked", spy)
    root = copy_built(built, tmp_path / "p")
    if change != "none":
        CHANGES[change](root)
    generate_counting(root)
    assert ("_spool" in started) is two, started
    equals_an_uncached_build(root)
    started.clear()
    generate_counting(root)  # nothing changed since: everything is read
    assert "_spool" not in started


def test_the_second_process_sends_back_only_what_it_made(built: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """What the second render process hands back (a file per job it did, pages._spool) holds, of the study
    pages and their pieces (pages.Wholes: the explorer's entries, the dataset's rows and records), only those
    it rendered or made: this process reads the cached ones from its own copy of the cache, and puts the
    explorer's index and the dataset's files together itself."""
    from generator import pages, urls
    from generator.render import Renderer
    from generator.render_compare import CompareRenderer

    monkeypatch.setattr(pages, "PARALLEL_FROM", 1)
    monkeypatch.setattr(pages, "CHUNK", 3)
    answers: list[list[Any]] = []
    unspool = pages._unspool

    def spy(folder: str) -> list[Any]:
        answer = unspool(folder)
        answers.append(answer)
        return answer
    monkeypatch.setattr(pages, "_unspool", spy)

    def merged(answer: list[Any]) -> tuple[dict[str, Any], dict[str, str], dict[str, str], list[str],
                                           dict[str, Any], list[str]]:
        parts: dict[str, Any] = {}
        sent: dict[str, str] = {}
        digests: dict[str, str] = {}
        rendered: list[str] = []
        pieces: dict[str, Any] = {}
        made: list[str] = []
        for done in answer:
            parts.update(done[0])
            sent.update(done[1][0])
            digests.update(done[1][1])
            rendered.extend(done[1][2])
            pieces.update(done[1][3])
            made.extend(done[1][4])
        return parts, sent, digests, rendered, pieces, made

    root = copy_built(built, tmp_path / "p")
    n = len(study_pages(root))
    CHANGES["title"](root)
    assert 0 < generate_counting(root)[1] < n
    assert len(answers) == 1 and len(answers[0]) > 1  # one file for each job it took
    parts = merged(answers[0])[0]
    assert parts and not {page for pages_, _made in parts.values() for page in pages_} & {"explore/studies.js",
                                                                                           "data/evidence.json"}
    # no other part, so that the second process surely takes chunks of study pages (a second process for the
    # few pages the edit changes)
    monkeypatch.setattr(pages, "PARALLEL_RENDERS", 1)
    monkeypatch.setattr(Renderer, "parts", lambda _self: {})
    monkeypatch.setattr(CompareRenderer, "parts", lambda _self: {})
    CHANGES["codes"](root)
    assert 0 < generate_counting(root)[1] < n
    parts, sent, digests, rendered, pieces, made = merged(answers[1])
    assert not parts and len(digests) > len(rendered) > 0  # it took study pages, some of them changed
    assert set(sent) == {urls.study_page(key) for key in rendered}
    # a study's pieces are keyed by its page's digest: made exactly where the page was rendered
    assert set(pieces) == set(made) == set(rendered)
    assert set(rendered) <= set(digests)
    equals_an_uncached_build(root)


@pytest.mark.parametrize("left", ["nothing", "every other job", "a damaged file", "every job"])
def test_if_the_second_render_process_dies_its_share_is_rendered_here(built: Path, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch,
                                                                     left: str) -> None:
    """The worst case: the second process takes every chunk it can, then dies before it answers, having left
    in the spool nothing, some of its jobs' results, a damaged file, or all of them. This process renders
    what is missing (the parts of the other pages and the study pages it took), and the output and the cache
    are those of a build in one process."""
    from generator import forked, pages

    def take_then_die(_sender: Any, job: Any, args: tuple[Any, ...]) -> None:
        take, jobs, folder = args
        if left == "every job":
            job(*args)
        n = 0
        while True:
            try:
                i = take()
            except StopIteration:
                break
            if (left == "every other job" and n % 2 == 0) or (left == "a damaged file" and n == 0):
                result = pickle.dumps(jobs[i](False))
                Path(folder, f"{n:05d}.done").write_bytes(result[:len(result) // 2] if left == "a damaged file"
                                                          else result)
            n += 1
        os._exit(3)
    monkeypatch.setattr(pages, "PARALLEL_FROM", 1)
    monkeypatch.setattr(pages, "CHUNK", 9)
    monkeypatch.setattr(forked, "_run", take_then_die)
    root = copy_built(built, tmp_path / "p")
    n = len(study_pages(root))
    CHANGES["title"](root)
    changed, reused = generate_counting(root)
    assert changed > 0 and reused < n
    equals_an_uncached_build(root)
    monkeypatch.undo()
    assert generate_counting(root) == (0, n)  # the pages rendered here after the failure are in the cache


def test_a_codebook_label_change_rerenders_every_study_page(built: Path, tmp_path: Path) -> None:
    root = copy_built(built, tmp_path / "p")
    edit(root / "evidence/codebook/logics.yaml", "label: Community logic", "label: Logic of the community")
    _, reused = generate_counting(root)
    assert reused == 0
    assert "[Logic of the community](../logics/community.md)" in study_pages(root)["bovaird2007"]
    equals_an_uncached_build(root)


@pytest.mark.parametrize("template", ["study.md.j2", "term.md.j2"])
def test_a_template_change_rerenders_every_study_page(built: Path, tmp_path: Path, template: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Any template, not only the study page's: the key holds the bytes of the whole template tree."""
    root = copy_built(built, tmp_path / "p")
    templates = shutil.copytree(render.TEMPLATES, tmp_path / "templates")
    edit(templates / template, "\n", "\n{# a comment, changing the bytes but not the page #}\n")
    monkeypatch.setattr(render, "TEMPLATES", templates)
    changed, reused = generate_counting(root)
    assert reused == 0 and changed == 0


def test_a_damaged_cache_is_ignored(built: Path, tmp_path: Path) -> None:
    """A truncated file, a garbled one, an empty one, a flipped bit, a page that is not UTF-8, and pieces and a
    part of the other pages that do not unpack under a right checksum: each page lost is rendered again, each
    study's pieces and each part made again, all are written back, the output is unchanged, and no traceback."""
    import zlib

    root = copy_built(built, tmp_path / "p")
    pages = cache_entries(root, "page")
    kinds = {digest: kind for kind in ("page", "pieces", "part") for digest in cache_entries(root, kind)}
    files: dict[Path, list[str]] = {}
    for digest, path in cache_entries(root).items():
        files.setdefault(path, []).append(digest)
    singles = {kind: [path for path, digests in files.items() if len(digests) == 1 and kinds[digests[0]] == kind]
               for kind in ("page", "pieces")}
    several = [path for path, digests in files.items() if len(digests) > 1]
    assert len(singles["page"]) >= 2 and len(singles["pieces"]) >= 1 and len(several) >= 4
    # a part of the other pages whose bytes, under a right checksum, are no packing of pages: made again, and
    # written back (in a file of its own among those damaged below, with its other entries as they were)
    body = b"\xff\xfe not UTF-8"
    damaged = {*several[:4], *singles["page"][:2], *singles["pieces"][:1]}
    part = next(d for d, kind in kinds.items() if kind == "part" and files_of(root, d) not in damaged)
    entries, _ = _entries(files_of(root, part).read_bytes(), part[:2])
    files_of(root, part).write_bytes(b"".join(
        b"%s %s %08x %d\n%s" % (FORMAT, d.encode(), zlib.crc32(b), len(b), b)
        for d, b in ((d, body if d == part else data[start:start + length])
                     for d, (data, start, length, _) in entries.items())))

    def pages_in(path: Path, last: bool = False) -> int:
        digests = files[path][-1:] if last else files[path]
        return sum(1 for d in digests if d in pages)
    lost = 0
    several[0].write_bytes(several[0].read_bytes()[:-10])  # its last entry cut short
    lost += pages_in(several[0], last=True)
    several[1].write_bytes(b"not a cache file")  # every entry in it
    lost += pages_in(several[1])
    data = bytearray(several[2].read_bytes())
    data[-5] ^= 1  # one bit of its last entry
    several[2].write_bytes(bytes(data))
    lost += pages_in(several[2], last=True)
    singles["page"][0].write_bytes(b"")
    lost += 1
    several[3].write_bytes(several[3].read_bytes() + b"bytes after the last entry")  # nothing lost
    body = b"\xff\xfe not UTF-8"
    for path in (singles["page"][1], singles["pieces"][0]):  # a page that cannot be read, pieces that do not unpack
        path.write_bytes(b"%s %s %08x %d\n%s" % (FORMAT, files[path][0].encode(), zlib.crc32(body), len(body), body))
    lost += 1
    (root / FOLDER / "stale.tmp").write_text("left by an interrupted build", encoding="utf-8")
    (root / FOLDER / f"{'0' * 64}.md").write_text("a page of an older layout", encoding="utf-8")
    n = len(study_pages(root))
    assert generate_counting(root) == (0, n - lost)
    assert sorted(p.name for p in (root / FOLDER).iterdir() if not p.name.endswith(SUFFIX)) == []
    assert len(cache_entries(root, "page")) == len(cache_entries(root, "pieces")) == n  # every file whole again
    assert part in cache_entries(root, "part") and len(cache_entries(root, "part")) == PARTS  # written back whole
    assert set(cache_entries(root)) == {d for ds in files.values() for d in ds}  # the same entries, rewritten
    assert generate_counting(root) == (0, n)


def test_a_file_in_place_of_the_cache_folder_is_replaced(built: Path, tmp_path: Path) -> None:
    root = copy_built(built, tmp_path / "p")
    shutil.rmtree(root / FOLDER)
    (root / FOLDER).write_text("not a folder", encoding="utf-8")
    n = len(study_pages(root))
    assert generate_counting(root) == (0, 0)
    assert generate_counting(root) == (0, n)


def test_entries_no_study_needs_are_dropped(built: Path, tmp_path: Path) -> None:
    root = copy_built(built, tmp_path / "p")
    before = set(cache_entries(root))
    parts = cache_entries(root, "part")
    CHANGES["summary"](root)
    generate_counting(root)
    after = set(cache_entries(root))
    # the study's page and its pieces: the new ones in, the old ones out; a summary is in no other part
    assert len(after) == 2 * len(study_pages(root)) + PARTS and len(before - after) == len(after - before) == 2
    assert set(cache_entries(root, "part")) == set(parts)


def test_a_date_in_the_dataset_metadata_is_an_input_like_any_other(tmp_path: Path) -> None:
    """YAML reads an unquoted date as a date: it has a canonical form, so the pages are still cached, and keyed on it."""
    root = make_project(tmp_path / "p")
    edit(root / "evidence/dataset.yaml", 'released: "2026-01-31"', "released: 2026-01-31")
    assert generate_counting(root)[1] == 0
    assert generate_counting(root)[1] == 4
    edit(root / "evidence/dataset.yaml", "released: 2026-01-31", "released: 2026-02-01")
    assert generate_counting(root)[1] == 0
    assert "2026\\-02\\-01" in study_pages(root)["smith2020"]  # Markdown-escaped


DIGESTS = """
import json, sys
from pathlib import Path
from generator.check import check
from generator.load import load_project
from generator.model import build_model
from generator.render import Renderer
loaded = load_project(Path(sys.argv[1]))
result = check(loaded)
model = build_model(result.records, result.codebook, loaded.bib, loaded.record_paths, result.corrected, result.screening)
print(json.dumps(Renderer(model, result.dataset, result.changes, loaded.bib.text).study_digests(list(model.studies))))
"""


def test_digests_are_the_same_in_every_process() -> None:
    """No set order, memory address or hash seed reaches a key: two interpreters with other seeds agree."""
    runs = [subprocess.run([sys.executable, "-c", DIGESTS, str(BASE)], capture_output=True, text=True, check=True,
                           cwd=ROOT, env={**os.environ, "PYTHONHASHSEED": seed}).stdout
            for seed in ("1", "2")]
    digests = json.loads(runs[0])
    assert runs[0] == runs[1] and len(digests) == 4 and len(set(digests.values())) == 4


@dataclasses.dataclass(frozen=True)
class Point:
    x: int
    tags: frozenset[str]


@dataclasses.dataclass(frozen=True)
class Label:
    text: str


def test_canonical_text() -> None:
    assert canonical({"b", "a", "c"}) == canonical({"c", "b", "a"}) == '{"<set>":["\\"a\\"","\\"b\\"","\\"c\\""]}'
    assert canonical(Point(1, frozenset({"y", "x"}))) == canonical(Point(1, frozenset({"x", "y"})))
    assert "test_render_cache.Point" in canonical(Point(1, frozenset()))
    # a dataclass is its class and the values of its fields in order (the class's code is in every key)
    assert canonical(Point(1, frozenset())) == f'{{"<dataclass>":"{__name__}.Point","fields":[1,{{"<set>":[]}}]}}'
    assert canonical(Point(1, frozenset())) != canonical(Point(2, frozenset()))
    assert canonical(Label("a")) == f'{{"<dataclass>":"{__name__}.Label","fields":"a"}}'  # one field: its value
    assert canonical(Label("1")) != canonical(Point(1, frozenset()))  # nor across classes
    assert canonical({"a": 1, "b": 2}) != canonical({"b": 2, "a": 1})  # a page can print a dict in its order
    assert canonical(("a", 1, None, True, 1.5)) == '["a",1,null,true,1.5]'
    with pytest.raises(TypeError):
        canonical(object())  # never repr()
    with pytest.raises(TypeError):
        canonical({1: "a"})  # {"1": "a"} has that text: a key that is not text is refused
    assert canonical(dt.date(2026, 1, 31)) == '{"<date>":"2026-01-31"}' != canonical("2026-01-31")


def test_a_number_that_is_not_finite_is_found_where_canonical_would_lose_it() -> None:
    """orjson writes NaN and the infinities as null, the text of None: `finite` finds them first."""
    assert canonical(float("inf")) == canonical(None)
    assert finite({"a": [1.5, ("x", None)], "b": Point(1, frozenset())})
    for bad in (float("inf"), {"a": [0, {"b": float("nan")}]}, (1, -float("inf")), {Point(1, frozenset()), 2.0e999},
                Point(float("nan"), frozenset())):  # type: ignore[arg-type]
        assert not finite(bad)


def test_a_page_input_that_is_not_finite_is_refused_a_key() -> None:
    """The check lets no such number into dataset.yaml or the codebook (their fields are text), but should one
    reach the shared inputs of the study pages, they get no key (pages.render then renders without the cache)
    rather than the key of None."""
    from generator.check import check
    from generator.load import load_project
    from generator.model import build_model
    from generator.render import Renderer

    loaded = load_project(BASE)
    result = check(loaded)
    model = build_model(result.records, result.codebook, loaded.bib, loaded.record_paths, result.corrected,
                        result.screening)
    keys = list(model.studies)
    assert len(Renderer(model, {**result.dataset, "version": None}, result.changes).study_digests(keys)) == len(keys)
    with pytest.raises(TypeError):
        Renderer(model, {**result.dataset, "version": float("inf")}, result.changes).study_digests(keys)


def test_the_compiled_templates_are_kept_and_a_damaged_one_is_compiled_again(built: Path, tmp_path: Path) -> None:
    """build/cache/templates/generator holds Jinja's bytecode of the generator's templates (render_cache.template_cache);
    a generation whose every cached template is damaged compiles them again and writes the same pages."""
    from generator.build import TEMPLATE_CACHE

    root = copy_built(built, tmp_path / "p")
    before = {p.relative_to(root / DOCS).as_posix(): p.read_bytes() for p in (root / DOCS).rglob("*") if p.is_file()}
    cached = sorted((root / TEMPLATE_CACHE).iterdir())
    assert len(cached) > 10 and all(p.stat().st_size > 500 for p in cached)
    for path in cached:
        data = path.read_bytes()
        path.write_bytes(data[:40] + b"damaged" + data[47:])
    shutil.rmtree(root / FOLDER)  # every study page is rendered again, through the templates
    changed, reused = generate_counting(root)
    assert (changed, reused) == (0, 0)
    after = {p.relative_to(root / DOCS).as_posix(): p.read_bytes() for p in (root / DOCS).rglob("*") if p.is_file()}
    assert after == before
    assert all(path.read_bytes()[40:47] != b"damaged" for path in cached)


def test_compile_templates_leaves_every_template_compiled_for_the_render(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """render.compile_templates (run by a second process while a generation checks and models) compiles every
    Markdown and HTML template into the caches the render's environments read: they then compile nothing."""
    import jinja2

    folder = tmp_path / "templates" / "generator"
    assert render.compile_templates(folder)
    md = sorted(p.name for p in render.TEMPLATES.glob("*.md.j2"))
    html = sorted(p.name for p in render.TEMPLATES.glob("*.html.j2"))
    assert len(list(folder.iterdir())) == len(md) and len(list((folder.parent / "generator-html").iterdir())) == len(html)

    def compiled_here(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("compiled in the render")
    monkeypatch.setattr(jinja2.Environment, "compile", compiled_here)
    for name in md:
        render.markdown_environment(folder).get_template(name)
    for name in html:
        render.html_environment(folder).get_template(name)
    with pytest.raises(AssertionError):  # and the spy would see a compilation
        render.markdown_environment(tmp_path / "empty").get_template(md[0])


def test_a_generation_has_its_templates_compiled_by_a_second_process_and_writes_the_same(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from generator import forked
    from generator.build import TEMPLATE_CACHE

    from .conftest import copy_project

    started = ForkedJobs(monkeypatch)
    pages = {}
    for second_core in (False, True):
        root = copy_project(tmp_path / str(second_core))
        monkeypatch.setattr(forked, "available", lambda second_core=second_core: second_core)
        assert generate(root, quiet=True)[0]
        assert (render.compile_templates in started.jobs) == second_core
        assert len(list((root / TEMPLATE_CACHE).iterdir())) == len(list(render.TEMPLATES.glob("*.md.j2")))
        pages[second_core] = {p.relative_to(root / DOCS).as_posix(): p.read_bytes()
                              for p in (root / DOCS).rglob("*") if p.is_file()}
    assert pages[True] == pages[False]
    assert render.templates_compiled(root / TEMPLATE_CACHE)
    assert generate(root, quiet=True)[0]
    assert started.jobs.count(render.compile_templates) == 1, "not again: the caches hold every template"


def test_the_spool_is_in_memory_only_where_there_is_room(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """/dev/shm when it has room to spare, else the temporary folder (None): a container's /dev/shm is often
    64 MB, less than the second render process leaves there at 10,000 studies."""
    from generator import pages

    monkeypatch.setattr(pages, "SHM", str(tmp_path))
    monkeypatch.setattr(pages, "SHM_ROOM", 1)
    assert pages._spool_folder() == str(tmp_path)
    monkeypatch.setattr(pages, "SHM_ROOM", 1 << 62)
    assert pages._spool_folder() is None
    monkeypatch.setattr(pages, "SHM", str(tmp_path / "missing"))
    monkeypatch.setattr(pages, "SHM_ROOM", 1)
    assert pages._spool_folder() is None


def test_a_spool_on_disk_gives_the_same_pages(built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from generator import pages

    monkeypatch.setattr(pages, "PARALLEL_FROM", 1)
    monkeypatch.setattr(pages, "CHUNK", 3)
    monkeypatch.setattr(pages, "SHM", str(tmp_path / "missing"))
    root = copy_built(built, tmp_path / "p")
    CHANGES["summary"](root)
    generate_counting(root)
    equals_an_uncached_build(root)


def test_a_failure_in_this_process_stops_the_other_and_leaves_no_spool(built: Path, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug in a job done here ends the step with its own error; the second process is stopped first, so
    that its spool folder is deleted whole rather than written into while it goes."""
    from generator import pages
    from generator.render import Renderer

    here = os.getpid()
    render_studies = Renderer.render_studies

    def broken(self: Renderer, keys: list[str]) -> dict[str, str]:
        if os.getpid() == here:
            raise RuntimeError("a bug in the study pages")
        return render_studies(self, keys)
    shm = tmp_path / "shm"
    shm.mkdir()
    monkeypatch.setattr(pages, "SHM", str(shm))
    monkeypatch.setattr(pages, "SHM_ROOM", 1)
    monkeypatch.setattr(pages, "PARALLEL_FROM", 1)
    monkeypatch.setattr(pages, "CHUNK", 3)
    monkeypatch.setattr(Renderer, "render_studies", broken)
    root = copy_built(built, tmp_path / "p")
    CHANGES["summary"](root)
    with pytest.raises(RuntimeError, match="a bug in the study pages"):
        generate(root, quiet=True)
    assert list(shm.iterdir()) == []


def test_the_fields_left_out_of_the_parts_key_change_no_part() -> None:
    """Renderer.parts_digest leaves out of the key of the other pages (the matrices, the term and index pages,
    the views, the home page) the fields only a study's own page prints (render.PAGE_ONLY_FIELDS). Given
    other values in every study of the shipped base, they change no page of any part, so a part read from
    the cache under an unchanged key is the part that would be made; a field that is in the key changes it."""
    from generator import spec
    from generator.check import check
    from generator.load import load_project
    from generator.model import build_model
    from generator.render import PAGE_ONLY_FIELDS, Renderer
    from generator.render_compare import CompareRenderer

    loaded = load_project(ROOT)
    result = check(loaded)
    model = build_model(result.records, result.codebook, loaded.bib, loaded.record_paths, result.corrected,
                        result.screening)

    def renderer(m: Any) -> Renderer:
        return Renderer(m, result.dataset, result.changes, loaded.bib.text, corrections=loaded.corrections)

    def parts(m: Any) -> dict[str, dict[str, str]]:
        base = renderer(m)
        return {name: make() for name, make in {**base.parts(), **CompareRenderer(base).parts()}.items()}

    others: dict[str, Any] = {spec.SUMMARY: "Another summary.", spec.CODING_NOTE: "Another note.", spec.SOURCES: (),
                              "related": (), "record_path": "evidence/studies/elsewhere.yaml"}
    assert sorted(others) == sorted(PAGE_ONLY_FIELDS)
    studies = model.studies.values()
    assert all(s.summary and s.coding_note for s in studies) and any(s.sources for s in studies)
    assert any(s.related for s in studies)
    changed = dataclasses.replace(model, studies={k: dataclasses.replace(s, **others) for k, s in model.studies.items()})
    assert renderer(changed).parts_digest() == renderer(model).parts_digest() is not None
    assert parts(changed) == parts(model)
    first = next(iter(model.studies))
    retitled = dataclasses.replace(model, studies={**model.studies, first: dataclasses.replace(model.studies[first],
                                                                                                title="Another title")})
    assert renderer(retitled).parts_digest() != renderer(model).parts_digest()


@pytest.mark.parametrize("dies", [False, True])
def test_many_files_of_the_cache_are_written_by_a_second_process_or_here_if_it_fails(
        built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dies: bool) -> None:
    """From build.SAVE_ELSEWHERE files to rewrite, a forked process writes the render cache while build/docs
    is synced; if it fails, this process writes it. Either way the next build reads every study page."""
    from generator import build, forked

    if not forked.available():
        pytest.skip("no second core or no fork here")
    monkeypatch.setattr(build, "SAVE_ELSEWHERE", 1)
    started = ForkedJobs(monkeypatch)
    if dies:
        monkeypatch.setattr(build, "_save", lambda *_caches: os._exit(3))
    root = copy_built(built, tmp_path / "p")
    shutil.rmtree(root / FOLDER)
    shutil.rmtree(root / LOAD_CACHE)
    n = len(study_pages(root))
    assert generate_counting(root) == (0, 0)
    assert build._save in started.jobs
    monkeypatch.undo()
    assert len(cache_entries(root, "page")) == n
    assert sorted(p.name for p in (root / LOAD_CACHE).iterdir())  # the load cache is saved with it
    assert generate_counting(root) == (0, n)


def test_one_packing_holds_the_parts_and_the_pieces() -> None:
    """render_cache.pack: a line of lengths, then the byte strings; what is not such a packing is refused."""
    from generator.render_cache import pack, pack_pages, unpack_pages

    items = [b"", b"a b\n", "é".encode(), b"{}"]
    assert pack(items) == b"0 4 2 2\na b\n\xc3\xa9{}" and unpack(pack(items)) == items
    assert unpack(pack([])) == []
    for bad in (b"", b"no line end", b"1 x\nab", b"-1 2\nab", b"2\na", b"1\nab"):  # short, not a number, too long
        assert unpack(bad) is None, bad
    pages = {"index.md": b"# Home\n", "data/x.csv": "é\n".encode()}
    assert unpack_pages(pack_pages(pages)) == pages
    assert unpack_pages(pack([b"index.md", b"\xff"])) is None  # a page that is not UTF-8
    assert unpack_pages(pack([b"index.md"])) is None  # a path without its page
