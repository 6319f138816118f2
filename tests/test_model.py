"""The model on its own: every look-up, count, order and derived code is resolved by build_model."""

from __future__ import annotations

from collections import Counter

import pytest

from generator import spec
from generator.check import check
from generator.load import load_project
from generator.model import COOCCUR_LIMIT, RELATED_FIELDS, RELATED_LIMIT, Model, build_model

from .helpers import ROOT, make_project


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Model:
    root = make_project(tmp_path_factory.mktemp("model") / "p")
    loaded = load_project(root)
    result = check(loaded)
    assert not [d for d in result.diagnostics if d.severity.value == "error"]
    return build_model(result.records, result.codebook, loaded.bib, loaded.record_paths, result.corrected,
                       result.screening)


def test_terms_are_looked_up_by_value_with_their_studies_and_claims(model: Model) -> None:
    professional = model.term(spec.LOGICS, "professional")
    assert professional.studies == ("lee2019", "muller2018", "smith2020")
    assert professional.n_studies == 3
    assert professional.findings == (("smith2020", 1), ("smith2020", 2))  # claims that carry the logic
    assert (professional.n_findings, professional.n_arguments) == (2, 1)
    with pytest.raises(KeyError):
        model.term(spec.LOGICS, "no-such-logic")


def test_countries_are_named_and_placed_in_their_tradition(model: Model) -> None:
    norway = model.term(spec.COUNTRIES, "NO")
    assert (norway.slug, norway.label, norway.tradition) == ("no", "Norway", "scandinavian")
    assert model.term(spec.LOGICS, "market").tradition is None  # only countries have one
    assert model.studies["muller2018"].codes[spec.TRADITIONS] == ("scandinavian",)
    assert model.studies["lee2019"].codes[spec.TRADITIONS] == ()  # no country, no tradition


def test_confidence_is_derived_from_the_appraised_findings_in_codebook_order(model: Model) -> None:
    assert model.studies["smith2020"].codes[spec.CONFIDENCE] == ("moderate", "low")
    assert model.studies["lee2019"].codes[spec.CONFIDENCE] == ()  # arguments are never appraised
    assert [c.codes[spec.CONFIDENCE] for c in model.studies["smith2020"].claims] == [("moderate",), ("low",), ()]


def test_orders_counts_and_figures_come_from_the_model(model: Model) -> None:
    assert model.by_first_author == ("ek2022", "lee2019", "muller2018", "smith2020")
    assert model.n_studies == 4
    figures = model.figures()
    assert (figures["studies"], figures["empirical"], figures["n_countries"]) == (4, 3, 3)
    assert figures["findings"] == sum(s.n_findings for s in model.studies.values())


def test_the_dimensions_follow_the_spec_and_give_the_nav(model: Model) -> None:
    assert list(model.dimensions) == [f.name for f in spec.dimensions(model.codebook)]
    nav = model.nav()
    assert nav[0] == ("top", "Logics", "logics/index.md")
    assert [place for place, _, _ in nav] == sorted((p for p, _, _ in nav), key=lambda p: p != "top")


def test_related_studies_share_codes_best_first(model: Model) -> None:
    related = dict(model.studies["smith2020"].related)
    assert "lee2019" in related and related["lee2019"] >= 2  # professional and market
    for s in model.studies.values():
        shares = [n for _, n in s.related]
        assert shares == sorted(shares, reverse=True) and s.key not in dict(s.related)



def test_related_studies_and_cooccurrences_follow_their_definitions() -> None:
    """build_model finds them with products of a study-by-code matrix; on the shipped base (124 studies)
    they equal the plain definitions: the codes two studies share, and the codes a term's studies carry."""
    loaded = load_project(ROOT)
    result = check(loaded)
    model = build_model(result.records, result.codebook, loaded.bib, loaded.record_paths, result.corrected,
                        result.screening)
    studies = model.studies
    for s in studies.values():
        shared = {k: sum(len(set(s.codes[f]) & set(o.codes[f])) for f in RELATED_FIELDS)
                  for k, o in studies.items() if k != s.key}
        best = sorted(((k, n) for k, n in shared.items() if n), key=lambda kn: (-kn[1], kn[0]))[:RELATED_LIMIT]
        assert s.related == tuple(best), s.key
    for d in model.dimensions.values():
        for t in d.terms:
            assert t.studies == tuple(k for k, s in studies.items() if t.value in s.codes[d.field])
            for other, top in t.cooccurs.items():
                counts = Counter(v for k in t.studies for v in studies[k].codes[other])
                assert top == tuple(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:COOCCUR_LIMIT])


def test_decoding_latex_leaves_no_cycle_through_the_caller() -> None:
    """pylatexenc leaves a reference cycle of frames behind each conversion (csl._latex_to_text). It must not
    reach the caller's frame: there, at a build, the whole base is in the locals, and it would then be freed
    only by the cyclic collector, not when the build lets go of it."""
    import gc
    import weakref

    from generator.csl import decode

    class Held:
        pass

    def caller(value: str) -> weakref.ref[Held]:
        held = Held()
        assert decode(value) == "Café, naïve"
        return weakref.ref(held)

    enabled = gc.isenabled()
    gc.disable()
    try:
        assert caller("Caf\\'{e}, na\\\"{\\i}ve")() is None  # freed on return, with no collection
    finally:
        if enabled:
            gc.enable()
