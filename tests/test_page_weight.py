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
