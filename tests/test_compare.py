"""Cross-tabulation: counts at study level and at finding level, totals and gaps."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from generator.check import check
from generator.compare import MATRICES, crosstab, gap_map, matrix_csv_rows
from generator.load import load_project
from generator.model import Model, build_model
from generator.render_compare import href

from .helpers import make_project


@pytest.fixture
def model(tmp_path: Path) -> Model:
    root = make_project(tmp_path / "p")
    # a third study: professional logic in health, in Sweden, with one finding
    (root / "references.bib").write_text((root / "references.bib").read_text() +
                                         "\n@book{ek2021,\n  author = {Ek, Eva},\n  title = {Third},\n"
                                         "  publisher = {P},\n  year = {2021},\n}\n")
    (root / "evidence/studies/ek2021.yaml").write_text(
        "summary: A third fixture.\nstudy_type: conceptual\ncountries: [SE]\nsectors: [health]\n"
        "logics: [professional, state]\nbarriers: [resource-constraints]\nbasis: abstract\n"
        "findings:\n  - claim: x\n    logics: [state]\n    countries: [SE]\n    locator: p. 1\n")
    loaded = load_project(root)
    result = check(loaded)
    assert [d for d in result.diagnostics if d.severity.value == "error"] == []
    return build_model(result.records, result.codebook, loaded.bib, loaded.record_paths)


def test_study_level_counts(model: Model) -> None:
    m = crosstab(model, "logics", "sectors")
    assert m.cell("professional", "health").studies == ("ek2021", "smith2020")
    assert m.cell("market", "health").studies == ("smith2020",)
    assert m.cell("community", "community-safety").studies == ("muller2018",)
    assert m.cell("community", "health").is_gap
    assert m.row_totals["professional"] == 3  # ek2021, muller2018, smith2020
    assert m.col_totals["health"] == 2
    assert m.total == 3


def test_finding_level_counts_differ_from_study_level(model: Model) -> None:
    m = crosstab(model, "logics", "countries")
    assert m.finding_level
    # smith2020's record is professional+market in GB, but its only finding is professional in GB
    assert m.cell("market", "GB").studies == ("smith2020",)
    assert m.cell("market", "GB").findings == ()
    assert m.cell("professional", "GB").findings == (("smith2020", 1),)
    # ek2021: professional at study level in SE, but its finding is coded state only
    assert m.cell("professional", "SE").studies == ("ek2021",)
    assert m.cell("professional", "SE").findings == ()
    assert m.cell("state", "SE").findings == (("ek2021", 1),)


def test_traditions_at_finding_level_come_from_the_findings_countries(model: Model) -> None:
    m = crosstab(model, "traditions", "logics")
    assert m.cell("scandinavian", "state").findings == (("ek2021", 1),)
    assert m.cell("anglo-saxon", "professional").findings == (("smith2020", 1),)


def test_dimensions_without_findings_have_no_finding_level(model: Model) -> None:
    assert not crosstab(model, "sectors", "study_type").finding_level


def test_every_published_matrix_builds(model: Model) -> None:
    for r, c in MATRICES:
        m = crosstab(model, r, c)
        assert len(m.cells) == len(m.rows) * len(m.cols)


def test_csv_has_headers_totals_and_counts(model: Model) -> None:
    rows = list(csv.reader(io.StringIO("\n".join(",".join(r) for r in matrix_csv_rows(crosstab(model, "logics", "sectors"))))))
    assert rows[0] == ["logics \\ sectors", "health", "social-care", "community-safety", "total"]
    assert rows[2] == ["professional", "2", "0", "1", "3"]
    assert rows[-1] == ["total", "2", "0", "1", "3"]


def test_gap_map_counts_study_types(model: Model) -> None:
    m, types = gap_map(model)
    assert types[("professional", "health")] == {"conceptual": 1, "empirical": 1}
    assert types[("community", "health")] == {}


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
