"""The search index's reading copy and fragments, kept between builds (generator/search_cache.py,
build._index).

Each test indexes a small site of hand-written pages with the real Pagefind, as `evidence build` does,
and compares the index it produced with Pagefind's own run over the same pages, whole, with no cache:
the two must be byte-identical, whatever the cache held."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest

from generator import search_cache
from generator.build import SEARCH_OPTIONS, _index, pagefind_command

from .helpers import tree_digest

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>
<body><nav>Site menu</nav><main data-pagefind-body><h1 id="top">{title}</h1><p>{text}</p></main></body></html>
"""


def write_site(site: Path, pages: dict[str, tuple[str, str]]) -> None:
    for rel, (title, text) in pages.items():
        path = site / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(PAGE.format(title=title, text=text), encoding="utf-8")


def pages(n: int) -> dict[str, tuple[str, str]]:
    out = {"index.html": ("Home", "The atlas of co-production studies.")}
    for i in range(n):
        out[f"studies/s{i:02d}/index.html"] = (f"Study {i}", f"Study number {i} finds barrier{i} under logic{i % 3}.")
    return out


def first_build(tmp_path: Path, n: int) -> tuple[Path, Path]:
    """A first build's site of `n` studies, indexed with an empty cache: the cache and the site."""
    cache = tmp_path / "cache"
    first = tmp_path / "site1"
    write_site(first, pages(n))
    assert _index(first, [], cache)[0] == 0
    return cache, first


def linked_copy(old: Path, new: Path) -> None:
    """The next build's site as the page cache makes it: every page a hard link to the same stored file."""
    for path in sorted(old.rglob("*.html")):
        rel = path.relative_to(old)
        if rel.parts[0] == "pagefind":
            continue
        (new / rel).parent.mkdir(parents=True, exist_ok=True)
        os.link(path, new / rel)


def fresh_index(site: Path, tmp: Path) -> dict[str, str]:
    """Pagefind's own index of the same pages, whole, with no cache and no reading copy."""
    fresh = Path(tempfile.mkdtemp(prefix="fresh-", dir=tmp))
    copy = fresh / "site"
    shutil.copytree(site, copy, ignore=shutil.ignore_patterns("pagefind"))
    subprocess.run([*pagefind_command(), "--site", str(copy), "--output-path", str(fresh / "pagefind"),
                    *SEARCH_OPTIONS], check=True, capture_output=True, timeout=600)
    return tree_digest(fresh / "pagefind")


def test_unchanged_pages_get_their_fragments_back_and_the_index_equals_a_fresh_one(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = tmp_path / "site1"
    write_site(first, pages(12))
    status, note = _index(first, [], cache)
    assert (status, note) == (0, "0 of 13 search fragments reused")
    manifest = json.loads((cache / "manifest.json").read_text(encoding="utf-8"))
    assert sorted(manifest["pages"]) == sorted(pages(12))
    assert sorted(os.listdir(cache / "fragment")) == sorted(manifest["fragments"])
    assert sorted(os.listdir(cache / "fragment")) == sorted(os.listdir(first / "pagefind/fragment"))

    # the next build: two pages rendered again (new files; one with new text), one page gone, one new
    second = tmp_path / "site2"
    linked_copy(first, second)
    changed = pages(13)
    changed["studies/s03/index.html"] = ("Study 3", "Study number 3 now reports a different barrier.")
    for rel in ("studies/s03/index.html", "studies/s05/index.html", "studies/s12/index.html"):
        (second / rel).unlink(missing_ok=True)
    write_site(second, {rel: changed[rel] for rel in ("studies/s03/index.html", "studies/s05/index.html",
                                                     "studies/s12/index.html")})
    shutil.rmtree(second / "studies/s07")
    log: list[str] = []
    status, note = _index(second, log, cache)
    # s05 was written again with the same text: a new file, so its fragment is written again (same name)
    assert (status, note) == (0, "10 of 13 search fragments reused"), log
    assert tree_digest(second / "pagefind") == fresh_index(second, tmp_path)
    # the cache now holds exactly this build's fragments; the replaced page's old fragment is gone from it
    manifest = json.loads((cache / "manifest.json").read_text(encoding="utf-8"))
    assert "studies/s07/index.html" not in manifest["pages"]
    assert sorted(os.listdir(cache / "fragment")) == sorted(os.listdir(second / "pagefind/fragment"))
    # the first site's index is untouched: fragments are shared as links, never written through
    assert tree_digest(first / "pagefind") == fresh_index(first, tmp_path)


def test_a_fragment_changed_in_place_is_not_reused(tmp_path: Path) -> None:
    """The cache's files are links shared with the last site: one altered through the site is left out."""
    cache, first = first_build(tmp_path, 5)
    manifest = json.loads((cache / "manifest.json").read_text(encoding="utf-8"))
    name = manifest["pages"]["studies/s02/index.html"][0]
    with (first / "pagefind/fragment" / name).open("ab") as f:  # the same inode as the cache's file
        f.write(b"damage")
    second = tmp_path / "site2"
    linked_copy(first, second)
    status, note = _index(second, [], cache)
    assert (status, note) == (0, "5 of 6 search fragments reused")
    assert tree_digest(second / "pagefind") == fresh_index(second, tmp_path)


@pytest.mark.parametrize("damage", ["manifest", "identity", "fragment gone"])
def test_a_damaged_or_foreign_cache_is_ignored(tmp_path: Path, damage: str) -> None:
    cache, first = first_build(tmp_path, 4)
    manifest = cache / "manifest.json"
    if damage == "manifest":
        manifest.write_text("{not json", encoding="utf-8")
    elif damage == "identity":  # another Pagefind version made these fragments
        data = json.loads(manifest.read_text(encoding="utf-8"))
        data["identity"] = data["identity"].replace("pagefind_bin=", "pagefind_bin=0.")
        manifest.write_text(json.dumps(data), encoding="utf-8")
    else:
        for path in (cache / "fragment").iterdir():
            path.unlink()
    second = tmp_path / "site2"
    linked_copy(first, second)
    status, note = _index(second, [], cache)
    assert (status, note) == (0, "0 of 5 search fragments reused")
    assert tree_digest(second / "pagefind") == fresh_index(second, tmp_path)
    assert sorted(os.listdir(cache / "fragment")) == sorted(os.listdir(second / "pagefind/fragment"))


def test_an_index_that_cannot_be_checked_is_made_again_from_nothing(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """If the new index's page list cannot be read (another Pagefind format), nothing linked is kept."""
    cache, first = first_build(tmp_path, 4)
    second = tmp_path / "site2"
    linked_copy(first, second)
    calls: list[bool] = []
    real = search_cache.FragmentReuse._indexed

    def unreadable_once(self: search_cache.FragmentReuse) -> tuple[set[str], set[str]] | None:
        calls.append(bool(self.linked))
        return None if len(calls) == 1 else real(self)

    monkeypatch.setattr(search_cache.FragmentReuse, "_indexed", unreadable_once)
    log: list[str] = []
    status, note = _index(second, log, cache)
    assert (status, note) == (0, "")
    assert calls == [True, False], "the second run links nothing"
    assert "indexing the site again from nothing" in "".join(log)
    monkeypatch.undo()
    assert tree_digest(second / "pagefind") == fresh_index(second, tmp_path)
    manifest = json.loads((cache / "manifest.json").read_text(encoding="utf-8"))
    assert sorted(manifest["pages"]) == sorted(pages(4))  # recorded again, for the next build


def test_a_linked_fragment_the_index_does_not_name_is_removed(tmp_path: Path) -> None:
    """A fragment in place that Pagefind does not list (here: planted under a page's entry) leaves the folder."""
    cache, first = first_build(tmp_path, 3)
    manifest_path = cache / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    planted = "en_0000000.pf_fragment"
    os.link(cache / "fragment" / manifest["pages"]["index.html"][0], cache / "fragment" / planted)
    manifest["fragments"][planted] = manifest["fragments"].pop(manifest["pages"]["index.html"][0])
    manifest["fragments"][planted][1] = os.stat(cache / "fragment" / planted).st_ino
    manifest["pages"]["index.html"][0] = planted
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    second = tmp_path / "site2"
    linked_copy(first, second)
    status, note = _index(second, [], cache)
    assert (status, note) == (0, "3 of 4 search fragments reused")
    assert planted not in os.listdir(second / "pagefind/fragment")
    assert tree_digest(second / "pagefind") == fresh_index(second, tmp_path)


def test_index_chunks_of_the_last_build_are_reused_and_a_stale_one_is_removed(tmp_path: Path) -> None:
    """Word chunks (pagefind/index/*.pf_index) come back as links when their content is unchanged; a chunk
    the new index does not name leaves the folder, and the index equals a fresh one."""
    cache, first = first_build(tmp_path, 12)
    manifest_path = cache / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    chunks = sorted(os.listdir(first / "pagefind/index"))
    assert chunks and sorted(manifest["chunks"]) == chunks == sorted(os.listdir(cache / "index"))
    # a stale chunk in the cache, as after a build whose words have since changed
    planted = "en_0000000.pf_index"
    shutil.copyfile(cache / "index" / chunks[0], cache / "index" / planted)
    stat = os.stat(cache / "index" / planted)
    manifest["chunks"][planted] = [stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns]
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")

    second = tmp_path / "site2"  # the same pages: every chunk is the cache's own file, not written again
    linked_copy(first, second)
    stored = {name: os.stat(cache / "index" / name).st_ino for name in chunks}
    log: list[str] = []
    assert _index(second, log, cache) == (0, "13 of 13 search fragments reused"), log  # not indexed again
    assert sorted(os.listdir(second / "pagefind/index")) == chunks
    assert {name: os.stat(second / "pagefind/index" / name).st_ino for name in chunks} == stored
    assert tree_digest(second / "pagefind") == fresh_index(second, tmp_path)
    assert sorted(os.listdir(cache / "index")) == chunks, "the stale chunk leaves the cache too"

    third = tmp_path / "site3"  # one page's words change: its chunks are written new, the index is a fresh one's
    linked_copy(second, third)
    (third / "studies/s04/index.html").unlink()
    write_site(third, {"studies/s04/index.html": ("Study 4", "Study number 4 reports trust and volunteers.")})
    assert _index(third, [], cache)[0] == 0
    assert tree_digest(third / "pagefind") == fresh_index(third, tmp_path)
    assert sorted(os.listdir(cache / "index")) == sorted(os.listdir(third / "pagefind/index"))


def test_page_files_of_addresses() -> None:
    assert search_cache._page_file("/") == "index.html"
    assert search_cache._page_file("/studies/a/") == "studies/a/index.html"
    assert search_cache._page_file("/search.html") == "search.html"
    assert search_cache._page_file("studies/a/") is None
    assert search_cache._page_file("/a/../b/") is None


STUDY = ('<!doctype html><html class=no-js lang=en><head><meta charset=utf-8><title>A &lt;b&gt; - Atlas</title>'
         '<script>var s = "<title>";</script><style>p{}</style><!-- a <div> note --></head><body><header>'
         '<nav>Site menu</nav></header><main><article><div data-pagefind-body><h1 id=a>A</h1><p>Text.</p></div>'
         '</article></main><footer>Footer</footer></body></html>')


def test_a_page_is_cut_to_its_body_element_and_what_follows() -> None:
    page = STUDY.encode()
    head, start = search_cache.cut(page)
    assert head == b"<!doctype html><html class=no-js lang=en><head><title>A &lt;b&gt; - Atlas</title></head><body>"
    assert page[start:] == (b"<div data-pagefind-body><h1 id=a>A</h1><p>Text.</p></div></article></main>"
                            b"<footer>Footer</footer></body></html>")
    upper = STUDY.replace("<div data-pagefind-body>", "<MAIN DATA-PAGEFIND-BODY>").encode()
    head, start = search_cache.cut(upper)
    assert upper[start:].startswith(b"<MAIN DATA-PAGEFIND-BODY><h1")  # names in any case, kept as written


@pytest.mark.parametrize(("why", "before", "after"), [
    ("no body element", "<div data-pagefind-body>", "<div>"),
    ("a Pagefind attribute before it", "<nav>", '<nav data-pagefind-meta="section:Menu">'),
    ("Pagefind's name in the text before it", "<nav>Site menu", "<nav>See data-pagefind-body"),
    ("the mark inside a script", '<script>var s = "<title>";', '<script>var s = "<div data-pagefind-body>";'),
    ("the mark inside a comment", "<!-- a <div> note -->", "<!-- <div data-pagefind-body> -->"),
    ("a comment left open", "<!-- a <div> note -->", "<!-- a <div> note"),
    ("a quoted attribute before the mark", "<div data-pagefind-body>", '<div class="a" data-pagefind-body>'),
])
def test_a_page_is_read_whole_when_what_comes_before_could_matter(why: str, before: str, after: str) -> None:
    assert before in STUDY, why
    assert search_cache.cut(STUDY.replace(before, after, 1).encode()) == (b"", 0), why


def test_the_reading_copy_gives_the_index_of_the_whole_pages(tmp_path: Path) -> None:
    """Pages cut and pages copied whole (among them a filter, a sort key and metadata set outside the body,
    which Pagefind reads), indexed through the copy: the index is Pagefind's own over the whole pages."""
    site = tmp_path / "site"
    variants = {
        "index.html": STUDY,
        "a/index.html": STUDY.replace("<h1 id=a>A</h1>", "<h1 id=b>Barriers</h1><p>Trust and volunteers.</p>"),
        "b/index.html": STUDY.replace("<nav>", '<nav data-pagefind-filter="logic:community">'),
        "c/index.html": STUDY.replace("<nav>", '<nav data-pagefind-meta="section:Logics" data-pagefind-sort="n:2">'),
        "d/index.html": STUDY.replace("<div data-pagefind-body>", "<div>"),  # no body: Pagefind skips it
        "e/index.html": STUDY.replace("<!-- a <div> note -->", "<!-- <div data-pagefind-body> -->"),
        "f/g/index.html": STUDY.replace("<div data-pagefind-body>", "<SECTION Data-Pagefind-Body>")
                               .replace("</div></article>", "</SECTION></article>"),
        "404.html": STUDY.replace("<p>Text.</p>", "<p>Not found.</p>"),
    }
    for rel, text in variants.items():
        (site / rel).parent.mkdir(parents=True, exist_ok=True)
        (site / rel).write_text(text, encoding="utf-8")
    cache = tmp_path / "cache"
    assert _index(site, [], cache) == (0, "0 of 7 search fragments reused")
    copy = search_cache.ReadingCopy(cache)
    sizes = {rel: ((copy.folder / rel).stat().st_size, (site / rel).stat().st_size) for rel in variants}
    assert {rel for rel, (copied, whole) in sizes.items() if copied < whole} == {
        "index.html", "a/index.html", "f/g/index.html", "404.html"}
    assert {rel for rel, (copied, whole) in sizes.items() if copied == whole} == {
        "b/index.html", "c/index.html", "d/index.html", "e/index.html"}
    assert tree_digest(site / "pagefind") == fresh_index(site, tmp_path)


def test_the_reading_copy_copies_only_what_changed(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    site = tmp_path / "site"
    write_site(site, pages(6))
    copy = search_cache.ReadingCopy(cache)
    copy.update(site)
    assert copy.copied == 7
    again = search_cache.ReadingCopy(cache)
    again.update(site)
    assert again.copied == 0

    (site / "studies/s01/index.html").unlink()  # rendered again: a new file, with new text
    write_site(site, {"studies/s01/index.html": ("Study 1", "Study number 1 now reports distrust.")})
    shutil.rmtree(site / "studies/s02")  # gone from the site
    copied = copy.folder / "studies/s03/index.html"
    with copied.open("ab") as f:  # changed in place, behind the manifest's back
        f.write(b"<p>planted</p>")
    third = search_cache.ReadingCopy(cache)
    stamps = third.update(site)
    assert third.copied == 2
    assert sorted(stamps) == sorted(rel for rel in pages(6) if rel != "studies/s02/index.html")
    assert not (copy.folder / "studies/s02").exists(), "a page gone from the site leaves the copy, with its folder"
    assert b"planted" not in copied.read_bytes()
    assert b"distrust" in (copy.folder / "studies/s01/index.html").read_bytes()
    assert _index(site, [], cache)[0] == 0
    assert tree_digest(site / "pagefind") == fresh_index(site, tmp_path)

    (cache / "pages.json").write_text("{not json", encoding="utf-8")  # no manifest to trust: made again
    (copy.folder / "stray.html").write_text(PAGE.format(title="Stray", text="Not a page of the site."),
                                            encoding="utf-8")
    fourth = search_cache.ReadingCopy(cache)
    fourth.update(site)
    assert fourth.copied == 6
    assert not (copy.folder / "stray.html").exists()


def test_a_second_process_copies_half_of_many_pages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from generator import forked

    from .helpers import ForkedJobs

    if not forked.available():
        pytest.skip("one core, or no fork: nothing is shared")
    site = tmp_path / "site"
    write_site(site, pages(9))
    alone = search_cache.ReadingCopy(tmp_path / "alone")
    alone.update(site)
    monkeypatch.setattr(search_cache, "PARALLEL_COPIES", 4)
    jobs = ForkedJobs(monkeypatch)
    shared = search_cache.ReadingCopy(tmp_path / "shared")
    shared.update(site)
    assert [len(args[2]) for args in jobs.args(search_cache._copy)] == [5]
    assert shared.copied == 10
    assert tree_digest(shared.folder) == tree_digest(alone.folder)
    manifest = json.loads((tmp_path / "shared/pages.json").read_text(encoding="utf-8"))
    assert sorted(manifest["pages"]) == sorted(pages(9))
    assert all(entry[1] == list(search_cache._stamp(str(shared.folder / rel)) or [])
               for rel, entry in manifest["pages"].items())


def test_fragments_staged_before_the_pages_change_are_reused_only_for_unchanged_pages(tmp_path: Path) -> None:
    """A build stages the last build's fragments while MkDocs works (`stage`), before it knows which pages
    change; `prepare` keeps only those of unchanged pages, and the index equals a fresh one."""
    cache, first = first_build(tmp_path, 6)
    second = tmp_path / "site2"
    reuse = search_cache.FragmentReuse(cache, second, SEARCH_OPTIONS)
    reuse.stage()  # the new site does not exist yet
    assert sorted(os.listdir(cache / "staged/fragment")) == sorted(os.listdir(first / "pagefind/fragment"))
    assert not second.exists()
    linked_copy(first, second)  # then MkDocs writes it: two pages rendered again, one gone
    for rel in ("studies/s01/index.html", "studies/s02/index.html"):
        (second / rel).unlink()
    write_site(second, {"studies/s01/index.html": ("Study 1", "Study number 1 now reports distrust."),
                        "studies/s02/index.html": pages(6)["studies/s02/index.html"]})
    shutil.rmtree(second / "studies/s03")
    log: list[str] = []
    assert _index(second, log, cache, reuse) == (0, "4 of 6 search fragments reused"), log
    assert not (cache / "staged").exists(), "the side folder is moved into the site"
    assert tree_digest(second / "pagefind") == fresh_index(second, tmp_path)


def test_staged_fragments_that_cannot_be_moved_are_not_reused(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    cache, first = first_build(tmp_path, 4)
    second = tmp_path / "site2"
    linked_copy(first, second)

    def rename_fails(*_: Any) -> None:
        raise OSError(18, "Invalid cross-device link")
    monkeypatch.setattr(os, "rename", rename_fails)  # the side folder on another file system
    assert _index(second, [], cache) == (0, "5 of 5 search fragments reused")  # moved file by file
    assert tree_digest(second / "pagefind") == fresh_index(second, tmp_path)

    third = tmp_path / "site3"
    linked_copy(second, third)

    def move_fails(*_: Any) -> None:
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(search_cache, "_move", move_fails)
    assert _index(third, [], cache) == (0, "0 of 5 search fragments reused")
    assert not (cache / "staged").exists()
    assert tree_digest(third / "pagefind") == fresh_index(third, tmp_path)
