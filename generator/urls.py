"""Addresses: where a generated page lands on the site, and the relative link from one page to another.

The generator writes Markdown into build/docs and MkDocs turns `a/b.md` into the directory URL
`a/b/` (use_directory_urls). Markdown links are written between .md files and MkDocs rewrites them;
links inside raw HTML (matrices, SVG maps, the explorer's filtered views) are not rewritten, so they
are written here as the final directory URLs.
"""

from __future__ import annotations

import functools


@functools.lru_cache(maxsize=200_000)
def relpath(target: str, start: str) -> str:
    """posixpath.relpath for the generator's own paths (relative, normalised, '/'-separated), without
    its os.getcwd() and abspath calls: there are hundreds of thousands of links in a large build.
    tests/test_links.py checks it against posixpath.relpath."""
    parts = [] if target in ("", ".") else target.split("/")
    base = [] if start in ("", ".") else start.split("/")
    common = 0
    for a, b in zip(parts, base, strict=False):
        if a != b:
            break
        common += 1
    return "/".join([".."] * (len(base) - common) + parts[common:]) or "."


def page_url(page: str) -> str:
    """The directory URL MkDocs gives a page: a/b.md -> a/b/, a/index.md -> a/."""
    stem = page[:-3]
    if stem == "index" or stem.endswith("/index"):
        return stem[:-5]
    return stem + "/"


def href(from_page: str, to_page: str, anchor: str = "", query: str = "") -> str:
    """The link, for raw HTML, from one generated page to another (directory URLs)."""
    here = page_url(from_page).rstrip("/") or "."
    there = page_url(to_page).rstrip("/") or "."
    rel = relpath(there, here)
    path = "" if rel == "." else rel + "/"
    if not path and (query or not anchor):
        path = "./"  # the page itself: "#anchor" alone is enough, but a query needs a path
    return path + (f"?{query}" if query else "") + (f"#{anchor}" if anchor else "")


# --- where each kind of generated page lives (the only place these paths are written) ---------------

STUDY_SECTION = "studies"  # the folder of the study pages


def study_page(key: str) -> str:
    return f"{STUDY_SECTION}/{key}.md"


def index_page(section: str) -> str:
    """The index of a folder of pages: a dimension's terms, the studies."""
    return f"{section}/index.md"


def term_page(section: str, slug: str) -> str:
    return f"{section}/{slug}.md"


COMPARE = "compare"  # the comparative views: matrices at compare/<slug>/, their cells one level below


def matrix_page(slug: str) -> str:
    return f"{COMPARE}/{slug}.md"


def matrix_file(slug: str, suffix: str) -> str:
    """A download beside a matrix page (suffix '.csv')."""
    return f"compare/{slug}{suffix}"


def cell_page(matrix_slug: str, row: str, col: str) -> str:
    return f"{COMPARE}/{matrix_slug}/{row.lower()}--{col.lower()}.md"


EXPLORER = "explore/index.md"
STUDIES = index_page(STUDY_SECTION)


def anchored(page: str, anchor: str) -> str:
    return f"{page}#{anchor}" if anchor else page
