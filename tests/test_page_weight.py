"""What every page carries besides its content (issue #17): the theme's frame, trimmed of what the
site never uses, and heading ids of bounded length. Each test fails if its trim is undone."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

from generator.site_minify import unused_theme_file
from generator.slugs import MAX, slugify
from tests.html_doc import Doc


def test_a_long_heading_id_is_cut_at_a_word_boundary() -> None:
    assert slugify("What the coding rests on", "-") == "what-the-coding-rests-on"  # short: as Markdown's
    cut = slugify("Service users and public servants co-producing community safety in Flanders", "-")
    assert cut == "service-users-and-public-servants-co"  # the slug's hyphens are its word boundaries
    assert len(cut) <= MAX
    # a separator just after the limit still ends a whole word
    assert slugify("a" * MAX + " tail", "-") == "a" * MAX
    # one word longer than the limit is cut inside it
    assert slugify("x" * (MAX + 9), "-") == "x" * MAX


def test_the_theme_files_no_page_loads_are_left_out() -> None:
    assert unused_theme_file("assets/javascripts/bundle.a5f9d56c.min.js.map", search_plugin=True)
    assert unused_theme_file("assets/javascripts/lunr/wordcut.js", search_plugin=False)
    assert unused_theme_file("assets/javascripts/workers/search.a7633da7.min.js", search_plugin=False)
    # with MkDocs' search plugin, its worker is kept
    assert not unused_theme_file("assets/javascripts/workers/search.a7633da7.min.js", search_plugin=True)
    assert not unused_theme_file("assets/javascripts/bundle.a5f9d56c.min.js", search_plugin=False)


def test_the_built_site_has_no_search_worker_source_maps_or_long_ids(built_site: Path) -> None:
    scripts = built_site / "assets/javascripts"
    assert list(scripts.glob("bundle.*.min.js"))
    assert not (scripts / "lunr").exists() and not (scripts / "workers").exists()
    assert not list(built_site.rglob("*.map"))
    page = (built_site / "studies/vaneijk2017/index.html").read_text(encoding="utf-8")
    ids = re.findall(r"\bid=\"?([^\s\">]+)", page)
    assert ids and max(len(i) for i in ids) <= MAX


def test_the_theme_config_holds_only_what_the_site_uses(built_site: Path) -> None:
    page = (built_site / "studies/vaneijk2017/index.html").read_text(encoding="utf-8")
    doc = Doc(page)
    config = json.loads(next(text for attrs, text in doc.scripts if attrs.get("id") == "__config"))
    assert config["base"] == "../.."
    assert set(config["translations"]) == {"clipboard.copy", "clipboard.copied"}
    assert "search" not in config
    # the logo is one file, not an inline icon on every page
    assert doc.attrs("img", src="../../assets/images/logo.svg")
    assert (built_site / "assets/images/logo.svg").is_file()
    assert "<svg" not in _between(page, "data-md-component=logo", "</a>")


def _between(text: str, start: str, end: str) -> str:
    i = text.index(start)
    return text[i:text.index(end, i)]


def test_the_explorer_index_is_compact_and_expands_to_every_code(built_site: Path) -> None:
    """explore/studies.js holds codes as positions in their facet's terms and leaves out what is empty;
    expanded (as atlas.js does), every study has the codes of data/evidence.json and its page's address."""
    from generator import urls
    from generator.render_compare import EXPLORER_PREFIX, SAME_AS_CSL, csl_plain, explorer_data

    script = (built_site / "explore/studies.js").read_text(encoding="utf-8")
    raw = json.loads(script[len(EXPLORER_PREFIX):].rstrip().removesuffix(";"))
    assert raw["studies"] and all("url" not in s for s in raw["studies"])
    assert all(codes and all(isinstance(i, int) for i in codes) for s in raw["studies"] for codes in s["codes"].values())
    assert all(s.get("doi", "x") and s.get("unconfirmed_fields", ["x"]) for s in raw["studies"])
    # a title, container or DOI is written only where it is not the CSL item's without markup
    assert sum("title" in s for s in raw["studies"]) < len(raw["studies"]) / 10
    for f, k in SAME_AS_CSL.items():
        assert all(s[f] != csl_plain(s["csl"].get(k)) for s in raw["studies"] if f in s)
    assert any("container" in s for s in raw["studies"])  # a book's publisher is not in its CSL item's container
    index = explorer_data(script)
    with (built_site / "data/studies.csv").open(encoding="utf-8", newline="") as fh:
        table = {row["key"]: row for row in csv.DictReader(fh)}
    for s in index["studies"]:  # expanded, each has the title, container and DOI of the data download
        assert [s["title"], s["container"], s["doi"]] == [table[s["key"]][c] for c in ("title", "container", "doi")]
    records = {s["key"]: s for s in json.loads((built_site / "data/evidence.json").read_text(encoding="utf-8"))["studies"]}
    facets = [f["field"] for f in index["facets"]]
    assert len(facets) > 10
    for s in index["studies"]:
        assert s["url"] == urls.href(urls.EXPLORER, urls.study_page(s["key"]))
        assert (built_site / "explore" / s["url"] / "index.html").is_file()
        assert s["codes"] == {f: records[s["key"]]["codes"][f] for f in facets}
        assert s["doi"] == (records[s["key"]]["reference"].get("DOI") or "")
    assert any(s["unconfirmed_fields"] for s in index["studies"])


def test_pages_outside_the_navigation_carry_no_site_description_or_generator(built_site: Path) -> None:
    study = (built_site / "studies/vaneijk2017/index.html").read_text(encoding="utf-8")
    home = (built_site / "index.html").read_text(encoding="utf-8")
    assert 'name=description' not in study and 'name="description"' not in study
    assert re.search(r'<meta content="[^"]+" name=description>', home)  # a page of the navigation keeps it
    assert "name=generator" not in study and "name=generator" not in home
    assert "<meta charset=utf-8>" in study and "name=viewport" in study and "rel=icon" in study


def _fragment(site: Path, url: str) -> dict[str, object]:
    """A page's record in the Pagefind index: its fragment file, gzip-compressed JSON after a signature."""
    import gzip

    for path in sorted((site / "pagefind/fragment").glob("*.pf_fragment")):
        data = gzip.decompress(path.read_bytes()).removeprefix(b"pagefind_dcd")
        record: dict[str, object] = json.loads(data)
        if record["url"] == url:
            return record
    raise AssertionError(f"{url} is not in the search index")


def test_search_indexes_a_study_without_the_sentences_every_study_page_repeats(built_site: Path) -> None:
    """The title, reference, summary and claims are searched; the sentences every study page repeats (the
    claims' preamble, the record's citation and file, the note on corrections) are not: they matched every study."""
    content = str(_fragment(built_site, "/studies/vaneijk2017/")["content"])
    assert "Co-producing safety in the local community" in content
    assert "neighbourhood watch" in content  # the summary
    assert "co-producer profiles" in content  # a finding
    for repeated in ("Cite this record", "Record file", "from the study's own data", "differs from the founding",
                     "Unconfirmed", "Summary", "Coding", "What the coding rests on", "Claims", "Related studies",
                     "Cite this study", "shared code", "APA 7", "Chicago", "BibTeX"):
        assert repeated not in content, repeated
    page = (built_site / "studies/vaneijk2017/index.html").read_text(encoding="utf-8")
    for heading in ("summary", "coding", "what-the-coding-rests-on", "claims", "related-studies", "cite-this-study"):
        assert f"<h2 id={heading}>" in page, heading  # still on the page, and in its table of contents
        assert f"href=#{heading}>" in page, heading
    assert "Unconfirmed:" in (built_site / "studies/mccollum2018/index.html").read_text(encoding="utf-8")
    assert "Unconfirmed" not in str(_fragment(built_site, "/studies/mccollum2018/")["content"])


def test_the_theme_storage_script_is_one_file_and_permalinks_are_left_to_atlas_js(built_site: Path) -> None:
    """The theme's inline storage helpers are a cached file, and no heading carries a ¶ link in the HTML:
    atlas.js adds them (tests/test_browser.py checks that it does)."""
    page = (built_site / "studies/vaneijk2017/index.html").read_text(encoding="utf-8")
    doc = Doc(page)
    assert "__md_scope" not in page
    assert doc.attrs("script", src="../../assets/javascripts/scope.js")
    head = page[:page.index("</head>")]
    assert head.index("assets/javascripts/scope.js") < page.index("assets/javascripts/bundle.")
    scope = (built_site / "assets/javascripts/scope.js").read_text(encoding="utf-8")
    assert 'new URL("../..",document.currentScript.src)' in scope and "__md_get=" in scope and "__md_set=" in scope
    for path in ("index.html", "studies/vaneijk2017/index.html", "protocol/index.html"):
        assert "headerlink" not in (built_site / path).read_text(encoding="utf-8"), path


def test_the_script_restores_the_fields_the_index_leaves_out_as_python_does() -> None:
    """atlas.js's expand and expand_explorer_index fill a left-out title, container or DOI from one table each:
    the two tables are the same."""
    from generator.csl import NOCASE
    from generator.render_compare import SAME_AS_CSL, csl_plain

    script = (Path(__file__).resolve().parents[1] / "generator/assets/atlas.js").read_text(encoding="utf-8")
    table = re.search(r"var SAME_AS_CSL = \{(.*?)\};", script, re.S)
    assert table is not None
    assert dict(re.findall(r'(\w+): "([^"]+)"', table.group(1))) == SAME_AS_CSL
    js_pattern = NOCASE.pattern.replace("/", "\\/")  # a JS regex literal escapes its slashes
    assert f'.replace(/{js_pattern}/g, "$1")' in script
    assert csl_plain('Co-<span class="nocase">production</span> in <span class="nocase">Sweden</span>') == (
        "Co-production in Sweden")
    assert csl_plain(None) == ""
