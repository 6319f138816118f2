"""Render: the model as Markdown pages and data files, as a dict of path -> text.

Every value a template prints goes through `finalize`, which makes text safe for
Markdown and HTML (whitespace collapsed, Markdown punctuation backslash-escaped,
& < > " ' as entities). Only `Markup` built here (links, formatted references)
passes unchanged, so contributor text can never become markup or script.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import html
import json
import operator
import os
import posixpath
import re
from collections.abc import Callable, MutableMapping
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from . import diagnostics, spec, urls
from .codebook import country_name
from .compare import matrix_slug
from .csl import STYLES
from .model import COMPARED, Claim, Model, Study
from .render_cache import canonical_bytes, code_digest, finite
from .render_cache import template_cache as render_cache_templates
from .render_cite import (
    DataPieces,
    dataset_files,
    formatted,
    highwire_tags,
    json_ld,
    reference_files,
)
from .schema import CLAIM_LIST_FIELDS
from .urls import href, relpath

TEMPLATES = Path(__file__).parent / "templates"
# The fields of a study that its own page prints and no other part of the site (nor do the parts read them):
# left out of `Renderer.parts_digest`, so that editing one of them in a record makes no part again.
PAGE_ONLY_FIELDS = (spec.SUMMARY, spec.CODING_NOTE, spec.SOURCES, "related", "record_path")
_PARTS_FIELDS = operator.attrgetter(*(f.name for f in dataclasses.fields(Study) if f.name not in PAGE_ONLY_FIELDS))
# the vocabulary of a source's kind, as the field spec names it
_SOURCE_KINDS = next(f.vocabulary or "" for f in spec.SOURCE_FIELDS if f.name == f"{spec.SOURCES}.{spec.KIND}")
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|])")


def md_text(value: Any) -> str:
    """Plain text made inert in Markdown and HTML."""
    return _md_text(value) if isinstance(value, str) else _md_text(str(value))


@functools.lru_cache(maxsize=500_000)
def _md_text(text: str) -> str:
    text = " ".join(text.split())
    return html.escape(_MD_SPECIAL.sub(r"\\\1", text), quote=True)


def _finalize(value: Any) -> Any:
    if isinstance(value, Markup):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    return md_text(value)


def html_text(value: Any) -> Markup:
    """Text for a raw-HTML block, which Markdown leaves alone: HTML-escaped, not Markdown-escaped."""
    return Markup(html.escape(" ".join(str(value).split()), quote=True))


def html_block(value: str) -> Markup:
    """Text for a <pre> in a raw-HTML block: HTML-escaped, its line breaks kept."""
    return Markup(html.escape(value.rstrip("\n"), quote=False))


def yaml_title(text: str) -> str:
    """A front-matter title: HTML-escaped (the theme prints it raw) and JSON-quoted (valid YAML)."""
    return json.dumps(html.escape(" ".join(text.split()), quote=True), ensure_ascii=False)


def safe_href(url: str) -> str:
    """A web address whose characters Markdown could read as syntax are percent-encoded.

    Markdown parses link and image syntax even inside an inline HTML attribute, so '[x](...)' in a
    contributed address would become a second, live link. Percent-encoding them keeps the address the
    same (RFC 3986) and inert.
    """
    from urllib.parse import quote

    return quote(url, safe="/:?#=&%.-~@+,;$")


def plural(n: int, word: str, many: str | None = None) -> str:
    """'1 finding', '3 findings'; `many` for irregular plurals ('study', 'studies'). The `noun` filter."""
    return f"{n} {inflect(n, word, many)}"


def inflect(n: int, word: str, many: str | None = None) -> str:
    """The word alone, in the number n asks for: the `inflect` filter ('This value is' / 'These values are')."""
    return word if n == 1 else many or word + "s"


# Filters every template may use: formatting only (the model has done the counting and sorting).
def front_matter_title(text: str) -> Markup:
    """The `yaml_title` filter: a title for a page's front matter (escaped by yaml_title, so not again)."""
    return Markup(yaml_title(text))


def front_matter_json(value: Any) -> Markup:
    """The `json_value` filter: a value for a page's front matter, as JSON (valid YAML)."""
    return Markup(json.dumps(value, ensure_ascii=False))


FILTERS = {"noun": plural, "inflect": inflect, "yaml_title": front_matter_title, "json_value": front_matter_json}


# How the fields of a BibTeX entry are named for readers (unconfirmed and doubtful fields).
BIB_FIELD_LABELS = {"number": "issue", "pages": "pages", "doi": "DOI", "isbn": "ISBN", "address": "place of publication",
                    "booktitle": "book title", "journal": "journal name", "year": "year", "volume": "volume",
                    "eid": "article number", "eventtitle": "conference", "venue": "conference's place"}


def field_label(name: str) -> str:
    return BIB_FIELD_LABELS.get(name, name)


MARKDOWN, HTML = ".md.j2", ".html.j2"  # the endings of the templates of each environment


def markdown_environment(template_cache: Path | None = None) -> Environment:
    """The Jinja environment of the Markdown templates (`*.md.j2`), with their compiled code kept in
    `template_cache` (render_cache.template_cache)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        undefined=StrictUndefined,
        autoescape=False,  # output is Markdown; escaping is done by finalize
        finalize=_finalize,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        # one Renderer per generation: its templates cannot change under it, and checking each one's
        # file before each of 11,000 pages cost a stat() a page (issue #17)
        auto_reload=False,
        bytecode_cache=render_cache_templates(template_cache),
    )
    env.filters.update(FILTERS)
    return env


def _html_cache(template_cache: Path) -> Path:
    """Where the HTML fragments' templates are kept compiled: beside the Markdown templates', in a folder of its
    own (the same template compiles differently in each environment)."""
    return template_cache.with_name(template_cache.name + "-html")


def html_environment(template_cache: Path | None = None) -> Environment:
    """The Jinja environment of the HTML fragments' templates (`*.html.j2`, escaping HTML), with their compiled
    code kept in `_html_cache(template_cache)`."""
    env = Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined, autoescape=True,
                      trim_blocks=True, lstrip_blocks=True, auto_reload=False,
                      bytecode_cache=render_cache_templates(_html_cache(template_cache))
                      if template_cache is not None else None)
    env.filters.update(FILTERS)
    return env


def compile_templates(template_cache: Path) -> bool:
    """Compile every template into `template_cache` (and its HTML fragments' folder). `generate` has this done
    by a second process while the model is built, so that the render's processes, which each compiled the
    templates they use (0.03 s of the render at 1,000 studies), read them compiled. True once done."""
    for env, ending in ((markdown_environment(template_cache), MARKDOWN), (html_environment(template_cache), HTML)):
        for name in env.list_templates():
            if name.endswith(ending):
                env.get_template(name)
    return True


def templates_compiled(template_cache: Path) -> bool:
    """Whether the caches seem to hold every template compiled (as many compiled files as templates, in each):
    a generation then has none compiled beside it (the render compiles any that turns out stale)."""
    try:
        return all(sum(1 for name in os.listdir(folder) if name.endswith(".cache")) >=
                   sum(1 for name in os.listdir(TEMPLATES) if name.endswith(ending))
                   for folder, ending in ((template_cache, MARKDOWN), (_html_cache(template_cache), HTML)))
    except OSError:
        return False


class Renderer:
    def __init__(self, model: Model, dataset: dict[str, Any], changes: list[dict[str, Any]],
                 bib_text: str = "", cite_cache: MutableMapping[str, str] | None = None,
                 edit_branch: str = "main", corrections: str = "", template_cache: Path | None = None) -> None:
        self.model = model
        self.corrections = corrections
        self.dataset = dataset
        self.changes = changes
        self.bib_text = bib_text
        repo_url = dataset.get("repository") or ""
        self.repo_url = repo_url.rstrip("/") if repo_url.startswith("https://") else None
        self.site_url = (dataset.get("site_url") or "").rstrip("/")
        self.refs = formatted(model, cite_cache)
        self.edit_branch = edit_branch
        self.template_cache = template_cache
        self.env = markdown_environment(template_cache)
        self.page = ""  # the path of the page being rendered, for relative links
        self.folder = "."  # its folder
        self._top, self._depth = "", 0  # its folder's first part and how many parts it has (_memo)
        self._links: dict[tuple[Any, ...], Markup] = {}
        self._shared_inputs: Any = None  # study_digests' hash of what every study page is made from
        self._parts_digest: str | None = None
        self._terms: dict[tuple[str, str], tuple[str, str, str]] = {}
        self._digests: dict[str, str] = {}  # study_digests' answers, each worked out once

    # --- links (the only way markup enters a page) ---------------------------------
    def rel(self, target: str) -> str:
        return relpath(target, self.folder)

    def link(self, label: Any, target: str) -> Markup:
        return Markup(f"[{md_text(label)}]({self.rel(target)})")

    # The links below recur by the hundred thousand in a large atlas (every cell and term page cites
    # its studies), and a link depends only on its target and the folder of the page it is on; and from a
    # folder in another section than its target's (`top`: the first part of the target's path), only on
    # how deep that folder is ('../../../studies/kim2011.md' from every matrix cell). So a claim listed in
    # forty cells is written once, not forty times.
    def _memo(self, kind: str, args: tuple[Any, ...], make: Any, top: str) -> Markup:
        key = (kind, self.folder if self._top == top else self._depth, args)
        found = self._links.get(key)
        if found is None:
            found = self._links[key] = make()
        return found

    def _at(self, page: str) -> None:
        """Make `page` the page being rendered: its links are written from its folder."""
        self.page = page
        self.folder = posixpath.dirname(page) or "."
        self._top, self._depth = ("", 0) if self.folder == "." else (self.folder.split("/", 1)[0],
                                                                     self.folder.count("/") + 1)

    def _section(self, field: str) -> str:
        """The first part of the path of every term page of `field` (term_page: '<section>/<slug>.md')."""
        return self.model.dimensions[field].section.split("/", 1)[0]

    def term_link(self, field: str, value: str, count: int | None = None) -> Markup:
        def make() -> Markup:
            term = self.model.term(field, value)
            return self.link(term.label, urls.term_page(term.section, term.slug))
        found = self._memo("term", (field, value), make, self._section(field))
        return found if count is None else Markup(f"{found} ({count})")

    def term_links(self, field: str, values: Any) -> Markup:
        """Links to the terms `values` of one dimension, separated by commas (one call for a study page's
        row or claim line, rather than a loop in the template: 20 of them on each study page). Kept by
        the tuple of values: most studies share their combinations (160,000 calls at 10,000 studies)."""
        values = tuple(values)
        # each link is Markup already: a plain join, without Markup.join's escape() of every item
        return self._memo("terms", (field, values),
                          lambda: Markup(", ".join([self.term_link(field, v) for v in values])), self._section(field))

    def study_link(self, key: str) -> Markup:
        s = self.model.studies[key]
        return self._memo("study", (key,), lambda: self.link(f"{s.short_cite} {s.title}", urls.study_page(key)),
                          urls.STUDY_SECTION)

    def cite_link(self, key: str) -> Markup:
        return self._memo("cite", (key,), lambda: self.link(self.model.studies[key].short_cite, urls.study_page(key)),
                          urls.STUDY_SECTION)

    def claim_link(self, key: str, index: int) -> Markup:
        """'Kim et al. (2011), Finding 2', one link to the claim on its study page, where a claim is listed
        away from its study (term, cell and synthesis pages)."""
        def make() -> Markup:
            claim = self.model.claim(key, index)
            label = f"{self.model.studies[key].short_cite}, {claim.label}"
            return self.link(label, urls.anchored(urls.study_page(key), claim.anchor))
        return self._memo("claim", (key, index), make, urls.STUDY_SECTION)

    def claim_terms(self, claim: Claim) -> Markup:
        """A claim's codes on its study page: ' · *Logics:* [Community](...) · *Barriers:* ...', one call per
        claim rather than a loop of lookups in the template (issue #17)."""
        dims = self.model.dimensions
        return Markup("".join(f" · *{md_text(dims[field].title)}:* {self.term_links(field, claim.codes[field])}"
                              for field in CLAIM_LIST_FIELDS if claim.codes[field]))

    def coding_rows(self, study: Study, coded: list[spec.Field]) -> Markup:
        """The rows of a study page's coding table, one line each: '| Logics | [Community](...) |'."""
        dims = self.model.dimensions
        return Markup("".join(f"| {md_text(dims[f.name].title)} | {self.term_links(f.name, study.codes[f.name])} |\n"
                              for f in coded))

    @functools.cached_property
    def _style_heads(self) -> list[tuple[str, str]]:
        return [(style, f'<p class="atlas-cite-style"><strong>{html_text(label)}</strong></p>\n'
                        f'<p class="atlas-cite-ref" id="cite-{html_text(style)}">') for style, label in STYLES.items()]

    def cite_styles(self, refs_html: dict[str, Markup]) -> Markup:
        """A study page's references in each citation style, each after the style's name."""
        return Markup("".join(f"{head}{refs_html[style]}</p>\n" for style, head in self._style_heads))

    @staticmethod
    def ref_files(files: list[tuple[str, str, str]]) -> Markup:
        """A study page's reference files (BibTeX, RIS, CSL-JSON), each after its name, as preformatted text."""
        return Markup("".join(f'<p class="atlas-ref-format"><strong>{html_text(label)}</strong></p>\n'
                              f'<div class="atlas-ref-text" id="ref-{md_text(ext)}"><pre><code>{html_block(text)}'
                              "</code></pre></div>\n" for label, ext, text in files))

    def claim_item(self, key: str, index: int, confidence: bool = False) -> Markup:
        """One claim as a list item's text away from its study (term and cell pages): the claim, then a link
        to it and its locator, and with `confidence` its appraised confidence. One call per line rather than
        six in the template: cell and term pages list about 100,000 of them at 10,000 studies (issue #17)."""
        def make() -> Markup:
            claim = self.model.claim(key, index)
            tail = ""
            if confidence and claim.appraisal:
                tail = "; " + md_text(self.vocab_label(spec.CONFIDENCE, claim.appraisal.confidence).lower())
            return Markup(f"{md_text(claim.claim)} ({self.claim_link(key, index)}, {md_text(claim.locator)}{tail})")
        return self._memo("claim_item", (key, index, confidence), make, urls.STUDY_SECTION)  # its one link: claim_link

    def claim_items(self, pairs: Any, confidence: bool = False) -> Markup:
        """A list of claims away from their study, one Markdown list item a line (no last line break): one
        call per list rather than one per line, as cell and term pages list ~100,000 lines at 10,000 studies."""
        return Markup("\n".join([f"- {self.claim_item(key, index, confidence)}" for key, index in pairs]))

    def study_items(self, keys: Any) -> Markup:
        """A list of links to studies, one Markdown list item a line (no last line break)."""
        return Markup("\n".join([f"- {self.study_link(key)}" for key in keys]))

    def related_items(self, study: Study) -> Markup:
        """A study page's related studies, one Markdown list item a line (no last line break): '- [Kim et al.
        (2011) Title](...) (3 shared codes)', one call per page rather than two per line."""
        return Markup("\n".join([f"- {self.study_link(key)} ({md_text(plural(shared, 'shared code'))})"
                                  for key, shared in study.related]))

    def source_items(self, study: Study) -> Markup:
        """What a study's coder read, one Markdown list item a line (no last line break): the address, the
        kind of source (its codebook label) and the coder's note."""
        return Markup("\n".join([f"- {self.external(src.url, src.url)} "
                                  f"({html_text(self.vocab_label(_SOURCE_KINDS, src.kind))}): {md_text(src.note)}"
                                  for src in study.sources]))

    def study_rows(self) -> Markup:
        """The rows of the studies index (every study, by first author), one call for 10,000 rows rather than
        five template lookups a row (issue #17)."""
        m = self.model
        rows = []
        for key in m.by_first_author:
            codes = m.studies[key].codes
            rows.append(f"| {self.study_link(key)} | {_finalize(m.studies[key].year)} | "
                        f"{self.term_links(spec.STUDY_TYPE, codes[spec.STUDY_TYPE])} | "
                        f"{self.term_links(spec.COUNTRIES, codes[spec.COUNTRIES])} | "
                        f"{self.term_links(spec.LOGICS, codes[spec.LOGICS])} |\n")
        return Markup("".join(rows))

    def vocab_label(self, vocabulary: str, slug: str) -> str:
        vocab = self.model.codebook.vocabularies.get(vocabulary)
        return vocab.terms[slug].label if vocab and slug in vocab.terms else slug

    def appraisal_labels(self, appraisal: Any) -> list[str]:
        """The labels of an appraisal's coded judgements, in the spec's order (design, reporting,
        transparency, confidence)."""
        return [self.vocab_label(f.vocabulary or "", getattr(appraisal, f.key))
                for f in spec.APPRAISAL_FIELDS if f.kind == "term"]

    def strength(self, refs: Any) -> str:
        """How strong a set of findings is, in words: '3 findings: 1 moderate, 2 low'."""
        refs = list(refs)
        parts = ", ".join(f"{n} {label}" for label, n in self.model.confidence_counts(refs))
        return plural(len(refs), "finding") + (f" ({parts})" if parts else "")

    def edit_link(self, study: Study) -> Markup:
        if not self.repo_url:
            return Markup("")
        url = f"{self.repo_url}/edit/{self.edit_branch}/{study.record_path}"
        if not url.startswith("https://"):
            return Markup("")
        return Markup(f"[Suggest a correction to this record]({html.escape(url, quote=True)})")

    # --- pages -------------------------------------------------------------------
    def _render(self, template: str, page: str, **context: Any) -> str:
        """A Markdown page from a `.md.j2` template (Markdown-escaping environment; HTML fragments have their own)."""
        if not template.endswith(MARKDOWN):
            raise ValueError(f"{template}: only .md.j2 templates render as Markdown pages")
        self._at(page)
        helpers = {
            "link": self.link, "term_link": self.term_link, "term_links": self.term_links, "study_link": self.study_link,
            "cite_link": self.cite_link, "edit_link": self.edit_link,
            "country_name": country_name,
            "dataset": self.dataset, "permalink": self.permalink,
            "reading_list": self.reading_list, "h": html_text,
            "claim_link": self.claim_link, "claim_item": self.claim_item, "claim_items": self.claim_items,
            "study_items": self.study_items, "study_rows": self.study_rows,
            "related_items": self.related_items, "source_items": self.source_items,
            "claim_terms": self.claim_terms, "coding_rows": self.coding_rows,
            "cite_styles": self.cite_styles, "ref_files": self.ref_files,
            "cite_or_key": self.cite_or_key,
            "field_label": field_label, "vocab_label": self.vocab_label, "strength": self.strength,
            "appraisal_labels": self.appraisal_labels,
            "external": self.external, "U": urls, "page_href": self.page_href, "index_of": self.index_of,
            "matrix_of": self.matrix_of,
            # F: the field spec, so that templates name fields by their role (F.LOGICS), never by a string.
            # The model goes to each page, not into the environment's globals: an environment is a
            # reference cycle (its templates hold it), and through it the model, with the whole base, would
            # outlive the build's use of it until the cyclic collector ran (see build._generate).
            "model": self.model, "dimensions": self.model.specs, "compared": COMPARED, "F": spec,
        }
        return self.env.get_template(template).render(page=page, **helpers, **context)

    def cite_or_key(self, key: str) -> Markup:
        """A link to the study, or its key as text for a study no longer in the atlas (old releases)."""
        return self.cite_link(key) if key in self.model.studies else Markup(md_text(key))

    def page_href(self, to_page: str) -> Markup:
        """The directory URL of a page, relative to the page being rendered, for an attribute of raw HTML."""
        return Markup(html.escape(href(self.page, to_page), quote=True))

    def index_of(self, field: str) -> str:
        """The page listing a dimension's terms."""
        return urls.index_page(self.model.dimensions[field].section)

    def matrix_of(self, row: str, col: str) -> str:
        """The page of the matrix of two dimensions."""
        return urls.matrix_page(matrix_slug(row, col))

    def permalink(self, page: str) -> str:
        """The page's address: absolute when the site's address is known (dataset.yaml), else relative."""
        url = urls.page_url(page)
        return f"{self.site_url}/{url}" if self.site_url else "/" + url

    def reading_list(self, field: str, value: str, label: str = "open these studies in the explorer") -> Markup:
        """The explorer filtered to one term: it lists every study coded with it and downloads the selection
        as an APA list, BibTeX, RIS, CSL-JSON or CSV in the browser, so a term's full list and reading list
        cost no file of their own (issue #17)."""
        url = href(self.page, urls.EXPLORER, query=f"{field}={value}")
        return Markup(f'<a href="{html.escape(url, quote=True)}">{html.escape(label)}</a>')

    def render_studies(self, keys: list[str]) -> dict[str, str]:
        """The study pages and their reference files, for the given keys."""
        out: dict[str, str] = {}
        m = self.model
        for key in keys:
            study = m.studies[key]
            page = urls.study_page(key)
            out[page] = self._render("study.md.j2", page, s=study, reference=Markup(self.refs["apa"][key]),
                                     citation_tags=highwire_tags(study), jsonld=json_ld(study),
                                     refs_html={st: Markup(self.refs[st][key]) for st in STYLES},
                                     files=reference_files(study),
                                     coded=[f for f in m.specs if study.codes[f.name]],
                                     uncoded=[f for f in m.specs if not study.codes[f.name]])
        return out

    def study_digests(self, keys: list[str]) -> dict[str, str]:
        """Study key -> the digest of everything its page is made from, for the render cache (render_cache.py).

        What `render_studies` hands the template and what every helper study.md.j2 calls reads: the study
        itself (its reference files, citation tags and JSON-LD are made from it alone), its formatted
        references, the short cite and title of each related study (`study_link`), the address and label
        of each term it links (`term_link`), and, the same for every page, the codebook (`vocab_label`,
        the source kinds), the dimensions' titles and sections, the field spec, the citation styles, the
        dataset's metadata (`permalink`, the citation of the record), the repository and edit branch
        (`edit_link`) and the generator's code and templates. A template that prints anything more must
        add it here: tests/test_render_cache.py compares cached builds with uncached ones.
        """
        m = self.model
        if self._shared_inputs is None:  # the same for every page: once per build (before the render forks)
            shared = {
                "code": code_digest(TEMPLATES), "codebook": m.codebook, "specs": m.specs,
                "dimensions": [(f, d.section, d.title) for f, d in m.dimensions.items()],
                "claim_fields": CLAIM_LIST_FIELDS, "styles": list(STYLES.items()), "dataset": self.dataset,
                "repo_url": self.repo_url, "site_url": self.site_url, "edit_branch": self.edit_branch,
            }
            if not finite(shared):  # a float YAML read as infinity: canonical would write it as None's null
                raise TypeError("a number that is not finite has no canonical form")
            self._shared_inputs = hashlib.sha256(canonical_bytes(shared))
            self._terms = {(t.dimension, t.value): (t.section, t.slug, t.label)
                           for d in m.dimensions.values() for t in d.terms}
        shared, terms, known = self._shared_inputs, self._terms, self._digests
        cites: dict[str, tuple[str, str]] = {}
        out: dict[str, str] = {}
        for key in keys:
            if key in known:
                out[key] = known[key]
                continue
            s = m.studies[key]
            linked = dict.fromkeys((f, v) for f, values in s.codes.items() for v in values)
            linked.update(dict.fromkeys((f, v) for c in s.claims for f, values in c.codes.items() for v in values))
            for k, _ in s.related:
                if k not in cites:
                    cites[k] = (m.studies[k].short_cite, m.studies[k].title)
            inputs = {
                "study": s,
                "refs": [self.refs[style][key] for style in STYLES],
                "related": [cites[k] for k, _ in s.related],  # the keys are in s.related
                "terms": [terms.get(pair) for pair in linked],  # the pairs are in s.codes and its claims' codes
            }
            h = shared.copy()
            h.update(canonical_bytes(inputs))
            out[key] = known[key] = h.hexdigest()
        return out

    def parts_digest(self) -> str | None:
        """The digest of everything the parts of the site other than the study pages are made from (`parts`,
        `CompareRenderer.parts`: the matrices and their cells, the term and index pages, the views, the home
        page), for the render cache: the inputs every study page shares (`study_digests`), the changes, the
        corrections, the screening and, of every study, all but what only its own page prints
        (`PAGE_ONLY_FIELDS`). A one-record edit of a summary, a coding note or a source then reuses every
        part (2 CPU-s at 10,000 studies); any other edit makes them all again.
        tests/test_render_cache.py checks that changing a field left out changes no part.

        None where an input has no canonical form (a YAML oddity in dataset.yaml or the changes): the parts
        are then made every time."""
        if self._parts_digest is None:
            m = self.model
            whole = {"changes": self.changes, "corrections": self.corrections, "years": m.years,
                     "screening": m.screening, "flows": m.flows}
            try:
                if self._shared_inputs is None:
                    self.study_digests([])
                if not finite(whole):
                    return None
                h = self._shared_inputs.copy()
                h.update(b"\0parts\0")
                h.update(canonical_bytes(whole))
                h.update(canonical_bytes([_PARTS_FIELDS(s) for s in m.studies.values()]))
            except TypeError:
                return None
            self._parts_digest = h.hexdigest()
        return self._parts_digest

    def parts(self) -> dict[str, Callable[[], dict[str, str]]]:
        """Every page of the base renderer but the study pages (`render_studies`), in parts that do not
        depend on each other, so that two processes can share them out (pages.py puts them together in
        this order)."""
        return {"indexes": self.index_pages, "about": self.about_pages}

    def index_pages(self) -> dict[str, str]:
        """The studies index, and each dimension's index and term pages."""
        out: dict[str, str] = {}
        m = self.model
        out[urls.STUDIES] = self._render("studies_index.md.j2", urls.STUDIES)
        for field, dim in m.dimensions.items():
            out[urls.index_page(dim.section)] = self._render("dimension_index.md.j2", urls.index_page(dim.section), d=dim)
            for term in dim.terms:
                page = urls.term_page(dim.section, term.slug)
                out[page] = self._render("term.md.j2", page, d=dim, t=term, f=field)
        return out

    def data_files(self, pieces: list[DataPieces]) -> dict[str, bytes]:
        """The dataset's downloads (CSV, JSON, the bibliography, the data package) as UTF-8, from each study's
        `pieces` (render_cite.study_data; pages.Wholes makes them with the study pages)."""
        return dataset_files(self.model, self.dataset, self.bib_text, pieces)

    def about_pages(self) -> dict[str, str]:
        """The home page, the diagnostics list, downloads, changes, corrections and screening."""
        out: dict[str, str] = {}
        out["index.md"] = self._render("home.md.j2", "index.md", figures=self.model.figures())
        out["contribute/diagnostics.md"] = self._render("diagnostics.md.j2", "contribute/diagnostics.md",
                                                        codes=list(diagnostics.CODES.values()))
        out["downloads.md"] = self._render("downloads.md.j2", "downloads.md")
        releases = [{**r, "n_added": len(r.get("added") or ()), "n_recoded": len(r.get("recoded") or ())}
                    for r in self.changes]
        out["changes.md"] = self._render("changes.md.j2", "changes.md", changes=releases)
        # both pages are in the navigation: written even when there is nothing to show yet
        out["corrections.md"] = self.corrections or (
            "# Corrections\n\nNo corrections to the bibliographic data have been recorded "
            "(`evidence/CORRECTIONS.md`).\n")
        out["screening.md"] = self._render_screening()
        return out

    def _render_screening(self) -> str:
        from .flowchart import flow_svg, sentence

        label = functools.partial(self.vocab_label, "exclusion_reasons")
        flows = []
        for i, flow in enumerate(self.model.flows):
            anchor = "search" if flow.route == "search" else f"review-{i}"
            flows.append((flow, Markup(flow_svg(flow, f"atlas-flow-{i}", label)), sentence(flow, label), anchor))
        counts = {(log.name, q): (sum(1 for c in log.candidates if c.query == q),
                                  sum(1 for c in log.candidates if c.query == q and c.decision == "included"))
                  for log in self.model.screening for q in log.queries}
        return self._render("screening.md.j2", "screening.md", flows=flows, logs=self.model.screening,
                            query_counts=counts, reason_label=label)

    def external(self, label: Any, url: str) -> Markup:
        """A link to an outside page, only for web addresses; otherwise the label as text.

        For Markdown contexts: the label is Markdown-escaped too, because Markdown still parses the
        text between inline HTML tags (a raw-HTML block would want html_text instead).
        """
        if not url.startswith(("https://", "http://")):
            return Markup(md_text(label))
        return Markup(f'<a href="{html.escape(safe_href(url), quote=True)}">{md_text(label)}</a>')

