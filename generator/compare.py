"""Comparative views: cross-tabulations of two dimensions, at study or finding level.

Pure functions over the Model. A study counts in cell (r, c) when it is coded
with both r and c. At finding level a finding counts when the finding itself is
coded with both; a finding's administrative traditions are those of its
countries.
"""

from __future__ import annotations

from dataclasses import dataclass

from .model import DIMENSIONS, FINDING_FIELDS, Model, Study, Term

# The matrices the site publishes: (row dimension, column dimension).
MATRICES: tuple[tuple[str, str], ...] = (
    ("logics", "sectors"),
    ("logics", "barriers"),
    ("logics", "enablers"),
    ("sectors", "barriers"),
    ("sectors", "enablers"),
    ("countries", "logics"),
    ("countries", "barriers"),
    ("traditions", "logics"),
    ("traditions", "barriers"),
    ("logics", "phases"),
    ("sectors", "study_type"),
)
FINDING_LEVEL = (*FINDING_FIELDS, "traditions")

FindingRef = tuple[str, int]


@dataclass(frozen=True)
class Cell:
    studies: tuple[str, ...]
    findings: tuple[FindingRef, ...]

    @property
    def is_gap(self) -> bool:
        return not self.studies


@dataclass(frozen=True)
class Matrix:
    rows: tuple[Term, ...]
    cols: tuple[Term, ...]
    row_field: str
    col_field: str
    cells: dict[tuple[str, str], Cell]
    row_totals: dict[str, int]  # distinct studies in the row
    col_totals: dict[str, int]
    total: int  # distinct studies anywhere in the matrix
    finding_level: bool  # whether both dimensions are coded on findings

    @property
    def slug(self) -> str:
        return matrix_slug(self.row_field, self.col_field)

    def cell(self, row: str, col: str) -> Cell:
        return self.cells[(row, col)]

    @property
    def max_count(self) -> int:
        return max((len(c.studies) for c in self.cells.values()), default=0)

    @property
    def gap_count(self) -> int:
        return sum(1 for c in self.cells.values() if c.is_gap)


def matrix_slug(row_field: str, col_field: str) -> str:
    """URL part of a matrix, from the dimensions' URL sections (logics-by-sectors, sectors-by-study-types)."""
    section = {field: sec for field, sec, _ in DIMENSIONS}
    return f"{section[row_field]}-by-{section[col_field]}"


def finding_codes(model: Model, study: Study, index: int, field: str) -> tuple[str, ...]:
    finding = study.findings[index - 1]
    if field == "traditions":
        tradition_of = model.codebook.tradition_of()
        return tuple(sorted({tradition_of[c] for c in finding.codes["countries"] if c in tradition_of}))
    return finding.codes.get(field, ())


def crosstab(model: Model, row_field: str, col_field: str) -> Matrix:
    rows = model.dimensions[row_field].terms
    cols = model.dimensions[col_field].terms
    study_cells: dict[tuple[str, str], list[str]] = {(r.value, c.value): [] for r in rows for c in cols}
    finding_cells: dict[tuple[str, str], list[FindingRef]] = {k: [] for k in study_cells}
    by_finding = row_field in FINDING_LEVEL and col_field in FINDING_LEVEL
    for key, study in model.studies.items():
        for r in study.codes[row_field]:
            for c in study.codes[col_field]:
                if (r, c) in study_cells:
                    study_cells[(r, c)].append(key)
        if not by_finding:
            continue
        for f in study.findings:
            for r in finding_codes(model, study, f.index, row_field):
                for c in finding_codes(model, study, f.index, col_field):
                    if (r, c) in finding_cells:
                        finding_cells[(r, c)].append((key, f.index))
    cells = {k: Cell(tuple(v), tuple(finding_cells[k])) for k, v in study_cells.items()}
    row_totals = {r.value: len({k for c in cols for k in cells[(r.value, c.value)].studies}) for r in rows}
    col_totals = {c.value: len({k for r in rows for k in cells[(r.value, c.value)].studies}) for c in cols}
    total = len({k for cell in cells.values() for k in cell.studies})
    return Matrix(tuple(rows), tuple(cols), row_field, col_field, cells, row_totals, col_totals, total, by_finding)


def matrix_csv_rows(m: Matrix) -> list[list[str]]:
    """The matrix as CSV rows: a header, one row per term, and a totals row (study counts)."""
    out = [[m.row_field + " \\ " + m.col_field, *[c.value for c in m.cols], "total"]]
    for r in m.rows:
        out.append([r.value, *[str(len(m.cell(r.value, c.value).studies)) for c in m.cols], str(m.row_totals[r.value])])
    out.append(["total", *[str(m.col_totals[c.value]) for c in m.cols], str(m.total)])
    return out


def gap_map(model: Model) -> tuple[Matrix, dict[tuple[str, str], dict[str, int]]]:
    """Logics x sectors with, per cell, the number of studies of each study type."""
    m = crosstab(model, "logics", "sectors")
    types: dict[tuple[str, str], dict[str, int]] = {}
    for key, cell in m.cells.items():
        counts: dict[str, int] = {}
        for study_key in cell.studies:
            for t in model.studies[study_key].codes["study_type"] or ("untyped",):
                counts[t] = counts.get(t, 0) + 1
        types[key] = counts
    return m, types
