"""Screening logs (evidence/screening/*.yaml): checked against the records, and counted as a flow.

Each log lists every candidate one route into the atlas produced (a batch of the
protocol's search queries, or the included studies of one review) with the
decision taken on it. `check_screening` validates the logs and ties them to the
records: every included candidate has a record, every record that came by the
search or a review appears as included in a log of its route, and no work is
included twice (same DOI or same title once normalised). `flows` counts each
route the way a PRISMA flow diagram does.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from typing import Any

from . import spec
from .codebook import Codebook
from .diagnostics import C, Diagnostic, diagnostic
from .load import Document, Loaded
from .schema import screening_schema
from .validate import Validator, schema_diagnostics  # the one translator of jsonschema errors


@dataclass(frozen=True)
class Candidate:
    log: str  # the log's file stem
    query: str  # query id (search) or "" (review)
    rank: int
    url: str
    title: str
    citation: str
    doi: str
    decision: str  # included | excluded | deferred
    reason: str  # exclusion reason slug, or ""
    key: str  # record key when included
    note: str


@dataclass(frozen=True)
class Log:
    name: str
    path: str
    route: str  # search | review
    run: str
    where: str
    review: str  # the review's record key (review route)
    queries: dict[str, str]
    candidates: tuple[Candidate, ...]


@dataclass(frozen=True)
class Flow:
    route: str
    label: str  # e.g. "The protocol's search" or "Review: Acar et al. (2023)"
    identified: int
    duplicates: int
    screened: int
    excluded: tuple[tuple[str, int], ...]  # (reason slug, count), in the vocabulary's order
    included: int
    coded: int  # included and published as a record
    deferred: int

    @property
    def excluded_total(self) -> int:
        return sum(n for _, n in self.excluded)


def normalised_title(title: str) -> str:
    """A title reduced for duplicate detection: accents, case, punctuation and spacing ignored."""
    text = unicodedata.normalize("NFKD", title)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return " ".join(re.findall(r"[a-z0-9]+", text))


def _text(value: Any) -> str:
    return " ".join(str(value).split()) if value is not None else ""


def check_screening(loaded: Loaded, codebook: Codebook, diags: list[Diagnostic]) -> tuple[Log, ...]:

    validator = Validator(screening_schema(codebook))

    readable: list[Log] = []  # logs of the right shape: tied to the records even if an entry is incomplete
    good: list[Log] = []
    for name, doc in sorted(loaded.screening.items()):
        found = schema_diagnostics(doc, validator)
        diags.extend(found)
        if found or not isinstance(doc.data, dict):
            continue
        problems = _rules(doc)
        diags.extend(problems)
        readable.append(_log(name, doc))
        if not problems:
            good.append(readable[-1])
    _tie_to_records(loaded, readable, diags)
    _duplicates(loaded, readable, diags)
    return tuple(good)


def _rules(doc: Document) -> list[Diagnostic]:
    data = doc.data
    out = []
    queries = data.get("queries") or {}
    if data["route"] == "search" and not queries:
        out.append(diagnostic(C.SCREENING_INCOMPLETE, doc.path, 1, 1, "a search log lists no queries",
                              "Add 'queries:' with each query's id and text, as in the protocol."))
    if data["route"] == "review" and not data.get("review"):
        out.append(diagnostic(C.SCREENING_INCOMPLETE, doc.path, 1, 1, "a review log does not name its review",
                              "Add 'review:' with the review's record key."))
    for i, c in enumerate(data["candidates"]):
        line, col = doc.at(("candidates", i))
        what = f"candidates[{i}] ({_text(c.get('title'))[:60]})"
        if c["decision"] == "excluded" and not c.get("reason"):
            out.append(diagnostic(C.SCREENING_INCOMPLETE, doc.path, line, col, f"{what} is excluded without a reason",
                                  "Add 'reason:' with the first exclusion reason that applies."))
        if c["decision"] == "included" and not c.get("key"):
            out.append(diagnostic(C.SCREENING_INCOMPLETE, doc.path, line, col, f"{what} is included without a key",
                                  "Add 'key:' with the BibTeX key of its record."))
        if c["decision"] == "deferred" and not c.get("note"):
            out.append(diagnostic(C.SCREENING_INCOMPLETE, doc.path, line, col, f"{what} is deferred without a note",
                                  "Add 'note:' saying what is missing before it can be coded."))
        if data["route"] == "search" and c.get("query") not in queries:
            qline, qcol = doc.at(("candidates", i, "query"))
            out.append(diagnostic(C.SCREENING_INCOMPLETE, doc.path, qline, qcol,
                                  f"{what} names query '{c.get('query')}', which the log's queries do not list",
                                  "Use one of the query ids under 'queries:'."))
    return out


def _log(name: str, doc: Document) -> Log:
    data = doc.data
    candidates = tuple(
        Candidate(name, _text(c.get("query")), int(c["rank"]), _text(c.get("url")), _text(c["title"]),
                  _text(c.get("citation")), _text(c.get("doi")), c["decision"], _text(c.get("reason")),
                  _text(c.get("key")), _text(c.get("note")))
        for c in data["candidates"])
    return Log(name, doc.path, data["route"], _text(data["run"]), _text(data["where"]), _text(data.get("review")),
               {str(k): _text(v) for k, v in (data.get("queries") or {}).items()}, candidates)


def _tie_to_records(loaded: Loaded, logs: list[Log], diags: list[Diagnostic]) -> None:
    included: dict[str, set[str]] = {}  # record key -> routes whose logs include it
    for log in logs:
        doc = loaded.screening[log.name]
        if log.review:
            included.setdefault(log.review, set()).add(log.route)  # the review itself entered by its route
        if log.review and log.review not in loaded.record_paths:
            line, col = doc.at(("review",))
            diags.append(diagnostic(C.SCREENING_UNKNOWN_RECORD, log.path, line, col,
                                    f"the review '{log.review}' has no record in evidence/studies/",
                                    "Give the review a record (and a BibTeX entry) of its own."))
        for i, c in enumerate(log.candidates):
            if c.decision != "included":
                continue
            included.setdefault(c.key, set()).add(log.route)
            if c.key not in loaded.record_paths:
                line, col = doc.at(("candidates", i, "key"))
                diags.append(diagnostic(C.SCREENING_UNKNOWN_RECORD, log.path, line, col,
                                        f"included candidate '{c.key}' has no record in evidence/studies/",
                                        "Write its record (`evidence new KEY`), or correct the key."))
    for key, doc in sorted(loaded.records.items()):
        route = doc.data.get(spec.ROUTE) if isinstance(doc.data, dict) else None
        if route not in ("search", "review"):
            continue
        if route not in included.get(key, set()):
            line, col = doc.at((spec.ROUTE,))
            diags.append(diagnostic(C.SCREENING_ROUTE, doc.path, line, col,
                                    f"'{key}' came by the {route} route, but no {route} screening log includes it",
                                    "Log the candidate as included in its screening log, or correct the route."))


def _duplicates(loaded: Loaded, logs: list[Log], diags: list[Diagnostic]) -> None:
    seen: dict[tuple[str, str], tuple[str, int, str]] = {}  # identity -> (log, index, key)
    for log in logs:
        doc = loaded.screening[log.name]
        for i, c in enumerate(log.candidates):
            if c.decision != "included":
                continue
            identities = [("title", normalised_title(c.title))]
            if c.doi:
                identities.append(("doi", c.doi.lower()))
            for identity in identities:
                if identity in seen:
                    first_log, first_i, first_key = seen[identity]
                    line, col = doc.at(("candidates", i))
                    diags.append(diagnostic(C.SCREENING_DUPLICATE, log.path, line, col,
                                            f"'{c.key}' is included again: the same {identity[0]} as '{first_key}' "
                                            f"in {first_log} (candidates[{first_i}])",
                                            "Exclude the later one with reason 'duplicate', naming the first in "
                                            "its note."))
                    break
                seen.setdefault(identity, (log.name, i, c.key))


def flows(logs: tuple[Log, ...], codebook: Codebook, records: set[str], labels: dict[str, str]) -> tuple[Flow, ...]:
    """PRISMA-style counts per route (search logs are added together; each review is its own route)."""
    groups: dict[str, list[Log]] = {}
    for log in logs:
        groups.setdefault("search" if log.route == "search" else f"review:{log.review}", []).append(log)
    vocab = codebook.vocabularies.get("exclusion_reasons")
    order = vocab.slugs if vocab else []
    out = []
    for group, members in sorted(groups.items(), key=lambda kv: (kv[0] != "search", kv[0])):
        cands = [c for log in members for c in log.candidates]
        reasons = Counter(c.reason for c in cands if c.decision == "excluded")
        duplicates = reasons.pop("duplicate", 0)
        included = [c for c in cands if c.decision == "included"]
        out.append(Flow(
            route=members[0].route, label=labels.get(group, group),
            identified=len(cands), duplicates=duplicates, screened=len(cands) - duplicates,
            excluded=tuple((r, reasons[r]) for r in order if reasons.get(r)),
            included=len(included) + sum(1 for c in cands if c.decision == "deferred"),
            coded=sum(1 for c in included if c.key in records),
            deferred=sum(1 for c in cands if c.decision == "deferred")))
    return tuple(out)
