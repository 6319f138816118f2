"""`evidence agree A B`: how far two independent codings of the same studies agree.

A and B are each a folder of records (`*.yaml`, such as a second coder's copy of
evidence/studies/) or a git revision, whose evidence/studies/ is read. Studies
are paired by key. For every coded dimension the report gives:

- single-valued fields (study type): Cohen's kappa (Cohen 1960), with the
  observed agreement;
- multi-valued fields (logics, barriers, ...): Krippendorff's alpha with the
  MASI distance between sets (Krippendorff 1980; Passonneau 2006), so that a
  partial overlap counts as partial agreement, with the share of studies
  coded identically;
- appraisal: the same alpha over the set of designs and the set of confidence
  levels that each coding gives the study's findings (claims are written
  independently and cannot be paired one to one).

The coefficients come from NLTK's `nltk.metrics.agreement`, whose
implementation follows Artstein & Poesio (2008). An empty list is compared as
the value "(none)", so that two coders who both code nothing agree. Then every
raw disagreement is listed, located to the file and line in each coding.
"""

from __future__ import annotations

import json
import math
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import spec
from .load import STUDIES_DIR, Document, load_yaml

NONE = "(none)"
SINGLE = tuple(f.name for f in spec.dimensions() if f.agreed and f.kind == "term")
MULTIPLE = tuple(f.name for f in spec.dimensions() if f.agreed and f.is_list)
APPRAISAL = tuple(f.key for f in spec.APPRAISAL_FIELDS if f.agreed)
DIMENSIONS = (*SINGLE, *MULTIPLE, *(f"{spec.APPRAISAL}.{a}" for a in APPRAISAL))


class AgreeError(Exception):
    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


@dataclass(frozen=True)
class Disagreement:
    key: str
    dimension: str
    only_a: tuple[str, ...]
    only_b: tuple[str, ...]
    where_a: str  # path:line in coding A
    where_b: str


@dataclass(frozen=True)
class Figure:
    dimension: str
    measure: str  # "Cohen's kappa" or "Krippendorff's alpha (MASI)"
    value: float | None  # None when undefined (no variation)
    identical: int  # studies coded identically
    units: int


@dataclass(frozen=True)
class Report:
    a: str
    b: str
    compared: tuple[str, ...]
    only_in_a: tuple[str, ...]
    only_in_b: tuple[str, ...]
    figures: tuple[Figure, ...]
    disagreements: tuple[Disagreement, ...]


# --- reading the two codings --------------------------------------------------------

def _read_folder(folder: Path, label: str) -> dict[str, Document]:
    out: dict[str, Document] = {}
    for path in sorted(folder.glob("*.yaml")):
        doc, _ = load_yaml(path, f"{label}/{path.name}")
        if doc is not None and isinstance(doc.data, dict):
            out[path.stem] = doc
    return out


def read_coding(root: Path, spec: str) -> dict[str, Document]:
    """The records of a folder, or of evidence/studies/ at a git revision."""
    inside = root / spec
    folder = inside if inside.is_dir() else Path(spec)  # inside the project, or as typed
    if folder.is_dir():
        if (folder / STUDIES_DIR).is_dir():
            folder = folder / STUDIES_DIR
        records = _read_folder(folder, spec.rstrip("/"))
        if not records:
            raise AgreeError(f"'{spec}' holds no records (*.yaml)", "Give a folder of records or a git revision.")
        return records
    from .diff import DiffError, _materialise

    with tempfile.TemporaryDirectory() as tmp:
        try:
            _materialise(root, spec, Path(tmp))
        except DiffError as exc:
            raise AgreeError(f"'{spec}' is neither a folder nor a git revision known here",
                             "Give a folder of records (e.g. a second coder's copy) or a revision "
                             "such as HEAD or origin/main.") from exc
        return _read_folder(Path(tmp) / STUDIES_DIR, f"{spec}:{STUDIES_DIR}")


# --- values and figures --------------------------------------------------------------

def _values(doc: Document, dimension: str) -> tuple[frozenset[str], str]:
    """A coding's set of values for a dimension, and where it stands (path:line)."""
    data = doc.data
    if dimension.startswith("appraisal."):
        part = dimension.split(".", 1)[1]
        claims = data.get(spec.CLAIMS) if isinstance(data.get(spec.CLAIMS), list) else []
        values = set()
        line = doc.at((spec.CLAIMS,))[0]
        for i, claim in enumerate(claims):
            if isinstance(claim, dict) and isinstance(claim.get(spec.APPRAISAL), dict):
                value = claim[spec.APPRAISAL].get(part)
                if isinstance(value, str):
                    values.add(value)
                    line = doc.at((spec.CLAIMS, i, spec.APPRAISAL, part))[0] if len(values) == 1 else line
        return frozenset(values), f"{doc.path}:{line}"
    raw = data.get(dimension)
    items = raw if isinstance(raw, list) else [] if raw is None else [raw]
    return frozenset(str(v) for v in items), f"{doc.path}:{doc.at((dimension,))[0]}"


def _coefficient(triples: list[tuple[str, str, Any]], single: bool) -> float | None:
    from nltk.metrics.agreement import AnnotationTask
    from nltk.metrics.distance import binary_distance, masi_distance

    if len({label for _, _, label in triples}) < 2:
        return None  # every study coded the same way by both: the coefficient is undefined (0/0)
    task = AnnotationTask(data=triples, distance=binary_distance if single else masi_distance)
    try:
        value = task.kappa() if single else task.alpha()
    except ZeroDivisionError:
        return None  # no variation at all: the coefficient is undefined
    return None if math.isnan(value) else float(value)


def compare(a: dict[str, Document], b: dict[str, Document], label_a: str, label_b: str) -> Report:
    keys = tuple(sorted(set(a) & set(b)))
    figures = []
    disagreements = []
    for dimension in DIMENSIONS:
        single = dimension in SINGLE
        triples: list[tuple[str, str, Any]] = []
        identical = 0
        for key in keys:
            va, where_a = _values(a[key], dimension)
            vb, where_b = _values(b[key], dimension)
            if single:
                triples += [("A", key, next(iter(va), NONE)), ("B", key, next(iter(vb), NONE))]
            else:
                triples += [("A", key, va or frozenset({NONE})), ("B", key, vb or frozenset({NONE}))]
            if va == vb:
                identical += 1
            else:
                disagreements.append(Disagreement(key, dimension, tuple(sorted(va - vb)), tuple(sorted(vb - va)),
                                                  where_a, where_b))
        value = _coefficient(triples, single) if keys else None
        measure = "Cohen's kappa" if single else "Krippendorff's alpha (MASI)"
        figures.append(Figure(dimension, measure, value, identical, len(keys)))
    return Report(label_a, label_b, keys, tuple(sorted(set(a) - set(b))), tuple(sorted(set(b) - set(a))),
                  tuple(figures), tuple(disagreements))


def agree(root: Path, spec_a: str, spec_b: str) -> Report:
    return compare(read_coding(root, spec_a), read_coding(root, spec_b), spec_a, spec_b)


# --- output ----------------------------------------------------------------------------

def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _list(values: tuple[str, ...]) -> str:
    return ", ".join(f"`{v}`" for v in values) or "nothing"


def markdown(report: Report) -> str:
    lines = [f"## Agreement between two codings: `{report.a}` and `{report.b}`", "",
             f"{len(report.compared)} studies coded in both."]
    if report.only_in_a or report.only_in_b:
        lines.append(f"Not compared: {_list(report.only_in_a)} (only in A); {_list(report.only_in_b)} (only in B).")
    lines += ["", "| dimension | measure | value | studies coded identically |", "|---|---|---:|---:|"]
    for f in report.figures:
        lines.append(f"| {f.dimension} | {f.measure} | {_number(f.value)} | {f.identical} of {f.units} |")
    lines += ["", "Kappa for single-valued fields (Cohen 1960); Krippendorff's alpha with the MASI set distance for "
              "lists (Passonneau 2006), computed with NLTK. n/a: undefined, because neither coding varies. "
              "An empty list counts as the value (none).", ""]
    lines += ["### Disagreements", ""]
    if not report.disagreements:
        lines.append("None.")
    for d in report.disagreements:
        lines.append(f"- `{d.key}` {d.dimension}: only in A {_list(d.only_a)} ({d.where_a}); "
                     f"only in B {_list(d.only_b)} ({d.where_b})")
    return "\n".join(lines) + "\n"


def as_json(report: Report) -> str:
    return json.dumps({
        "a": report.a, "b": report.b, "compared": list(report.compared),
        "only_in_a": list(report.only_in_a), "only_in_b": list(report.only_in_b),
        "figures": [{"dimension": f.dimension, "measure": f.measure, "value": f.value,
                     "identical": f.identical, "units": f.units} for f in report.figures],
        "disagreements": [{"study": d.key, "dimension": d.dimension, "only_a": list(d.only_a),
                           "only_b": list(d.only_b), "where_a": d.where_a, "where_b": d.where_b}
                          for d in report.disagreements],
    }, indent=2, ensure_ascii=False) + "\n"
