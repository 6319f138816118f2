"""Render the comparative views: matrices, the evidence gap map, the country map, the explorer.

Tables are real HTML (row and column headers, a caption), rendered by Jinja with
HTML autoescaping; links in them are directory URLs, which the site's link test
checks because MkDocs does not check links in raw HTML.
"""

from __future__ import annotations

import csv
import functools
import io
import json
from collections.abc import Callable
from typing import Any

import orjson
from markupsafe import Markup

from . import spec, urls
from .codebook import country_name
from .compare import (
    ARGUED_ONLY,
    FOUND_AND_ARGUED,
    FOUND_ONLY,
    MATRICES,
    Matrix,
    Outcome,
    crosstab,
    gap_map,
    matrix_csv_rows,
    matrix_slug,
    synthesis,
)
from .csl import plain_text
from .exports import bibtex_of, ris_of
from .model import COMPARED, Model, Term
from .render import HTML, Renderer, html_environment
from .render_cite import LONG_TEXT_COLUMNS, plain, study_columns
from .urls import href
from .worldmap import choropleth, legend


class CompareRenderer:
    def __init__(self, base: Renderer) -> None:
        self.base = base
        self.model: Model = base.model
        self.html = html_environment(base.template_cache)

    def fragment(self, template: str, page: str, **context: Any) -> Markup:
        """Raw HTML from a `.html.j2` template (HTML-escaping environment), to be placed in a Markdown page."""
        if not template.endswith(HTML):
            raise ValueError(f"{template}: only .html.j2 templates render as HTML fragments")
        def link(to_page: str, anchor: str = "") -> str:
            return href(page, to_page, anchor)

        def term_page(field: str, value: str) -> str:
            t = self.model.term(field, value)
            return urls.term_page(t.section, t.slug)

        return Markup(self.html.get_template(template).render(
            link=link, term_page=term_page, model=self.model, F=spec, **context).strip())

    def parts(self) -> dict[str, Callable[[], dict[str, str]]]:
        """The comparative pages in parts that do not depend on each other, so that two processes can share
        them out (pages.py puts them together in this order)."""
        return {"matrices": self.matrix_pages, "views": self.view_pages}

    def matrix_pages(self) -> dict[str, str]:
        """Each matrix (its page, its CSV and a page per filled cell) and the page listing them."""
        out: dict[str, str] = {}
        matrices = [crosstab(self.model, r, c) for r, c in MATRICES]
        for m in matrices:
            page = urls.matrix_page(m.slug)
            caption = self.caption(m)
            table = self.fragment("matrix.html.j2", page, m=m, cell_page=self.cell_page, caption=caption)
            out[page] = self.base._render("matrix.md.j2", page, m=m, table=table, title=self.matrix_title(m))
            out[urls.matrix_file(m.slug, ".csv")] = _csv(matrix_csv_rows(m))
            for r, c in m.filled:
                cell = m.cell(r, c)
                cp = self.cell_page(m, r, c)
                explore = href(cp, urls.EXPLORER, query=f"{m.row_field}={r}&{m.col_field}={c}")
                out[cp] = self.base._render("cell.md.j2", cp, m=m, r=self.model.term(m.row_field, r),
                                            explore=Markup.escape(explore),
                                            c=self.model.term(m.col_field, c), cell=cell,
                                            matrix_title=self.matrix_title(m))
        out["compare/index.md"] = self.base._render("compare_index.md.j2", "compare/index.md",
                                                    matrices=[(m, self.matrix_title(m)) for m in matrices])
        return out

    def view_pages(self) -> dict[str, str]:
        """The gap map, the synthesis of barriers and enablers by logic, the country map, side by side."""
        out: dict[str, str] = {}
        gm = gap_map(self.model)
        page = "compare/gap-map.md"
        out[page] = self.base._render("gap_map.md.j2", page, table=self.fragment(
            "gap_map.html.j2", page, m=gm, cell_page=self.cell_page))
        page = "compare/barriers-by-logic.md"
        founding = self.base.dataset.get("founding_study")
        out[page] = self.base._render("synthesis.md.j2", page, logics=synthesis(self.model, founding),
                                      founding=founding if founding in self.model.studies else None,
                                      agreements=(FOUND_AND_ARGUED, ARGUED_ONLY, FOUND_ONLY),
                                      cell_of=self.synthesis_cell)
        out.update(self.country_map())
        out["compare/side-by-side.md"] = self.base._render("side_by_side.md.j2", "compare/side-by-side.md")
        return out

    def explorer_files(self, entries: list[bytes]) -> dict[str, bytes]:
        """The explorer's page and the index it filters, as UTF-8, put together from each study's entry
        (`explorer_entry`, in the order of the studies)."""
        out: dict[str, bytes] = {}
        out["explore/index.md"] = self.base._render("explore.md.j2", "explore/index.md").encode("utf-8")
        data = orjson.dumps(self.explorer_index(entries), option=orjson.OPT_SORT_KEYS)  # compact, UTF-8
        # a script, not fetch(): the explorer then also works from a folder on disk (file://); the same
        # data is in data/evidence.json for other programs, so no JSON copy of the index is written
        out["explore/studies.js"] = EXPLORER_PREFIX.encode("utf-8") + data + b";\n"
        return out

    def caption(self, m: Matrix) -> str:
        if m.claim_level:
            return (f"{self.matrix_title(m)}: claims that carry both terms, findings (F) and arguments (A) "
                    "counted apart")
        return f"{self.matrix_title(m)}: studies coded with both terms at record level"

    def matrix_title(self, m: Matrix) -> str:
        d = self.model.dimensions
        return f"{d[m.row_field].title} × {d[m.col_field].title}"

    @staticmethod
    def cell_page(m: Matrix, row: str, col: str) -> str:
        return urls.cell_page(m.slug, row, col)

    @staticmethod
    def synthesis_cell(logic: Term, outcome: Outcome) -> str:
        """The matrix cell (logics x barriers or enablers) that lists all the claims of one synthesis row."""
        return urls.cell_page(matrix_slug(spec.LOGICS, outcome.field), logic.value, outcome.term.value)

    def country_map(self) -> dict[str, str]:
        page = "compare/map.md"
        counts = {t.value: len(t.studies) for t in self.model.dimensions[spec.COUNTRIES].terms}
        svg = choropleth(counts, lambda code: href(page, f"countries/{code.lower()}.md"), country_name)
        return {page: self.base._render("map.md.j2", page, svg=Markup(svg), legend=legend(counts),
                                        countries=self.model.dimensions[spec.COUNTRIES].terms)}

    def facets(self) -> tuple[str, ...]:
        """The explorer's facets: the faceted dimensions of the spec, vocabularies added to the codebook included."""
        return tuple(f.name for f in self.model.specs if f.faceted)

    @functools.cached_property
    def explorer_facets(self) -> tuple[list[dict[str, Any]], dict[str, dict[str, int]]]:
        """The explorer's facets (each with the terms that have studies), and each term's position in its
        facet's list, by which a study's codes are written in the index."""
        facets = []
        position: dict[str, dict[str, int]] = {}
        for field in self.facets():
            dim = self.model.dimensions[field]
            terms = [t for t in dim.terms if t.studies]
            facets.append({"field": field, "title": dim.title,
                           "terms": [{"value": t.value, "label": t.label} for t in terms]})
            position[field] = {t.value: i for i, t in enumerate(terms)}
        return facets, position

    def explorer_entry(self, key: str) -> bytes:
        """One study in the explorer's index, as the JSON text it has there.

        Made from the study alone, its formatted references and the positions of the facets' terms
        (pages.py keeps it in the render cache by the study's digest and a digest of those positions).
        Compact (issue #17: 3 MB of 19.6 at 10,000 studies): a study's codes are positions in its facet's
        list of terms, a field without codes and an empty list are left out, a title, container or DOI
        that is its CSL item's as plain text is left out (SAME_AS_CSL; an empty one is its CSL item's
        absent value), and a study's address is `study_base` and its key. expand_explorer_index (and
        atlas.js's expand) give the full form back."""
        s = self.model.studies[key]
        position = self.explorer_facets[1]
        study: dict[str, Any] = {
            "key": key, "title": s.title, "authors": list(s.authors), "year": s.year, "cite": s.short_cite,
            "entry_type": s.entry_type, "container": s.container, "doi": s.doi,
            "codes": {f: [position[f][v] for v in s.codes[f]] for f in position if s.codes[f]},
            "bibtex": bibtex_of(s), "ris": ris_of(s), "csl": s.csl, "apa": plain(self.base.refs["apa"][key]),
        }
        for field, csl_key in SAME_AS_CSL.items():  # most titles, containers and DOIs are the CSL item's
            if (study[field] or "") == csl_plain(s.csl.get(csl_key)):
                del study[field]
        if s.unconfirmed:
            study["unconfirmed_fields"] = list(s.unconfirmed)
        return orjson.dumps(study, option=orjson.OPT_SORT_KEYS)

    def explorer_index(self, entries: list[bytes]) -> dict[str, Any]:
        """The static index the explorer filters in the browser; its studies are the `entries` (as JSON text,
        written as they are)."""
        facets, position = self.explorer_facets
        side = [f for f in spec.SIDE_BY_SIDE if f in position]
        columns = [c for c in study_columns(self.model) if c not in LONG_TEXT_COLUMNS]
        return {"facets": facets, "studies": orjson.Fragment(b"[" + b",".join(entries) + b"]"),
                "compared": list(COMPARED), "csv_columns": columns,
                "study_base": href(urls.EXPLORER, urls.index_page("studies")),
                "side": {"dims": side, "rows": {f: list(spec.side_by_side_rows(f)) for f in side}}}


def _csv(rows: list[list[str]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


EXPLORER_PREFIX = "window.ATLAS_INDEX = "
# Fields of an explorer study left out where they equal their CSL item's value as plain text (csl.plain_text:
# the case protection taken out). atlas.js's expand has the same table and undoes the case protection with
# csl.NOCASE's pattern; a value that differs otherwise is written.
SAME_AS_CSL = {"title": "title", "container": "container-title", "doi": "DOI"}


def csl_plain(value: object) -> str:
    """A CSL item's value as the explorer shows it: plain text, and '' for none."""
    return plain_text(str(value or ""))


def explorer_data(script: str) -> Any:
    """The explorer's index read back from explore/studies.js (for tests and other tools), in its full form."""
    return expand_explorer_index(json.loads(script[len(EXPLORER_PREFIX):].rstrip().removesuffix(";")))


def expand_explorer_index(index: dict[str, Any]) -> dict[str, Any]:
    """The compact index as the explorer uses it (atlas.js's `expand` does the same): every facet's codes
    as values, `url`, `title`, `container`, `doi` and `unconfirmed_fields` on every study."""
    terms = {f["field"]: [t["value"] for t in f["terms"]] for f in index["facets"]}
    for s in index["studies"]:
        s["url"] = index["study_base"] + s["key"] + "/"
        s["codes"] = {f: [values[i] for i in s["codes"].get(f, [])] for f, values in terms.items()}
        for field, csl_key in SAME_AS_CSL.items():
            s.setdefault(field, csl_plain(s["csl"].get(csl_key)))
        s.setdefault("unconfirmed_fields", [])
    return index
