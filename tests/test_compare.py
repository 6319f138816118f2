"""Cross-tabulation by claims (findings and arguments apart), study-level co-coding, and the synthesis."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from generator.check import check
from generator.compare import FOUND_AND_ARGUED, MATRICES, crosstab, gap_map, matrix_csv_rows, synthesis
from generator.load import load_project
from generator.model import Model, build_model
from generator.urls import href

from .helpers import make_project


def _project(tmp_path: Path) -> Path:
    root = make_project(tmp_path / "p")
    # a fourth work: conceptual, Sweden, health; its record lists two logics and a barrier,
    # but its only claim is an argument about the state logic with no barrier
    (root / "references.bib").write_text((root / "references.bib").read_text() +
                                         "\n@book{ek2021,\n  author = {Ek, Eva},\n  title = {Third},\n"
                                         "  publisher = {P},\n  year = {2021},\n}\n")
    (root / "evidence/studies/ek2021.yaml").write_text(
        "summary: A third fixture.\nstudy_type: conceptual\ncountries: [SE]\nsectors: [health]\n"
        "logics: [professional, state]\nbarriers: [resource-constraints]\nroute: founding-list\nbasis: abstract\n"
        "sources:\n  - url: https://example.org/ek\n    kind: publisher-abstract\n    note: Abstract.\n"
        "coding_note: Coded from the fixture abstract; the state logic is read in its one argument, nothing else.\n"
        "claims:\n  - kind: argument\n    claim: x\n    logics: [state]\n    countries: [SE]\n    locator: p. 1\n")
    return root


@pytest.fixture
def model(tmp_path: Path) -> Model:
    loaded = load_project(_project(tmp_path))
    result = check(loaded)
    assert [d for d in result.diagnostics if d.severity.value == "error"] == []
    return build_model(result.records, result.codebook, loaded.bib, loaded.record_paths, result.corrected)


def test_claims_count_findings_and_arguments_apart(model: Model) -> None:
    m = crosstab(model, "logics", "barriers")
    assert m.claim_level
    cell = m.cell("professional", "professional-expertise")
    assert cell.findings == (("smith2020", 1),)
    assert cell.arguments == (("lee2019", 1),)
    assert set(cell.studies) == {"smith2020", "lee2019"}
    argued = m.cell("market", "risk-accountability")
    assert (argued.findings, argued.arguments) == ((), (("lee2019", 2),))


def test_co_coding_without_a_tying_claim_is_a_gap(model: Model) -> None:
    m = crosstab(model, "logics", "barriers")
    # smith2020 and lee2019 both list the market logic and professional expertise, but no claim ties them
    cell = m.cell("market", "professional-expertise")
    assert cell.claims == () and cell.studies == ()
    assert cell.co_coded == ("lee2019", "smith2020")
    assert not m.has_evidence(cell)
    assert ("market", "professional-expertise") not in m.filled
    # ek2021 lists professional, state and resource constraints; its claim ties none of them
    assert m.cell("professional", "resource-constraints").co_coded == ("ek2021",)
    assert not m.has_evidence(m.cell("state", "resource-constraints"))


def test_totals_count_each_claim_once(model: Model) -> None:
    m = crosstab(model, "logics", "barriers")
    assert (m.row_totals["professional"].findings, m.row_totals["professional"].arguments) == (1, 1)
    assert (m.total.findings, m.total.arguments, m.total.studies) == (1, 2, 2)


def test_traditions_at_claim_level_come_from_the_claims_countries(model: Model) -> None:
    m = crosstab(model, "traditions", "logics")
    assert m.cell("scandinavian", "state").arguments == (("ek2021", 1),)
    assert m.cell("anglo-saxon", "professional").findings == (("smith2020", 1), ("smith2020", 2))
    assert m.cell("anglo-saxon", "market").arguments == (("smith2020", 3),)


def test_dimensions_not_coded_on_claims_compare_studies(model: Model) -> None:
    m = crosstab(model, "logics", "phases")
    assert not m.claim_level
    assert m.cell("professional", "co-delivery").studies == ("smith2020",)
    assert not crosstab(model, "sectors", "study_type").claim_level


def test_every_published_matrix_builds(model: Model) -> None:
    for r, c in MATRICES:
        m = crosstab(model, r, c)
        assert len(m.cells) == len(m.rows) * len(m.cols)


def test_csv_names_each_count(model: Model) -> None:
    text = "\n".join(",".join(r) for r in matrix_csv_rows(crosstab(model, "logics", "barriers")))
    rows = list(csv.DictReader(io.StringIO(text)))
    row = next(r for r in rows if (r["logics"], r["barriers"]) == ("professional", "professional-expertise"))
    assert row == {"logics": "professional", "barriers": "professional-expertise", "findings": "1", "arguments": "1",
                   "studies_with_tying_claims": "2", "studies_co_coded_at_record_level": "2"}
    untied = next(r for r in rows if (r["logics"], r["barriers"]) == ("market", "professional-expertise"))
    assert (untied["findings"], untied["arguments"], untied["studies_co_coded_at_record_level"]) == ("0", "0", "2")
    study_level = matrix_csv_rows(crosstab(model, "sectors", "study_type"))
    assert study_level[0] == ["sectors", "study_type", "studies_co_coded_at_record_level"]


def test_gap_map_counts_claims(model: Model) -> None:
    m = gap_map(model)
    cell = m.cell("professional", "health")
    assert (cell.findings, cell.arguments) == ((("smith2020", 2),), (("lee2019", 1),))
    assert m.cell("community", "community-safety").findings == (("muller2018", 1),)
    assert not m.has_evidence(m.cell("community", "health"))


def test_synthesis_sets_findings_beside_arguments(model: Model) -> None:
    by_logic = {s.logic.value: s for s in synthesis(model, "lee2019")}
    professional = by_logic["professional"]
    [expertise] = professional.barriers
    assert expertise.term.value == "professional-expertise"
    assert expertise.agreement == FOUND_AND_ARGUED and expertise.founding
    assert (expertise.countries, expertise.traditions, expertise.basis) == (("GB",), ("anglo-saxon",), (("abstract", 1),))
    [learning] = professional.enablers
    assert (learning.term.value, learning.agreement) == ("professional-learning", "found, not argued")
    [risk] = by_logic["market"].barriers
    assert (risk.term.value, risk.agreement, risk.found_in) == ("risk-accountability", "argued, not yet found", ())
    assert "state" in by_logic and not by_logic["state"].barriers  # an argument with no barrier ties nothing


def test_no_link_where_no_claim_ties_the_terms(tmp_path: Path) -> None:
    """The rendered matrix shows a gap, and no cell page, where records co-occur but no claim ties them."""
    import contextlib

    from generator.build import DOCS, generate

    root = _project(tmp_path)
    with contextlib.redirect_stderr(io.StringIO()):
        assert generate(root, quiet=True)[0]
    docs = root / DOCS
    table = (docs / "compare/logics-by-barriers.md").read_text(encoding="utf-8")
    assert not (docs / "compare/logics-by-barriers/market--professional-expertise.md").exists()
    assert "market--professional-expertise" not in table
    assert "professional--resource-constraints" not in table
    assert (docs / "compare/logics-by-barriers/professional--professional-expertise.md").exists()
    row = table[table.index('logics/market/'):].split("</tr>")[0]
    assert row.count("atlas-gap-label") == len(crosstab_cols(docs)) - 1  # all but risk accountability
    assert "(2 co-coded)" in row


def crosstab_cols(docs: Path) -> list[str]:
    table = (docs / "compare/logics-by-barriers.md").read_text(encoding="utf-8")
    head = table[table.index("<thead>"):table.index("</thead>")]
    return [part for part in head.split('<th scope="col">')[2:] if "barriers/" in part]


@pytest.mark.parametrize("src,dst,expected", [
    ("compare/logics-by-sectors.md", "logics/professional.md", "../../logics/professional/"),
    ("compare/logics-by-sectors/professional--health.md", "studies/x.md", "../../../studies/x/"),
    ("compare/index.md", "compare/gap-map.md", "gap-map/"),
    ("index.md", "explore/index.md", "explore/"),
    ("explore/index.md", "index.md", "../"),
])
def test_href_between_directory_urls(src: str, dst: str, expected: str) -> None:
    assert href(src, dst) == expected


def test_the_map_viewbox_holds_every_country() -> None:
    import re

    from generator.worldmap import BOTTOM, TOP, WIDTH, shapes

    points = [tuple(map(float, m)) for _, _, d in shapes() for m in re.findall(r"[ML]([-0-9.]+),([-0-9.]+)", d)]
    assert all(0 <= x <= WIDTH and TOP <= y <= BOTTOM for x, y in points)
    codes = {code for code, _, _ in shapes()}
    assert {"SS", "GB", "FR", "NO", "US"} <= codes  # South Sudan included; Norway's numeric id resolves
