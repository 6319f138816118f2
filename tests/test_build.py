"""The build as a maintainer relies on it: complete, deterministic, never partial."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from .conftest import build_site, copy_project
from .helpers import ROOT, run, tree_digest
from .html_doc import Doc


def test_every_record_and_term_has_a_page(built_site: Path) -> None:
    for record in sorted((ROOT / "evidence/studies").glob("*.yaml")):
        assert (built_site / "studies" / record.stem / "index.html").is_file(), record.stem
    import yaml
    for vocab in sorted((ROOT / "evidence/codebook").glob("*.yaml")):
        data = yaml.safe_load(vocab.read_text(encoding="utf-8"))
        if "." in data.get("field", ""):
            continue  # kinds of claim and of source: explained on the codebook page, not browsed
        section = {"study_types": "study-types"}.get(vocab.stem, vocab.stem)
        assert (built_site / section / "index.html").is_file()
        for term in data["terms"]:
            assert (built_site / section / term["slug"] / "index.html").is_file(), (section, term["slug"])
    assert (built_site / "countries" / "gb" / "index.html").is_file()


def test_urls_are_lowercase(built_site: Path) -> None:
    for path in built_site.rglob("index.html"):
        rel = path.relative_to(built_site).as_posix()
        assert rel == rel.lower(), rel


def test_study_pages_stay_out_of_the_navigation(built_site: Path) -> None:
    """No page's size grows with the number of studies: the nav never lists studies."""
    home = (built_site / "index.html").read_text(encoding="utf-8")
    nav_hrefs = Doc(home.split("md-content")[0]).hrefs()
    assert "studies/" in nav_hrefs and "studies/bovaird2007/" not in nav_hrefs
    sizes = [p.stat().st_size for p in (built_site / "studies").glob("*/index.html")]
    assert max(sizes) < 80_000


def test_no_third_party_requests_in_html(built_site: Path) -> None:
    loaded = 0
    for path in built_site.rglob("*.html"):
        doc = Doc(path.read_text(encoding="utf-8"))
        for tag in ("script", "link", "img", "iframe"):
            for attrs in doc.attrs(tag):
                for url in (attrs.get("src"), attrs.get("href")):
                    if url:
                        loaded += 1
                        assert not re.match(r"(https?:)?//", url), (path, url)
    assert loaded > 1000  # the test reads the pages' scripts and styles, so it can fail


def test_two_builds_are_byte_identical(tmp_path: Path, built_site: Path) -> None:
    other = build_site(copy_project(tmp_path / "again"))
    assert tree_digest(other) == tree_digest(built_site)


def test_a_rebuild_reuses_pages_and_equals_a_full_build(tmp_path: Path) -> None:
    """One record changes: the rebuild renders only the pages made from it (atlas-cache reuses the rest),
    and the site is byte-identical to a full build of the same input with no cache."""
    root = copy_project(tmp_path / "p")
    first = tree_digest(build_site(root))
    assert not (root / "build/trash").exists() or not any((root / "build/trash").iterdir())
    record = root / "evidence/studies/bovaird2007.yaml"
    text = record.read_text(encoding="utf-8")
    record.write_text(text.replace("summary: >-\n", "summary: >-\n  A changed summary.\n", 1), encoding="utf-8")
    code, out, err = run("--root", str(root), "build")
    assert code == 0, out + err
    # the replaced site waits whole in build/trash (generator/build.py::_swap), deleted by the next build
    trashed = [p / "site" for p in (root / "build/trash").iterdir()]
    assert len(trashed) == 1 and tree_digest(trashed[0]) == first
    counts = re.search(r"\((\d+) pages reused, (\d+) rendered[;)]", err)
    assert counts is not None, err
    reused, rendered = map(int, counts.groups())
    assert rendered <= 5 and reused > 100, err
    # every page goes through the cache, the pages of the navigation (the 1 MB studies index at 10,000) too
    assert reused + rendered == sum(1 for _ in (root / "build/docs").rglob("*.md")), err
    assert "A changed summary." in (root / "site/studies/bovaird2007/index.html").read_text(encoding="utf-8")
    # the search index: Pagefind wrote the fragments of the pages rendered again, the others were linked in
    search = re.search(r"([\d,]+) of ([\d,]+) search fragments reused", err)
    assert search is not None, err
    linked, indexed = (int(n.replace(",", "")) for n in search.groups())
    assert indexed > 100 and indexed - rendered <= linked < indexed, err
    incremental = tree_digest(root / "site")
    shutil.rmtree(root / "build/cache/pages")
    shutil.rmtree(root / "build/cache/md")  # the study pages' render cache too: a full build renders every page
    shutil.rmtree(root / "build/cache/search")  # and the search fragments: Pagefind writes every one
    shutil.rmtree(root / "build/cache/load")  # and what the load parsed: every file is parsed again
    shutil.rmtree(root / "build/cache/templates")  # and the compiled templates (the theme's and the generator's)
    code, out, err = run("--root", str(root), "build")
    assert code == 0 and "pages reused" not in re.sub(r"\b0 (study )?pages reused", "", err)
    assert f"0 of {indexed:,} search fragments reused" in err, err
    assert tree_digest(root / "site") == incremental
    assert [p.name for p in (root / "build/trash").iterdir()] != [trashed[0].parent.name], "deleted by this build"
    assert len(list((root / "build/trash").iterdir())) == 1


def test_the_theme_s_compiled_templates_are_kept_and_a_damaged_one_is_compiled_again(tmp_path: Path) -> None:
    """build/cache/templates/theme holds Jinja's bytecode of the theme's templates (generator/site_cache.py); a build
    whose every cached template is damaged compiles them again and writes the same site."""
    root = copy_project(tmp_path / "p")
    first = tree_digest(build_site(root))
    cached = sorted((root / "build/cache/templates/theme").iterdir())
    assert len(cached) > 5 and all(p.stat().st_size > 1000 for p in cached)
    for path in cached:
        data = path.read_bytes()
        path.write_bytes(data[:40] + b"damaged" + data[47:])
    shutil.rmtree(root / "build/cache/pages")  # every page is rendered again, through the templates
    assert tree_digest(build_site(root)) == first
    assert all(path.read_bytes()[40:47] != b"damaged" for path in cached)


def test_the_citation_cache_keeps_one_builds_references_and_is_rewritten_only_when_they_change(
        tmp_path: Path) -> None:
    """build/cache/citations.json holds each study's formatted references (three styles) and nothing else;
    a generation that formats nothing new and needs every entry leaves the file as it is."""
    import json

    from generator.build import CACHE, generate
    from generator.csl import STYLES

    root = copy_project(tmp_path / "p")
    assert generate(root, quiet=True)[0]
    cache = root / CACHE
    first = json.loads(cache.read_text(encoding="utf-8"))
    studies = len(list((root / "evidence/studies").glob("*.yaml")))
    assert len(first) == len(STYLES) * studies
    stamp = cache.stat().st_mtime_ns
    assert generate(root, quiet=True)[0]
    assert cache.stat().st_mtime_ns == stamp, "nothing changed: not rewritten"
    bib = root / "references.bib"
    text = bib.read_text(encoding="utf-8")
    old = "Beyond engagement and participation"
    bib.write_text(text.replace(old, old + ", retitled"), encoding="utf-8")
    assert generate(root, quiet=True)[0]
    second = json.loads(cache.read_text(encoding="utf-8"))
    assert len(second) == len(first), "the old references of the retitled study are dropped"
    assert len(second.keys() - first.keys()) == len(STYLES)
    assert sum("retitled" in v.lower() for v in second.values()) == len(STYLES)  # Chicago: "Retitled"


@pytest.mark.parametrize("second_core", [True, False])
def test_the_last_sites_folders_are_made_by_a_process_or_a_thread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 second_core: bool) -> None:
    """A forked process makes the folders where there is a second core (as a thread it took turns with the
    generator for the interpreter's lock), a thread where not; the same folders either way, and none when
    the build stops first (discard)."""
    import os

    from generator import build as build_module
    from generator import forked

    site = tmp_path / "site"
    for rel in ("studies/a", "studies/b", "logics/community", "pagefind/fragment"):
        (site / rel).mkdir(parents=True)
    monkeypatch.setattr(forked, "available", lambda: second_core)
    (tmp_path / "made").mkdir()
    premade = build_module._Premade(site, tmp_path / "made")
    assert (premade._child is not None) == second_core and (premade._thread is not None) != second_core
    assert premade.wait()
    made = [rel.replace(os.sep, "/") for rel in premade.made]
    assert all(made.index(rel.rsplit("/", 1)[0]) < i for i, rel in enumerate(made) if rel.count("/") > 1)  # parents first
    assert sorted(p.relative_to(tmp_path / "made").as_posix() for p in (tmp_path / "made").rglob("*")) == [
        "logics", "logics/community", "studies", "studies/a", "studies/b"]
    premade.discard()
    assert not (tmp_path / "made").exists()
    (tmp_path / "made").mkdir()
    stopped = build_module._Premade(site, tmp_path / "made")
    stopped.discard()  # a build that failed before it asked for them
    assert not (tmp_path / "made").exists()


def test_the_last_sites_folders_are_made_beforehand_and_those_no_page_uses_are_removed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """build._Premade makes the last site's folders while the generator runs, and the atlas-cache plugin
    moves them into the emptied site directory (site_cache._adopt); a folder no page uses any more (here:
    planted in the last site) is removed, so the site has the folders of a build without any."""
    import os

    from mkdocs import utils as mkdocs_utils

    from generator import build as build_module
    from generator import handoff, site_cache
    from generator.build import _Premade
    from generator.site_cache import _adopt

    root = copy_project(tmp_path / "p")
    site = build_site(root)
    folders = sorted(p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_dir())
    files = tree_digest(site)
    # the unit: the tree is made again, pagefind/ (not MkDocs') left out; moved in; unused folders pruned
    (tmp_path / "made").mkdir()
    premade = _Premade(site, tmp_path / "made")
    assert premade.wait()
    made = sorted(p.relative_to(tmp_path / "made").as_posix() for p in (tmp_path / "made").rglob("*"))
    assert made == [f for f in folders if f != "pagefind" and not f.startswith("pagefind/")]
    staging = tmp_path / "staging"
    staging.mkdir()
    (staging / "left-by-mkdocs").write_text("x", encoding="utf-8")
    _adopt(tmp_path / "made", staging)
    assert not (staging / "studies").exists(), "only into an empty site directory"
    (staging / "left-by-mkdocs").unlink()
    # in a build, MkDocs' own emptying of the site directory moves them in (the plugin's hook)
    monkeypatch.setenv(handoff.PREMADE_DIRS, str(tmp_path / "made"))
    # the generator and the plugin read the names they share from one module
    assert vars(build_module)["PREMADE_DIRS"] == vars(site_cache)["PREMADE_DIRS"] == handoff.PREMADE_DIRS
    assert vars(build_module)["DOCS_MANIFEST"] == vars(site_cache)["DOCS_MANIFEST"] == handoff.DOCS_MANIFEST
    plugin = site_cache.CachePlugin()
    site_cache._install(plugin)
    try:
        mkdocs_utils.clean_directory(str(staging))
    finally:
        site_cache._uninstall()
    assert mkdocs_utils.clean_directory is site_cache._ORIGINAL["clean_directory"]
    (staging / "studies/bovaird2007/index.html").write_text("page", encoding="utf-8")
    premade.prune(staging)
    assert sorted(p.relative_to(staging).as_posix() for p in staging.rglob("*")) == [
        "studies", "studies/bovaird2007", "studies/bovaird2007/index.html"]
    premade.discard()
    assert not (tmp_path / "made").exists()
    # the build: folders planted in the last site are made, then removed; the site equals the last one
    for planted in ("studies/a-study-deleted-since", "old/deeper/still"):
        (site / planted).mkdir(parents=True)
    code, out, err = run("--root", str(root), "build")
    assert code == 0, out + err
    assert sorted(p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_dir()) == folders
    assert tree_digest(site) == files
    assert not [name for name in os.listdir(root) if name.startswith(".site")], "no folder is left behind"


def test_a_page_key_takes_the_generators_hash_only_for_the_file_it_wrote(tmp_path: Path) -> None:
    """atlas-cache keys a page by the SHA-1 the generator recorded in build/cache/docs.json when the file's
    size and modification time are the recorded ones (no read), and reads and hashes any other file."""
    import hashlib
    import json
    import os

    from generator import site_cache

    page = tmp_path / "build/docs/studies/a.md"
    page.parent.mkdir(parents=True)
    page.write_bytes(b"# A\n")
    st = page.stat()
    plugin = site_cache.CachePlugin()
    plugin.config_digest, plugin.structure_digest = "c", "s"

    def key_with(entry: list[object] | None) -> str:
        manifest = tmp_path / "docs.json"
        manifest.write_text(json.dumps({} if entry is None else {"studies/a.md": entry}), encoding="utf-8")
        plugin.docs = site_cache._read_docs_manifest(manifest)
        return plugin._key("studies/a.md", str(page))

    read = site_cache._digest("c", "s", "studies/a.md", hashlib.sha1(b"# A\n").hexdigest())
    assert key_with(None) == read
    assert key_with([hashlib.sha1(b"# A\n").hexdigest(), st.st_size, st.st_mtime_ns]) == read
    recorded = "0" * 40  # the stamp matches: the generator's hash is taken as it is, the file is not read
    assert key_with([recorded, st.st_size, st.st_mtime_ns]) == site_cache._digest("c", "s", "studies/a.md", recorded)
    os.utime(page, ns=(st.st_atime_ns, st.st_mtime_ns + 1))  # touched since the generator wrote it: read again
    assert key_with([recorded, st.st_size, st.st_mtime_ns]) == read
    assert key_with(["not a hash", st.st_size, st.st_mtime_ns + 1]) == read


def test_a_title_edit_rebuilds_the_pages_that_show_it_not_every_page(tmp_path: Path) -> None:
    """A study's title is on the studies index, a page of the navigation. The navigation gives that page
    its title, so editing the study re-renders the pages that show the study (the index among them),
    not the whole site, and the result equals a full build."""
    root = copy_project(tmp_path / "p")
    build_site(root)
    bib = root / "references.bib"
    text = bib.read_text(encoding="utf-8")
    old = "Beyond engagement and participation"
    assert text.count(old) == 1
    bib.write_text(text.replace(old, "Beyond engagement and participation, retitled"), encoding="utf-8")
    code, out, err = run("--root", str(root), "build")
    assert code == 0, out + err
    counts = re.search(r"\((\d+) pages reused, (\d+) rendered[;)]", err)
    assert counts is not None, err
    reused, rendered = map(int, counts.groups())
    assert 0 < rendered < reused / 4, err
    assert reused + rendered == sum(1 for _ in (root / "build/docs").rglob("*.md")), err
    assert "retitled" in (root / "site/studies/index.html").read_text(encoding="utf-8")
    incremental = tree_digest(root / "site")
    shutil.rmtree(root / "build/cache/pages")
    shutil.rmtree(root / "build/cache/md")
    code, out, err = run("--root", str(root), "build")
    assert code == 0, out + err
    assert tree_digest(root / "site") == incremental


def test_serve_previews_a_changed_record_through_the_page_cache(tmp_path: Path) -> None:
    """`evidence serve` regenerates on a save and MkDocs' rebuild reuses every unchanged page."""
    import socket
    import subprocess
    import sys
    import time
    import urllib.error
    import urllib.request

    root = copy_project(tmp_path / "p")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "generator", "--root", str(root), "serve", "--addr",
                                 f"127.0.0.1:{port}"], stdout=out, stderr=subprocess.STDOUT, cwd=root)
    try:
        def builds() -> list[tuple[int, int]]:
            text = log.read_text(encoding="utf-8")
            assert proc.poll() is None, text
            return [(int(a), int(b)) for a, b in re.findall(r"atlas-cache: (\d+) pages reused, (\d+) rendered", text)]

        def wait_for(n: int) -> list[tuple[int, int]]:
            for _ in range(240):
                if len(found := builds()) >= n and "Serving on" in log.read_text(encoding="utf-8"):
                    return found
                time.sleep(0.5)
            raise AssertionError(log.read_text(encoding="utf-8"))

        def page(path: str, want: int, text: str = "") -> str:
            for _ in range(240):
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}") as response:
                        # without the reload script MkDocs adds to every page it serves (it holds the build's time)
                        body = re.sub(r"<script>\s*var livereload = .*?</script>", "", response.read().decode("utf-8"),
                                      flags=re.S)
                        if want == 200 and text in body:
                            return body
                except urllib.error.HTTPError as exc:
                    if exc.code == want:
                        return ""
                time.sleep(0.5)
            raise AssertionError(f"{path}: never {want} {text!r}\n" + log.read_text(encoding="utf-8")[-3000:])

        wait_for(1)
        before = page("/studies/bovaird2007/", 200)
        record = root / "evidence/studies/bovaird2007.yaml"
        record.write_text(record.read_text(encoding="utf-8").replace("summary: >-\n", "summary: >-\n  Saved.\n", 1),
                          encoding="utf-8")
        reused, rendered = wait_for(2)[1]
        assert rendered <= 5 and reused > 100, log.read_text(encoding="utf-8")
        # the rebuild left the pages the first build wrote where they were, instead of writing them again
        in_place = [int(n) for n in re.findall(r"; (\d+) already in place", log.read_text(encoding="utf-8"))]
        assert in_place[:2] == [0, reused], log.read_text(encoding="utf-8")

        # the preview's site directory is kept between rebuilds: what it serves must still be exact
        page("/studies/bovaird2007/", 200, "Saved.")
        assert "Pestoff" in page("/studies/pestoff2008/", 200)  # reused pages are served too
        # a record added, then removed: its page appears, then is gone (no stale page left behind)
        bib = root / "references.bib"
        bib.write_text(bib.read_text(encoding="utf-8") + "\n@article{zedd2020,\n  author  = {Zedd, Zoe},\n"
                       "  title   = {A work added and then removed},\n  journal = {Journal of Tests},\n"
                       "  year    = {2020},\n}\n", encoding="utf-8")
        added = root / "evidence/studies/zedd2020.yaml"
        added.write_text(record.read_text(encoding="utf-8"), encoding="utf-8")
        page("/studies/zedd2020/", 200, "A work added and then removed")
        added.unlink()
        bib.write_text(bib.read_text(encoding="utf-8").split("\n@article{zedd2020,")[0] + "\n", encoding="utf-8")
        page("/studies/zedd2020/", 404)
        # undoing the save brings back the page as it was: a stored page is never written through
        record.write_text(record.read_text(encoding="utf-8").replace("summary: >-\n  Saved.\n", "summary: >-\n", 1),
                          encoding="utf-8")
        for _ in range(240):
            if page("/studies/bovaird2007/", 200) == before:
                break
            time.sleep(0.5)
        else:
            raise AssertionError("the page of the undone save differs from the page before it")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    # stopping `evidence serve` stops the MkDocs server it started: nothing answers on the port any more
    for _ in range(40):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) != 0:
                break
        time.sleep(0.25)
    else:
        raise AssertionError(f"MkDocs still serves on port {port} after `evidence serve` was stopped")


def test_failed_check_leaves_the_previous_site(tmp_path: Path) -> None:
    root = copy_project(tmp_path / "p")
    site = build_site(root)
    before = tree_digest(site)
    (root / "evidence/studies/bovaird2007.yaml").write_text("logics: [profesional]\n", encoding="utf-8")
    code, _, err = run("--root", str(root), "build", "--quiet")
    assert code == 1
    assert "error[unknown-term]" in err and "site/ was left as it was" in err
    assert tree_digest(site) == before


def test_a_search_index_that_cannot_be_made_leaves_the_previous_site(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The pages Pagefind reads cannot be copied (a full disk): the build fails, says why and keeps site/."""
    import errno

    from generator import search_cache

    root = copy_project(tmp_path / "p")
    site = build_site(root)
    before = tree_digest(site)
    record = root / "evidence/studies/mcmullin2020.yaml"
    record.write_text(record.read_text(encoding="utf-8").replace("  Conceptual handbook", "  Changed. Conceptual handbook", 1),
                      encoding="utf-8")

    def full(*_: Any) -> dict[str, Any]:
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(search_cache, "_copy", full)
    code, _, err = run("--root", str(root), "build", "--quiet")
    assert code == 1, err
    assert "the pages could not be copied for Pagefind into" in err and "No space left on device" in err
    assert err.rstrip().endswith("evidence: the search index could not be made; site/ was left as it was")
    assert tree_digest(site) == before
    assert not list(root.glob(".site-*")), "the staging folder is cleaned up"
    monkeypatch.undo()
    code, _, err = run("--root", str(root), "build", "--quiet")  # the next build makes the copy again
    assert code == 0, err
    assert "Changed." in (site / "studies/mcmullin2020/index.html").read_text(encoding="utf-8")


def test_failed_mkdocs_build_leaves_the_previous_site(tmp_path: Path) -> None:
    root = copy_project(tmp_path / "p")
    site = build_site(root)
    before = tree_digest(site)
    (root / "content/framework.md").write_text("[broken](no-such-page.md)\n", encoding="utf-8")
    code, _, err = run("--root", str(root), "build", "--quiet")
    assert code == 1 and "mkdocs failed" in err
    assert tree_digest(site) == before
    assert not list(root.glob(".site-*")), "the staging folder is cleaned up"


@pytest.mark.parametrize("page", ["index.html", "studies/parrado2013/index.html", "logics/professional/index.html"])
def test_pages_have_their_titles(built_site: Path, page: str) -> None:
    html = (built_site / page).read_text(encoding="utf-8")
    assert re.search(r"<title>[^<]+ - Co-production Evidence Atlas</title>|<title>Co-production Evidence Atlas</title>", html)


def test_every_internal_link_resolves(built_site: Path) -> None:
    """MkDocs checks Markdown links only; this also checks the raw-HTML links of tables and the map."""
    from urllib.parse import unquote, urlsplit

    broken = []
    for page in sorted(built_site.rglob("*.html")):
        if page.name == "404.html":
            continue  # served for any path, so MkDocs writes it with root-relative links
        html = page.read_text(encoding="utf-8")
        for url in re.findall(r'(?:href|src)="([^"]+)"', html):
            parts = urlsplit(url)
            if parts.scheme or url.startswith(("#", "//", "mailto:", "data:")):
                continue
            target = (page.parent / unquote(parts.path)).resolve()
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{page.relative_to(built_site)} -> {url}")
    assert broken == []


def test_matrix_downloads_are_csv(built_site: Path) -> None:
    import csv

    rows = list(csv.DictReader((built_site / "compare/logics-by-barriers.csv").open(encoding="utf-8")))
    assert list(rows[0]) == ["logics", "barriers", "findings", "arguments", "studies_with_tying_claims",
                             "studies_co_coded_at_record_level"]
    professional = [r for r in rows if r["logics"] == "professional"]
    assert sum(int(r["findings"]) + int(r["arguments"]) for r in professional) > 0
    assert all(int(r["studies_with_tying_claims"]) <= int(r["studies_co_coded_at_record_level"]) for r in rows)


def test_no_markdown_escapes_show_on_pages(built_site: Path) -> None:
    """Text in raw-HTML blocks must be HTML-escaped only; a visible backslash means the wrong escaping."""
    import html as html_module

    shown = []
    for page in sorted(built_site.rglob("*.html")):
        text = re.sub(r"<(script|style|code|pre)\b.*?</\1>", "", page.read_text(encoding="utf-8"), flags=re.S)
        text = html_module.unescape(re.sub(r"<[^>]+>", " ", text))
        for m in re.finditer(r"\\[-.()\[\]_*#+!`{}|]", text):
            shown.append(f"{page.relative_to(built_site)}: ...{text[max(0, m.start() - 20):m.end() + 10]}...")
    assert shown == []


def test_content_pages_never_collide_with_generated_pages(tmp_path: Path) -> None:
    """A hand-written page with a generated page's path would be silently replaced: none may exist."""
    import contextlib
    import io

    from generator.build import DOCS, generate

    from .conftest import copy_project

    root = copy_project(tmp_path / "p")
    with contextlib.redirect_stderr(io.StringIO()):
        assert generate(root, quiet=True)[0]
    content = {p.relative_to(ROOT / "content").as_posix() for p in (ROOT / "content").rglob("*") if p.is_file()}
    generated = {p.relative_to(root / DOCS).as_posix() for p in (root / DOCS).rglob("*") if p.is_file()}
    from generator.render_codebook import MARKER

    for page in content:
        source = (ROOT / "content" / page).read_text(encoding="utf-8")
        out = (root / DOCS / page).read_text(encoding="utf-8")
        if MARKER in source:  # the one generated part of a hand-written page: its marker becomes a table
            head, tail = source.split(MARKER)
            assert out.startswith(head) and out.endswith(tail) and "| Vocabulary |" in out[len(head):-len(tail)]
        else:
            assert out == source, f"content/{page} is replaced by a generated page"
    assert content <= generated


def test_a_page_is_placed_as_a_new_name_never_written_through(tmp_path: Path) -> None:
    """atlas-cache links pages to its store: replacing a page must leave the stored file as it was."""
    from generator.site_cache import _place

    stored, page, new = tmp_path / "stored.html", tmp_path / "site/p/index.html", tmp_path / "new.html"
    stored.write_text("old page", encoding="utf-8")
    new.write_text("new page", encoding="utf-8")
    _place(stored, page)
    assert page.read_text(encoding="utf-8") == "old page"
    _place(new, page)  # page was another name of stored: it is replaced, not overwritten
    assert page.read_text(encoding="utf-8") == "new page"
    assert stored.read_text(encoding="utf-8") == "old page"


def test_indexed_pages_leave_out_only_pages_kept_out_of_search(built_site: Path, tmp_path: Path) -> None:
    """Pagefind reads the reading copy of the site (generator/search_cache.py): every page but the matrix
    cells and the index's own folder, each cut to the element marked data-pagefind-body and what follows
    it. The cells are pages it would index nothing of, and the cut drops nothing it reads: the index is the
    same, file by file, as Pagefind's own over every page of the site whole."""
    import subprocess

    from generator.build import SEARCH_OPTIONS, pagefind_command
    from generator.search_cache import ReadingCopy, indexed_pages

    site = tmp_path / "site"
    shutil.copytree(built_site, site, ignore=shutil.ignore_patterns("pagefind"))
    pages = {p.relative_to(site).as_posix() for p in site.rglob("*.html")}
    cells = {p for p in pages if re.fullmatch(r"compare/[^/]+/[^/]+/index\.html", p)}
    assert len(cells) > 100
    for cell in sorted(cells):
        assert "data-pagefind-body" not in (site / cell).read_text(encoding="utf-8"), cell
    assert set(indexed_pages(site)) == pages - cells
    searched = [p for p in pages - cells if "data-pagefind-body" in (site / p).read_text(encoding="utf-8")]
    assert len(searched) > 300

    copy = ReadingCopy(tmp_path / "cache")
    copy.update(site)
    assert copy.copied == len(pages - cells)
    copied = {p.relative_to(copy.folder).as_posix(): p.stat().st_size for p in copy.folder.rglob("*.html")}
    assert set(copied) == pages - cells
    cut = [p for p in searched if copied[p] < (site / p).stat().st_size]
    assert len(cut) == len(searched), "every searched page of the atlas is cut"
    assert sum(copied[p] for p in searched) < 0.75 * sum((site / p).stat().st_size for p in searched)

    def index(folder: Path, name: str) -> dict[str, str]:
        out = tmp_path / name
        subprocess.run([*pagefind_command(), "--site", str(folder), "--output-path", str(out),
                        *SEARCH_OPTIONS], check=True, capture_output=True, timeout=600)
        return tree_digest(out)

    whole = index(site, "whole")
    assert index(copy.folder, "copy") == whole
    assert len([p for p in whole if p.startswith("fragment/")]) == len(searched)


def test_theme_files_are_listed_as_mkdocs_lists_them(tmp_path: Path) -> None:
    """The plugin's listing of the theme's static files skips Material's dot-folders (14,000 icons) and
    finds the same files as MkDocs' own listing, in the same order, from the same folders."""
    from mkdocs.config import load_config
    from mkdocs.structure.files import Files

    from generator import site_cache

    config = load_config(str(ROOT / "mkdocs.yml"), docs_dir=str(tmp_path))  # the atlas' theme, overrides and all
    env = config.theme.get_env()
    theirs, ours = Files([]), Files([])
    site_cache._ORIGINAL["add_files_from_theme"](theirs, env, config)
    plugin = site_cache.CachePlugin()
    site_cache._install(plugin)
    try:
        assert Files.add_files_from_theme is not site_cache._ORIGINAL["add_files_from_theme"]
        ours.add_files_from_theme(env, config)
    finally:
        site_cache._uninstall()
    assert Files.add_files_from_theme is site_cache._ORIGINAL["add_files_from_theme"]
    assert [(f.src_uri, f.abs_src_path, f.dest_uri) for f in ours] == \
        [(f.src_uri, f.abs_src_path, f.dest_uri) for f in theirs]
    assert len(theirs) > 20 and any(f.src_uri.startswith("assets/javascripts/") for f in theirs)
    listed = site_cache._Undotted(env).list_templates()
    assert len(listed) < len(env.list_templates()) // 10  # the dot-folders are not walked
    assert not any(part.startswith(".") for name in listed for part in name.split("/")[:-1])


def test_pagefind_runs_as_the_binary_python_m_pagefind_would_run(monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess
    import sys

    from generator import build

    build.pagefind_command.cache_clear()
    try:
        command = build.pagefind_command()
        assert len(command) == 1 and Path(command[0]).is_file()  # the binary itself, no second Python
        direct = subprocess.run([*command, "--version"], capture_output=True, text=True, check=True).stdout
        wrapped = subprocess.run([sys.executable, "-m", "pagefind", "--version"], capture_output=True, text=True,
                                 check=True).stdout
        assert direct == wrapped and direct.startswith("pagefind ")
        build.pagefind_command.cache_clear()
        monkeypatch.setenv("PAGEFIND_BINARY_PATH", "/nowhere/pagefind")  # honoured, as by `python -m pagefind`
        assert build.pagefind_command() == ("/nowhere/pagefind",)
        build.pagefind_command.cache_clear()
        monkeypatch.delenv("PAGEFIND_BINARY_PATH")
        import pagefind.service

        monkeypatch.setattr(pagefind.service, "get_executable", lambda: None)  # not found: the module's own command
        assert build.pagefind_command() == (sys.executable, "-m", "pagefind")
    finally:
        build.pagefind_command.cache_clear()


def test_the_trash_is_emptied_beside_the_build_and_a_swap_falls_back_to_deleting(tmp_path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from generator import build

    trash = tmp_path / "build/trash"
    (trash / "site-a/site/studies/x").mkdir(parents=True)
    (trash / "site-a/site/studies/x/index.html").write_text("old", encoding="utf-8")
    (trash / "stray.tmp").write_text("", encoding="utf-8")
    emptying = build._Emptying(trash)
    emptying.wait()
    assert list(trash.iterdir()) == []
    build._Emptying(tmp_path / "no-such-folder").wait()  # nothing to delete: no error, no thread

    site, new = tmp_path / "site", tmp_path / ".site-new"
    site.mkdir()
    (site / "old.html").write_text("old", encoding="utf-8")
    new.mkdir()
    (new / "new.html").write_text("new", encoding="utf-8")
    real = Path.rename

    def no_rename_into_trash(self: Path, target: Path) -> Path:  # as when build/ is on another file system
        if trash in Path(target).parents:
            raise OSError(18, "Invalid cross-device link")
        return real(self, target)

    monkeypatch.setattr(Path, "rename", no_rename_into_trash)
    build._swap(new, site, trash)
    assert [p.name for p in site.iterdir()] == ["new.html"]
    assert not new.exists() and not (tmp_path / "site.old").exists()


def test_the_generators_objects_are_freed_as_soon_as_the_build_lets_go_of_them(tmp_path: Path) -> None:
    """build() keeps what the generator made until MkDocs has started, then lets go of it, to be freed while
    MkDocs works. That needs none of it to be held by a reference cycle (a Jinja environment is one, and
    pylatexenc leaves one behind each conversion): the cyclic collector would free it only at some later
    pause, and a generator step run on its own would pay for that collection (0.3 s at 10,000 studies)."""
    import gc
    import weakref

    from generator import build

    root = copy_project(tmp_path / "p")
    keep: list[object] = []
    enabled = gc.isenabled()
    gc.disable()
    try:
        ok, _, _ = build._generate(root, True, False, keep)
        assert ok
        made = [weakref.ref(thing) for thing in keep[:3]]  # the loaded base, the checked one, the model
        keep.clear()
        assert [ref() for ref in made] == [None, None, None]
    finally:
        if enabled:
            gc.enable()


def test_the_generator_imports_no_builder() -> None:
    """The generator writes a builder-neutral tree, and its start-up pays for no MkDocs import (nav_entries.py)."""
    import subprocess
    import sys

    program = "import sys, generator.build; print(sorted({m.split('.')[0] for m in sys.modules} & {'mkdocs', 'material'}))"
    out = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert out == "[]\n"


def test_mkdocs_ends_a_successful_build_at_once(built_site: Path, tmp_path: Path) -> None:
    """`mkdocs build` (the program) ends right after a build that succeeded, without the interpreter's
    teardown (site_cache.CachePlugin.on_shutdown): status 0, its whole log, the exit functions run, and the
    caller's code after the build never runs. A build that fails (a warning in strict mode) ends as MkDocs
    ends it: status 1, through the caller's code."""
    import subprocess
    import sys

    root = tmp_path / "project"
    shutil.copytree(built_site.parent, root, ignore=shutil.ignore_patterns("site", "trash"))
    program = ("import atexit, runpy, sys; atexit.register(lambda: print('exit functions ran', file=sys.stderr)); "
               "sys.argv[1:] = ['build', '--strict', '--site-dir', sys.argv[1]]\n"
               "try:\n    runpy.run_module('mkdocs', run_name='__main__', alter_sys=True)\n"
               "finally:\n    print('back in the caller', file=sys.stderr)\n")

    def mkdocs(site: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-c", program, str(site)], cwd=root, capture_output=True, text=True,
                              env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})

    ok = mkdocs(tmp_path / "site-ok")
    assert ok.returncode == 0, ok.stderr[-2000:]
    assert "Documentation built in" in ok.stderr and ok.stderr.endswith("exit functions ran\n")
    assert "back in the caller" not in ok.stderr
    assert (tmp_path / "site-ok/index.html").is_file() and (tmp_path / "site-ok/sitemap.xml").is_file()
    (root / "build/docs/broken.md").write_text("# Broken\n\n[A link to nothing](nowhere.md)\n", encoding="utf-8")
    failed = mkdocs(tmp_path / "site-failed")
    assert failed.returncode == 1, failed.stderr[-2000:]
    assert "WARNING" in failed.stderr and "nowhere.md" in failed.stderr and "back in the caller" in failed.stderr
    assert failed.stderr.endswith("exit functions ran\n")


def test_mkdocs_started_early_builds_only_on_the_go_and_reads_the_pages_written_before_it(built_site: Path,
                                                                                          tmp_path: Path) -> None:
    """`evidence build` starts `mkdocs build` once the check has passed (build._SiteBuilder), and MkDocs waits on
    a pipe before its build reads anything (site_cache._await_go). Given the go, it builds from build/docs as it
    is then: a page written after MkDocs started is in the site. With the pipe closed and no go, it ends with
    NOT_BUILT and builds nothing."""
    import subprocess
    import sys
    import time

    from generator import handoff

    root = tmp_path / "project"
    shutil.copytree(built_site.parent, root, ignore=shutil.ignore_patterns("site", "trash"))

    def start(site: Path) -> tuple[subprocess.Popen[str], int]:
        read, write = os.pipe()
        proc = subprocess.Popen([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
                                cwd=root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                env={**os.environ, "NO_MKDOCS_2_WARNING": "1", handoff.GO_FD: str(read)},
                                pass_fds=(read,))
        os.close(read)
        return proc, write

    proc, write = start(tmp_path / "site-stopped")
    os.close(write)  # no go
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == handoff.NOT_BUILT, out[-2000:]
    assert "Documentation built" not in out and not (tmp_path / "site-stopped/index.html").exists()

    proc, write = start(tmp_path / "site-built")
    time.sleep(1)  # MkDocs has started and is waiting
    assert proc.poll() is None
    (root / "build/docs/studies/late.md").write_text("# Written after MkDocs started\n", encoding="utf-8")
    with os.fdopen(write, "wb") as pipe:
        pipe.write(b'{"go": true}\n')
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0, out[-2000:]
    assert "Written after MkDocs started" in (tmp_path / "site-built/studies/late/index.html").read_text(encoding="utf-8")


def test_a_generator_failure_after_the_check_ends_the_early_mkdocs_unbuilt(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """MkDocs starts once the check has passed; if the generator fails after that (here the render), MkDocs is
    told nothing, ends without building, the staging folder goes and site/ is left as it was."""
    from generator import build, handoff

    root = copy_project(tmp_path / "p")
    site = build_site(root)
    before = tree_digest(site)
    (root / "evidence/studies/bovaird2007.yaml").write_text(
        (root / "evidence/studies/bovaird2007.yaml").read_text(encoding="utf-8").replace("summary: ", "summary: New. ", 1),
        encoding="utf-8")
    ended: list[int | None] = []
    stop = build._SiteBuilder.stop

    def stopped(self: build._SiteBuilder) -> None:
        proc = self.proc
        stop(self)
        ended.append(proc.returncode if proc is not None else None)

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("a bug in the render")

    monkeypatch.setattr(build._SiteBuilder, "stop", stopped)
    monkeypatch.setattr(build, "render", broken)
    code, _, err = run("--root", str(root), "build", "--quiet")
    assert code == 70 and "a bug in the render" in err
    assert ended == [handoff.NOT_BUILT]  # started after the check, ended without the go
    assert tree_digest(site) == before
    assert not list(root.glob(".site-*")), "the staging folder is cleaned up"


def test_without_a_pipe_to_hand_on_mkdocs_starts_once_the_pages_are_written(tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Where no descriptor can be handed to MkDocs (not POSIX), it is started at the go instead, and builds the
    same site."""
    from generator import build, handoff

    root = copy_project(tmp_path / "p")
    early = tree_digest(build_site(root))
    monkeypatch.setattr(build, "_hands_on_descriptors", lambda: False)
    launched: list[bool] = []
    launch = build._SiteBuilder._launch

    def counted(self: build._SiteBuilder, env: dict[str, str], fds: tuple[int, ...] = ()) -> None:
        launched.append(handoff.GO_FD in env or bool(fds))
        launch(self, env, fds)

    monkeypatch.setattr(build._SiteBuilder, "_launch", counted)
    shutil.rmtree(root / "build")
    assert tree_digest(build_site(root)) == early
    assert launched == [False]


def test_mkdocs_failing_before_the_go_is_reported_as_its_failure(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """MkDocs starts once the check has passed, and reads its configuration then: a configuration it refuses
    ends it before the generator has finished (here the generator is made slow, so that it surely has). The
    build then fails as any failed MkDocs build does (its log, status 1, site/ left as it was), never with an
    internal error (the go written to a pipe nobody reads)."""
    import time

    from generator import build

    sync = build._sync

    def slow_sync(*args: Any) -> int:
        time.sleep(3)
        return sync(*args)

    root = copy_project(tmp_path / "p")
    site = build_site(root)
    before = tree_digest(site)
    monkeypatch.setattr(build, "_sync", slow_sync)
    config = root / "mkdocs.yml"
    config.write_text(config.read_text(encoding="utf-8").replace("use_directory_urls: true", "use_directory_urls: maybe"),
                      encoding="utf-8")
    code, _, err = run("--root", str(root), "build", "--quiet")
    assert code == 1 and "mkdocs failed" in err and "internal error" not in err, err[-2000:]
    assert "use_directory_urls" in err
    assert tree_digest(site) == before
    assert not list(root.glob(".site-*")), "the staging folder is cleaned up"
