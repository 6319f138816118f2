"""Comparative views: cross-tabulations of two dimensions, counted by claims, and the synthesis.

Pure functions over the Model. Where both dimensions are coded on claims
(logics, sectors, countries, barriers, enablers, and traditions derived from a
claim's countries), a cell holds the claims that carry both terms: a logic is
tied to a barrier only where one claim makes the tie. Findings and arguments
are kept apart. That a record's own lists hold both terms (study-level
co-coding) is kept beside the claims, labelled as such, and is never shown as a
tie. Dimensions that are not coded on claims (phases, study types) are
compared at study level only, and say so.
"""

from __future__ import annotations

import functools
import math
from collections import Counter
from dataclasses import dataclass

from . import spec
from .model import CLAIM_KINDS, Claim, Count, Listed, Model, Shown, Term

# The matrices the site publishes, (row dimension, column dimension): the spec's.
MATRICES = spec.MATRICES
CLAIM_LEVEL = tuple(f.name for f in spec.dimensions() if f.on_claims)
_SECTION = {f.name: f.section for f in spec.dimensions()}  # the matrices' fields are all declared in the spec

ClaimRef = tuple[str, int]  # (study key, claim index)


@dataclass(frozen=True)
class Cell(Listed):
    findings: tuple[ClaimRef, ...]  # claims of kind finding carrying both terms
    arguments: tuple[ClaimRef, ...]  # claims of kind argument carrying both terms
    studies: tuple[str, ...]  # claim level: the studies those claims come from; study level: co_coded
    co_coded: tuple[str, ...]  # studies whose record-level lists hold both terms
    heat: int = 0  # 0-4, from findings (claim level) or studies (study level), for shading

    @property
    def claims(self) -> tuple[ClaimRef, ...]:
        return self.findings + self.arguments

    @functools.cached_property  # asked three times a cell (its count, its head, the list): made once
    def untied(self) -> tuple[str, ...]:
        """Studies co-coded with both terms at record level whose claims never tie them."""
        tied = set(self.studies)
        return tuple(k for k in self.co_coded if k not in tied)

    n_untied = Count("untied")
    n_co_coded = Count("co_coded")
    untied_shown = Shown("untied", "CO_CODED_LIMIT")


@dataclass(frozen=True)
class Total:
    findings: int
    arguments: int
    studies: int


@dataclass(frozen=True)
class Matrix:
    rows: tuple[Term, ...]
    cols: tuple[Term, ...]
    row_field: str
    col_field: str
    cells: dict[tuple[str, str], Cell]
    row_totals: dict[str, Total]  # distinct claims and studies in the row
    col_totals: dict[str, Total]
    total: Total
    claim_level: bool  # both dimensions coded on claims: cells count claims; else studies

    @property
    def slug(self) -> str:
        return matrix_slug(self.row_field, self.col_field)

    def cell(self, row: str, col: str) -> Cell:
        return self.cells[(row, col)]

    def has_evidence(self, cell: Cell) -> bool:
        return bool(cell.claims) if self.claim_level else bool(cell.studies)

    n_cells = Count("cells")
    @property
    def gap_count(self) -> int:
        return sum(1 for c in self.cells.values() if not self.has_evidence(c))

    @property
    def filled(self) -> tuple[tuple[str, str], ...]:
        return tuple(k for k, c in self.cells.items() if self.has_evidence(c))


def matrix_slug(row_field: str, col_field: str) -> str:
    """URL part of a matrix, from the dimensions' URL sections (logics-by-sectors, sectors-by-study-types)."""
    return f"{_SECTION[row_field]}-by-{_SECTION[col_field]}"


def _heat(n: int, most: int) -> int:
    return math.ceil(n / most * 4) if n and most else 0


def crosstab(model: Model, row_field: str, col_field: str) -> Matrix:
    rows = model.dimensions[row_field].terms
    cols = model.dimensions[col_field].terms
    keys = [(r.value, c.value) for r in rows for c in cols]
    co_coded: dict[tuple[str, str], list[str]] = {k: [] for k in keys}
    by_kind: dict[str, dict[tuple[str, str], list[ClaimRef]]] = {kind: {k: [] for k in keys} for kind in CLAIM_KINDS}
    claim_level = row_field in CLAIM_LEVEL and col_field in CLAIM_LEVEL
    row_claims: dict[str, dict[str, set[ClaimRef]]] = {kind: {r.value: set() for r in rows} for kind in CLAIM_KINDS}
    col_claims: dict[str, dict[str, set[ClaimRef]]] = {kind: {c.value: set() for c in cols} for kind in CLAIM_KINDS}
    for key, study in model.studies.items():
        for r in study.codes[row_field]:
            for c in study.codes[col_field]:
                if (r, c) in co_coded:
                    co_coded[(r, c)].append(key)
        if not claim_level:
            continue
        for claim in study.claims:
            ref = (key, claim.index)
            for r in claim.codes[row_field]:
                for c in claim.codes[col_field]:
                    if (r, c) in co_coded:
                        by_kind[claim.kind][(r, c)].append(ref)
                        row_claims[claim.kind][r].add(ref)
                        col_claims[claim.kind][c].add(ref)
    cells: dict[tuple[str, str], Cell] = {}
    most = max((len(v) for v in (by_kind["finding"] if claim_level else co_coded).values()), default=0)
    for k in keys:
        f, a = tuple(by_kind["finding"][k]), tuple(by_kind["argument"][k])
        studies = tuple(dict.fromkeys(s for s, _ in f + a)) if claim_level else tuple(co_coded[k])
        cells[k] = Cell(f, a, studies, tuple(co_coded[k]), _heat(len(f) if claim_level else len(studies), most))

    def total(pairs: list[tuple[str, str]], claims: dict[str, set[ClaimRef]] | None) -> Total:
        studies = {s for p in pairs for s in cells[p].studies}
        if claims is None:
            return Total(0, 0, len(studies))
        return Total(len(claims["finding"]), len(claims["argument"]), len(studies))

    def line(kind_sets: dict[str, dict[str, set[ClaimRef]]], value: str) -> dict[str, set[ClaimRef]]:
        return {kind: kind_sets[kind][value] for kind in CLAIM_KINDS}

    row_totals = {r.value: total([(r.value, c.value) for c in cols], line(row_claims, r.value) if claim_level else None)
                  for r in rows}
    col_totals = {c.value: total([(r.value, c.value) for r in rows], line(col_claims, c.value) if claim_level else None)
                  for c in cols}
    everything = {kind: set().union(*row_claims[kind].values()) for kind in CLAIM_KINDS}
    grand = total(keys, everything if claim_level else None)
    return Matrix(tuple(rows), tuple(cols), row_field, col_field, cells, row_totals, col_totals, grand, claim_level)


def matrix_csv_rows(m: Matrix) -> list[list[str]]:
    """The matrix in long form: one row per pair of terms, each count in a column named for what it counts."""
    if m.claim_level:
        head = [m.row_field, m.col_field, "findings", "arguments", "studies_with_tying_claims",
                "studies_co_coded_at_record_level"]
        rows = [[r, c, str(len(cell.findings)), str(len(cell.arguments)), str(len(cell.studies)),
                 str(len(cell.co_coded))] for (r, c), cell in m.cells.items()]
    else:
        head = [m.row_field, m.col_field, "studies_co_coded_at_record_level"]
        rows = [[r, c, str(len(cell.co_coded))] for (r, c), cell in m.cells.items()]
    return [head, *rows]


def gap_map(model: Model) -> Matrix:
    """Logics x sectors, counted by claims: where findings, arguments or nothing tie a logic to a sector."""
    return crosstab(model, *spec.GAP_MAP)


# --- the "barriers by logic" synthesis ------------------------------------------------

FOUND_AND_ARGUED = "found and argued"
ARGUED_ONLY = "argued, not yet found"
FOUND_ONLY = "found, not argued"


@dataclass(frozen=True)
class Outcome:
    """One barrier or enabler under one logic: what findings show and what arguments say."""

    field: str  # "barriers" or "enablers"
    term: Term
    findings: tuple[ClaimRef, ...]
    arguments: tuple[ClaimRef, ...]
    found_in: tuple[str, ...]  # studies whose findings show it
    argued_by: tuple[str, ...]  # works whose arguments say it
    countries: tuple[str, ...]  # of the findings, ISO codes sorted
    traditions: tuple[str, ...]  # of the findings
    basis: tuple[tuple[str, int], ...]  # (basis slug, number of studies with findings), most first
    founding: bool  # the founding chapter argues it

    n_found_in = Count("found_in")
    n_arguments = Count("arguments")
    findings_shown = Shown("findings")
    arguments_shown = Shown("arguments")

    @property
    def agreement(self) -> str:
        if self.findings and self.arguments:
            return FOUND_AND_ARGUED
        return FOUND_ONLY if self.findings else ARGUED_ONLY


@dataclass(frozen=True)
class LogicSynthesis:
    logic: Term
    barriers: tuple[Outcome, ...]
    enablers: tuple[Outcome, ...]
    findings: int  # claims of kind finding that tie this logic to a barrier or enabler
    arguments: int
    untied_findings: int  # findings coded with the logic but with no barrier or enabler

    def by_agreement(self, agreement: str) -> tuple[Outcome, ...]:
        return tuple(o for o in self.barriers + self.enablers if o.agreement == agreement)


def synthesis(model: Model, founding: str | None) -> tuple[LogicSynthesis, ...]:
    """For each logic with claims: the barriers and enablers its claims tie it to, findings and arguments apart."""
    out = []
    for logic in model.dimensions[spec.LOGICS].terms:
        claims: list[Claim] = [model.claim(k, i) for k, i in logic.findings + logic.arguments]
        if not claims:
            continue
        parts: dict[str, tuple[Outcome, ...]] = {}
        for field in spec.TIES:
            outcomes = []
            by_term: dict[str, list[Claim]] = {}  # one pass over the claims, not one per term (issue #17)
            for c in claims:
                for value in dict.fromkeys(c.codes[field]):
                    by_term.setdefault(value, []).append(c)
            for term in model.dimensions[field].terms:
                tying = by_term.get(term.value, [])
                if not tying:
                    continue
                found = [c for c in tying if c.kind == "finding"]
                argued = [c for c in tying if c.kind == "argument"]
                found_in = tuple(dict.fromkeys(c.study for c in found))
                basis = Counter(b for k in found_in for b in model.studies[k].codes[spec.BASIS])
                outcomes.append(Outcome(
                    field, term, tuple((c.study, c.index) for c in found), tuple((c.study, c.index) for c in argued),
                    found_in, tuple(dict.fromkeys(c.study for c in argued)),
                    tuple(sorted({x for c in found for x in c.codes[spec.COUNTRIES]})),
                    tuple(sorted({x for c in found for x in c.codes[spec.TRADITIONS]})),
                    tuple(sorted(basis.items(), key=lambda kv: (-kv[1], kv[0]))),
                    founding is not None and any(c.study == founding for c in argued)))
            outcomes.sort(key=lambda o: (-len(o.findings), -len(o.arguments), o.term.label))
            parts[field] = tuple(outcomes)
        tying_refs = {r for field in spec.TIES for o in parts[field] for r in o.findings + o.arguments}
        n_findings = sum(1 for k, i in tying_refs if model.claim(k, i).kind == "finding")
        untied = sum(1 for ref in logic.findings if ref not in tying_refs)
        out.append(LogicSynthesis(logic, parts[spec.TIES[0]], parts[spec.TIES[1]], n_findings,
                                  len(tying_refs) - n_findings, untied))
    return tuple(out)
