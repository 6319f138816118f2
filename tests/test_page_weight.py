"""What every page carries besides its content (issue #17): the theme's frame, trimmed of what the
site never uses, and heading ids of bounded length. Each test fails if its trim is undone."""

from __future__ import annotations

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
    from generator.render_compare import EXPLORER_PREFIX, explorer_data

    script = (built_site / "explore/studies.js").read_text(encoding="utf-8")
    raw = json.loads(script[len(EXPLORER_PREFIX):].rstrip().removesuffix(";"))
    assert raw["studies"] and all("url" not in s for s in raw["studies"])
    assert all(codes and all(isinstance(i, int) for i in codes) for s in raw["studies"] for codes in s["codes"].values())
    assert all(s.get("doi", "x") and s.get("unconfirmed_fields", ["x"]) for s in raw["studies"])
    index = explorer_data(script)
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
                     "Unconfirmed"):
        assert repeated not in content, repeated
    assert "Unconfirmed:" in (built_site / "studies/mccollum2018/index.html").read_text(encoding="utf-8")
    assert "Unconfirmed" not in str(_fragment(built_site, "/studies/mccollum2018/")["content"])
