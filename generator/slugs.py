"""Heading ids for the site (the `toc` extension's `slugify`, named in mkdocs.yml).

Python-Markdown's slug of a heading, cut after at most MAX characters at a word boundary. A study
page's title is its first heading, and its id is written three times (the heading, its permalink
and the theme's skip link): uncut, long titles cost about 1.8 MB at 10,000 studies (issue #17).
Two headings of one page that are cut to the same id are told apart by the extension, as any
duplicate is (`_1`, `_2`).
"""

from __future__ import annotations

from markdown.extensions.toc import slugify as markdown_slugify

MAX = 40


def slugify(value: str, separator: str) -> str:
    slug = str(markdown_slugify(value, separator))
    if len(slug) <= MAX:
        return slug
    head = slug[:MAX + 1]  # a separator right after the 40th character still ends a whole word
    cut = head.rsplit(separator, 1)[0] if separator in head else ""
    return cut or slug[:MAX]


__all__ = ["MAX", "slugify"]
