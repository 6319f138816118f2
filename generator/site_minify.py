"""MkDocs plugin `atlas-minify`: every page's HTML without the theme's layout whitespace (minify-html).

Material's templates indent for readability, and at 10,000 studies that whitespace alone was about
30 MB of the site (issue #17). minify-html (a maintained HTML5 minifier) collapses it and drops
redundant quotes, with the options that keep the output plain: closing tags and the <html> and
<head> tags are kept, and scripts, styles and comments are left as they are (the JSON-LD and the
theme's inline scripts are byte for byte what the theme and the generator wrote). Text inside <pre>
is kept as written.

One change is undone after minifying. minify-html writes the text of <title> with bare < and >,
which is safe in HTML5 (the element's text cannot hold a tag) but is not what the atlas promises:
a contributor's `<script>` in a title must read as escaped text to every tool, however naive. So
the title's text is escaped again.

The plugin runs on the HTML of each page after the theme; atlas-cache stores and reuses the
minified HTML, and its cache key holds minify-html's version.

It also leaves out the theme's files that no page of this site loads: with no search plugin (the
atlas searches with Pagefind), the theme's search worker and its lunr language files; and the
source maps of the theme's scripts, which only a browser's developer tools ask for (3 MB in all,
at any number of studies).
"""

from __future__ import annotations

import html
import os
import re
from typing import Any

import minify_html
from mkdocs.plugins import BasePlugin, event_priority
from mkdocs.structure.files import Files

OPTIONS = {
    "keep_closing_tags": True,
    "keep_html_and_head_opening_tags": True,
    "minify_css": False,
    "minify_js": False,
    "keep_comments": False,
}
_TITLE = re.compile(r"(<title>)(.*?)(</title>)", re.S)


def minify(page_html: str) -> str:
    out = minify_html.minify(page_html, **OPTIONS)
    return _TITLE.sub(lambda m: m.group(1) + html.escape(html.unescape(m.group(2)), quote=False) + m.group(3),
                      out, count=1)


SEARCH_ASSETS = ("assets/javascripts/lunr/", "assets/javascripts/workers/")


def unused_theme_file(src_uri: str, search_plugin: bool) -> bool:
    """A theme file that no page loads: a source map, or search's worker when the search plugin is off."""
    return src_uri.endswith(".map") or (not search_plugin and src_uri.startswith(SEARCH_ASSETS))


# MkDocs' plugins take a config class parameter, and BasePlugin.__init_subclass__ is unannotated
class MinifyPlugin(BasePlugin):  # type: ignore[type-arg, no-untyped-call]
    def on_files(self, files: Files, config: Any) -> Files:
        search = "search" in config.plugins or "material/search" in config.plugins
        theme_dirs = {os.path.realpath(d) for d in config.theme.dirs}
        for file in [f for f in files if unused_theme_file(f.src_uri, search)
                     and f.src_dir and os.path.realpath(f.src_dir) in theme_dirs]:
            files.remove(file)
        return files

    @event_priority(-50)  # after any plugin that edits the page's HTML
    def on_post_page(self, output: str, page: Any, config: Any) -> str:  # noqa: ARG002 - MkDocs hook, called by keyword
        return minify(output)


__all__ = ["MinifyPlugin", "minify"]
