"""The generator's relative links: its own relpath must agree with posixpath.relpath on its paths."""

from __future__ import annotations

import posixpath

from hypothesis import given
from hypothesis import strategies as st

from generator import urls
from generator.urls import relpath as _relpath

segment = st.sampled_from(["studies", "logics", "compare", "a", "b", "gap-map", "x--y", "index.md", "c.md"])
path = st.lists(segment, min_size=1, max_size=4).map("/".join)


@given(target=path, start=st.one_of(st.just("."), path))
def test_relpath_agrees_with_posixpath(target: str, start: str) -> None:
    assert _relpath(target, start) == posixpath.relpath(target, start)


def test_a_kept_link_is_the_link_each_page_would_write() -> None:
    """Renderer._memo keeps a link by its page's folder, or, from another section than its target's, by that
    folder's depth alone: from any page, every kept link is the link written afresh from that page."""
    import itertools
    import re

    from generator.check import check
    from generator.load import load_project
    from generator.model import build_model
    from generator.render import Renderer

    from .helpers import BASE

    loaded = load_project(BASE)
    result = check(loaded)
    model = build_model(result.records, result.codebook, loaded.bib, loaded.record_paths, result.corrected,
                        result.screening)
    r = Renderer(model, result.dataset, result.changes, loaded.bib.text)
    key = next(k for k, s in model.studies.items() if s.claims)
    study = model.studies[key]
    field, value = next((f, vs[0]) for f, vs in study.codes.items() if vs and f in model.dimensions)
    section = model.dimensions[field].section
    pages = ["index.md", "studies/index.md", f"studies/{key}.md", "compare/x.md", "compare/x/a--b.md",
             "compare/y/c--d.md", f"{section}/index.md", f"{section}/z.md", "logics/deep/er.md", "about/x.md"]
    seen = set()
    for _, page in itertools.product((1, 2), pages):  # twice: the second time from what was kept
        r._at(page)
        made = [r.study_link(key), r.cite_link(key), r.claim_item(key, 0), r.term_link(field, value),
                r.term_links(field, [value])]
        targets = [u for text in made for u in re.findall(r"\]\(([^)]+)\)", str(text))]
        expected = [posixpath.relpath(t, r.folder) for t in
                    (urls.study_page(key), urls.study_page(key), urls.anchored(urls.study_page(key), study.claims[0].anchor),
                     urls.term_page(section, model.term(field, value).slug),
                     urls.term_page(section, model.term(field, value).slug))]
        assert [t.split("#")[0] for t in targets] == [e.split("#")[0] for e in expected], page
        seen.add(tuple(targets))
    assert len(seen) > 4  # the pages' links differ where their folders do
