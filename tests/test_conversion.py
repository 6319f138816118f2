"""A few hundred converted records from every inhabited continent pass `check --strict` and build."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
import yaml

from generator.check import check
from generator.codebook import Codebook
from generator.load import load_project

from .conftest import copy_project
from .conversion import COLUMNS, COUNTRIES, case_rows, convert, country_code
from .helpers import run


def spreadsheet_round_trip(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """Through CSV and back, as a contributor's script reads an export (newlines inside cells)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    return list(csv.DictReader(io.StringIO(out.getvalue())))


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = copy_project(tmp_path_factory.mktemp("conversion") / "project")
    records, bib = convert(spreadsheet_round_trip(case_rows(studies=300)))
    for name, text in records.items():
        (root / "evidence/studies" / name).write_text(text, encoding="utf-8")
    with (root / "references.bib").open("a", encoding="utf-8") as f:
        f.write(bib)
    # the converted studies came in as one batch of the search: its log includes each of them
    keys = sorted(name[:-5] for name in records)
    log = {"route": "search", "run": "2026-12-01", "where": "A converted case spreadsheet.",
           "queries": {"c01": "the case spreadsheet"},
           "candidates": [{"query": "c01", "rank": i, "title": f"Converted study {key}", "decision": "included",
                           "key": key} for i, key in enumerate(keys, 1)]}
    (root / "evidence/screening/search-conversion.yaml").write_text(yaml.safe_dump(log, sort_keys=False),
                                                                     encoding="utf-8")
    return root


def test_the_spreadsheet_spans_every_inhabited_continent_and_several_rows_per_study() -> None:
    rows = case_rows(studies=300)
    by_study: dict[str, int] = {}
    for row in rows:
        by_study[row["study_id"]] = by_study.get(row["study_id"], 0) + 1
    assert len(by_study) == 300 and max(by_study.values()) > 1
    seen = {continent for continent, names in COUNTRIES.items() for row in rows if row["country"] in names}
    assert seen == set(COUNTRIES)
    assert any("\n\n" in row["description"] and "%" in row["description"] for row in rows)


def test_converted_records_pass_strict_check(converted: Path) -> None:
    code, out, err = run("--root", str(converted), "check", "--strict")
    assert (code, out) == (0, ""), out
    assert "0 errors, 0 warnings" in err


def test_every_country_of_the_spreadsheet_is_in_a_tradition_or_stated_unassigned(converted: Path) -> None:
    codebook: Codebook = check(load_project(converted)).codebook
    placed = set(codebook.tradition_of()) | set(codebook.unassigned_countries())
    codes = {country_code(name) for names in COUNTRIES.values() for name in names}
    assert codes - placed == set()
    assert {"CL", "BR", "IN", "ZA", "MX", "TZ"} <= set(codebook.tradition_of())
    assert {"ID", "FJ", "KZ"} <= set(codebook.unassigned_countries())


def test_converted_records_build(converted: Path) -> None:
    code, out, err = run("--root", str(converted), "build", "--quiet")
    assert code == 0, out + err
    site = converted / "site"
    records = sorted(p.stem for p in (converted / "evidence/studies").glob("*.yaml"))
    assert all((site / "studies" / key / "index.html").is_file() for key in records)
    # a country with no tradition says so on its page; one with a tradition links to it
    indonesia = (site / "countries/id/index.html").read_text(encoding="utf-8")
    assert "not assigned" in indonesia
    chile = (site / "countries/cl/index.html").read_text(encoding="utf-8")
    assert "traditions/latin-american/" in chile
    # '%' in a title survives into the page (it used to start a LaTeX comment and cut the title)
    page = next(p for p in sorted((site / "studies").glob("*/index.html")) if "% in" in p.read_text(encoding="utf-8"))
    assert "programmes" in page.read_text(encoding="utf-8")
