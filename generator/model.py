"""Model: frozen dataclasses for the whole atlas, with every cross-link resolved once.

No I/O here. `build_model` takes the checked records, the codebook and the
bibliography, and returns studies, dimensions and terms with their studies,
findings, counts and co-occurrences, ready for rendering.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import spec
from .codebook import Codebook, country_name
from .csl import csl_item, decode, display_name, family_name
from .load import QUALIFYING_FIELDS, Bibliography, qualified_fields
from .schema import APPRAISAL_FIELDS, CLAIM_LIST_FIELDS
from .screening import Flow, Log, flows

# The dimensions (record fields with term pages, and the derived ones), their roles and order: the spec.
DERIVED = spec.derived_names()  # dimensions computed here, not read from records
# Dimensions whose co-occurrence is worth showing on every term page.
COMPARED = tuple(f.name for f in spec.dimensions() if f.compared)
RELATED_FIELDS = tuple(f.name for f in spec.dimensions() if f.related)
CONFIDENCE_VOCABULARY = spec.by_name()[spec.CONFIDENCE].vocabulary or ""  # orders the derived confidence levels
RELATED_LIMIT = 5
COOCCUR_LIMIT = 8


class Count:
    """A read-only count of one of an object's collections (`n_studies = Count("studies")`): templates
    print counts the model gives and never count for themselves."""

    def __init__(self, attr: str) -> None:
        self.attr = attr

    def __get__(self, obj: object, owner: type | None = None) -> int:
        return len(getattr(obj, self.attr))


# The most entries a term, cell or synthesis page lists of one kind (studies, findings, arguments). A list
# longer than this shows its first entries and says how many more there are, with a link to where all of them
# are (the explorer, or the matrix cell). Every listed study's page holds its claims in full. Without a limit,
# these lists repeat every claim once per term and per pair of terms: at 10,000 studies that was 107 MB of the
# site's 409 MB (issue #17).
LIST_LIMIT = 50
# A matrix cell's "co-coded only" studies (listed with both terms, tied by none of their claims, so not counted
# in the cell) are a note beside its claims, named by author and year: the first ten, then a count and the
# explorer, which lists every study coded with both terms. At 10,000 studies a cell has a median of 60 (issue #17).
CO_CODED_LIMIT = 10


@dataclass(frozen=True)
class Head:
    """The first LIST_LIMIT entries of a list, and how many more it has."""

    shown: tuple[Any, ...]
    more: int


class Shown:
    """The shown head of one of an object's lists (`findings_shown = Shown("findings")`), as Count counts them;
    `limit` names the module's constant that bounds it (read when used, so that tests may lower it)."""

    def __init__(self, attr: str, limit: str = "LIST_LIMIT") -> None:
        self.attr = attr
        self.limit = limit

    def __get__(self, obj: object, owner: type | None = None) -> Head:
        items = tuple(getattr(obj, self.attr))
        n = int(globals()[self.limit])
        return Head(items[:n], max(0, len(items) - n))


class Listed:
    """Counts and shown heads of an object's `studies`, `findings` and `arguments` (a term, a matrix cell)."""

    n_studies = Count("studies")
    n_findings = Count("findings")
    n_arguments = Count("arguments")
    studies_shown = Shown("studies")
    findings_shown = Shown("findings")
    arguments_shown = Shown("arguments")


CLAIM_KINDS = ("finding", "argument")  # the order claims are counted and shown in


@dataclass(frozen=True)
class Appraisal:
    design: str
    reporting: str
    transparency: str
    confidence: str
    reason: str


@dataclass(frozen=True)
class Claim:
    study: str
    index: int  # 1-based, as shown and used in anchors (#finding-N, #argument-N)
    kind: str  # "finding" or "argument" (codebook: claim_kinds)
    claim: str
    locator: str
    codes: dict[str, tuple[str, ...]]  # CLAIM_LIST_FIELDS, derived traditions and confidence
    appraisal: Appraisal | None = None  # findings only

    @property
    def label(self) -> str:
        return f"{self.kind.capitalize()} {self.index}"

    @property
    def anchor(self) -> str:
        """The heading's id as Markdown's toc makes it from the label ('Finding 2' -> 'finding-2')."""
        return f"{self.kind}-{self.index}"


@dataclass(frozen=True)
class Source:
    url: str
    kind: str
    note: str


@dataclass(frozen=True)
class Study:
    key: str
    title: str
    authors: tuple[str, ...]  # display names, "Given Family"
    author_families: tuple[str, ...]
    year: str
    entry_type: str
    container: str
    doi: str | None
    summary: str
    coding_note: str
    codes: dict[str, tuple[str, ...]]  # field -> slugs (countries as ISO codes); traditions derived
    claims: tuple[Claim, ...]
    csl: dict[str, Any]
    bib_fields: dict[str, str]  # as stored in references.bib less the qualifying fields, for exports
    record_path: str
    sources: tuple[Source, ...] = ()
    unconfirmed: tuple[str, ...] = ()  # BibTeX fields kept as printed, confirmed by no source
    doubtful: tuple[str, ...] = ()  # of those, the ones probably wrong (kept out of citation metadata)
    corrected: bool = False  # evidence/CORRECTIONS.md has an entry for it
    related: tuple[tuple[str, int], ...] = ()  # (study key, shared codes), best first

    @property
    def findings(self) -> tuple[Claim, ...]:
        return tuple(c for c in self.claims if c.kind == "finding")

    @property
    def arguments(self) -> tuple[Claim, ...]:
        return tuple(c for c in self.claims if c.kind == "argument")

    n_findings = Count("findings")
    n_arguments = Count("arguments")
    n_unconfirmed = Count("unconfirmed")
    n_doubtful = Count("doubtful")
    @property
    def short_cite(self) -> str:
        fam = self.author_families
        who = fam[0] if len(fam) == 1 else f"{fam[0]} & {fam[1]}" if len(fam) == 2 else f"{fam[0]} et al." if fam else "Anon."
        return f"{who} ({self.year})"


@dataclass(frozen=True)
class Term(Listed):
    dimension: str  # record field, e.g. "logics"
    section: str  # URL section, e.g. "logics"
    slug: str  # URL part; lowercase ISO code for countries
    value: str  # the value as stored in records (ISO code upper-case for countries)
    label: str
    definition: str
    source: str | None
    studies: tuple[str, ...]
    findings: tuple[tuple[str, int], ...]  # (study key, claim index) of the claims of kind finding
    arguments: tuple[tuple[str, int], ...]  # (study key, claim index) of the claims of kind argument
    cooccurs: dict[str, tuple[tuple[str, int], ...]]  # dimension -> ((value, count), ...)
    # a country's administrative tradition (its slug, or "" where the codebook assigns none); None for other terms
    tradition: str | None = None


@dataclass(frozen=True)
class Dimension:
    field: str
    section: str
    title: str
    description: str
    terms: tuple[Term, ...]

    def term(self, value: str) -> Term:
        for t in self.terms:
            if t.value == value:
                return t
        raise KeyError(value)


@dataclass(frozen=True)
class Model:
    studies: dict[str, Study]  # sorted by key
    dimensions: dict[str, Dimension]  # field -> dimension
    codebook: Codebook
    years: tuple[int, int] | None
    screening: tuple[Log, ...] = ()  # the screening logs, in file order
    flows: tuple[Flow, ...] = ()  # PRISMA-style counts per route
    specs: tuple[spec.Field, ...] = spec.dimensions()  # the dimensions shown, in display order

    def term(self, field: str, value: str) -> Term:
        return self.dimensions[field].term(value)

    n_studies = Count("studies")
    @property
    def by_first_author(self) -> tuple[str, ...]:
        """The study keys ordered by their authors' family names (then by key)."""
        return tuple(sorted(self.studies, key=lambda k: (self.studies[k].author_families, k)))

    def claim(self, key: str, index: int) -> Claim:
        return self.studies[key].claims[index - 1]

    def nav(self) -> list[tuple[str, str, str]]:
        """(nav place, label, index page) of each dimension: top-level entries are named by their URL section
        ('Logics'), the others by their vocabulary's title."""
        return [(f.nav, f.section.replace("-", " ").capitalize() if f.nav == "top" else self.dimensions[f.name].title,
                 f"{f.section}/index.md") for f in self.specs if f.section]

    def figures(self) -> dict[str, Any]:
        """The headline figures of the home page."""
        return {
            "studies": len(self.studies),
            "empirical": sum(1 for s in self.studies.values() if spec.EMPIRICAL in s.codes[spec.STUDY_TYPE]),
            "findings": sum(len(s.findings) for s in self.studies.values()),
            "arguments": sum(len(s.arguments) for s in self.studies.values()),
            "n_countries": len(self.dimensions[spec.COUNTRIES].terms),
            "n_sectors": sum(1 for t in self.dimensions[spec.SECTORS].terms if t.studies),
            "years": self.years,
        }

    def confidence_counts(self, refs: Iterable[tuple[str, int]]) -> tuple[tuple[str, int], ...]:
        """How many of these findings have each confidence level (codebook order), then the unappraised."""
        appraisals = (self.claim(k, i).appraisal for k, i in refs)
        counts = Counter(a.confidence if a is not None else "" for a in appraisals)
        vocab = self.codebook.vocabularies.get(CONFIDENCE_VOCABULARY)
        order = [(t.label.removesuffix(" confidence").lower(), t.slug) for t in vocab.terms.values()] if vocab else []
        out = tuple((label, counts[slug]) for label, slug in order if counts[slug])
        return out + ((("not appraised", counts[""]),) if counts[""] else ())


_YEAR = re.compile(r"\d{4}")


def _as_tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, list):
        # a checked record's lists hold text; the values are made text all the same, one by one only if needed
        return tuple(value) if all(type(v) is str for v in value) else tuple(map(str, value))
    return (str(value),)


def _clean(text: Any) -> str:
    return " ".join(str(text or "").split())


def build_model(records: dict[str, dict[str, Any]], codebook: Codebook, bib: Bibliography,
                record_paths: dict[str, str], corrected: frozenset[str] = frozenset(),
                screening: tuple[Log, ...] = ()) -> Model:
    specs = spec.dimensions(codebook)
    tradition_of = codebook.tradition_of()
    confidence_vocab = codebook.vocabularies.get(CONFIDENCE_VOCABULARY)
    confidence_order = confidence_vocab.slugs if confidence_vocab else []
    made: dict[str, dict[str, Any]] = {}  # key -> the fields of its Study but the related studies
    coded_fields = [f.name for f in specs if f.kind != "derived"]
    for key in sorted(records):
        data = records[key]
        entry = bib.entries[key]
        codes = {name: _as_tuple(data.get(name)) for name in coded_fields}
        codes[spec.TRADITIONS] = tuple(sorted({tradition_of[c] for c in codes[spec.COUNTRIES] if c in tradition_of}))
        claims = []
        for i, c in enumerate(data.get(spec.CLAIMS) or [], 1):
            claim_codes = {name: _as_tuple(c.get(name)) for name in CLAIM_LIST_FIELDS}
            claim_codes[spec.TRADITIONS] = tuple(sorted({tradition_of[x] for x in claim_codes[spec.COUNTRIES]
                                                         if x in tradition_of}))
            raw = c.get(spec.APPRAISAL)
            appraisal = Appraisal(**{f: str(raw[f]) for f in APPRAISAL_FIELDS}, reason=_clean(raw[spec.REASON])) \
                if isinstance(raw, dict) and c[spec.KIND] == "finding" else None
            claim_codes[spec.CONFIDENCE] = (appraisal.confidence,) if appraisal else ()
            claims.append(Claim(key, i, str(c[spec.KIND]), _clean(c[spec.CLAIM]), _clean(c[spec.LOCATOR]), claim_codes,
                                appraisal))
        levels = {x for claim in claims for x in claim.codes[spec.CONFIDENCE]}
        codes[spec.CONFIDENCE] = tuple(t for t in confidence_order if t in levels)
        sources = tuple(Source(str(x[spec.URL]).strip(), str(x[spec.KIND]), _clean(x[spec.NOTE]))
                        for x in data.get(spec.SOURCES) or [])
        unconfirmed = qualified_fields(entry.fields, "unconfirmed")
        doubtful = qualified_fields(entry.fields, "doubtful")
        csl = bib.csl.get(key) or csl_item(entry)  # worked out while the records were read (load.py)
        # the names as csl_item parsed them (a second parse cost a second at 10,000 studies)
        names = csl["author"] if entry.fields.get("author") else csl["editor"] if entry.fields.get("editor") else []
        year = _YEAR.search(entry.fields.get("year", ""))
        made[key] = dict(
            key=key,
            title=decode(entry.fields.get("title", key)),
            authors=tuple(display_name(n) for n in names),
            author_families=tuple(family_name(n) for n in names),
            year=year.group() if year else "n.d.",
            entry_type=entry.entry_type,
            container=decode(entry.fields.get("journal") or entry.fields.get("booktitle") or
                             entry.fields.get("eventtitle") or entry.fields.get("publisher") or ""),
            doi=entry.fields.get("doi", "").strip() or None,
            summary=_clean(data.get(spec.SUMMARY)),
            coding_note=_clean(data.get(spec.CODING_NOTE)),
            codes=codes,
            claims=tuple(claims),
            csl=csl,
            bib_fields={k: v for k, v in entry.fields.items() if k not in QUALIFYING_FIELDS},
            record_path=record_paths[key],
            sources=sources,
            unconfirmed=tuple(dict.fromkeys(unconfirmed + doubtful)),
            doubtful=doubtful,
            corrected=key in corrected,
        )
    columns, counts = _code_matrix([m["codes"] for m in made.values()],
                                   dict.fromkeys((*(f.name for f in specs), *COMPARED, *RELATED_FIELDS)))
    # each Study made once, with its related studies (a copy of 10,000 studies to add them cost 0.1 s)
    studies = {key: Study(**fields, related=related)
               for (key, fields), related in zip(made.items(), _related(list(made), columns, counts), strict=True)}
    coded = _where_coded(studies, columns, counts)
    cooccurs = _cooccurrences(columns, counts)
    dimensions = {f.name: _dimension(f, codebook, studies, tradition_of, coded, cooccurs) for f in specs}
    years = sorted(int(s.year) for s in studies.values() if s.year.isdigit())
    labels = {"search": "The protocol's search"}
    labels.update({f"review:{log.review}": f"Review: {studies[log.review].short_cite}"
                   for log in screening if log.review in studies})
    return Model(studies, dimensions, codebook, (years[0], years[-1]) if years else None, screening,
                 flows(screening, codebook, set(studies), labels), specs)


def _code_matrix(coded: list[dict[str, tuple[str, ...]]], fields: Iterable[str]) -> tuple[list[tuple[str, str]], np.ndarray]:
    """The study-by-code matrix: how often each (field, value) is coded on each study (rows in the order of
    the studies' codes, `coded`; columns sorted, so a field's values are side by side in their sorted order)."""
    fields = tuple(fields)
    codes = sorted({(f, v) for s in coded for f in fields for v in s[f]})
    column = {c: j for j, c in enumerate(codes)}
    rows, cols = [], []
    for i, s in enumerate(coded):
        for f in fields:
            for v in s[f]:
                rows.append(i)
                cols.append(column[(f, v)])
    matrix = np.zeros((len(coded), max(len(codes), 1)), dtype=np.float32)
    np.add.at(matrix, (np.array(rows, dtype=np.intp), np.array(cols, dtype=np.intp)), 1.0)
    return codes, matrix


def _related(keys: list[str], codes: list[tuple[str, str]], counts: np.ndarray) -> list[tuple[tuple[str, int], ...]]:
    """Each study's related studies, in the order of `keys` (sorted): they share codes; rank by how many, then
    by key for stable output.

    The shared counts are a product of the study-by-code matrix with itself, done in blocks with
    numpy: walking the studies that share each code is quadratic when codes are common (a logic
    coded on half of 10,000 studies). The best of each row are taken by `argmax`, which returns the
    first of equal counts, so the lowest key (the keys are sorted) wins a tie, as the ranking says;
    a count is at most a study's number of codes, so the rows are scanned as bytes.
    """
    # the keys are sorted, so index order breaks ties by key
    matrix = (counts[:, [j for j, (f, _) in enumerate(codes) if f in RELATED_FIELDS]] > 0).astype(np.float32)
    small = np.min_scalar_type(int(matrix.sum(axis=1).max(initial=0)))  # shared codes fit in this unsigned type
    related: dict[str, tuple[tuple[str, int], ...]] = {}
    for start in range(0, len(keys), 512):
        block = (matrix[start:start + 512] @ matrix.T).astype(small)  # shared codes, exact for these small integers
        rows = np.arange(len(block))
        block[rows, rows + start] = 0  # a study is not related to itself
        picks, shared = [], []
        for _ in range(RELATED_LIMIT):
            best = block.argmax(axis=1)
            picks.append(best)
            shared.append(block[rows, best])
            block[rows, best] = 0
        for r, (js, ns) in enumerate(zip(np.array(picks).T.tolist(), np.array(shared).T.tolist(), strict=True)):
            related[keys[start + r]] = tuple((keys[j], n) for j, n in zip(js, ns, strict=True) if n > 0)
    return [related[key] for key in keys]


Cooccurs = dict[str, tuple[tuple[str, int], ...]]  # compared dimension -> ((value, count), ...), most often first


def _where_coded(studies: dict[str, Study], codes: list[tuple[str, str]],
                 counts: np.ndarray) -> tuple[dict[tuple[str, str], tuple[str, ...]], dict[tuple[str, str], list[Claim]]]:
    """For each (field, value): the studies coded with it (a column of the matrix) and the claims coded with it,
    each in the order of the studies and of their claims; one pass for every dimension, not one per term."""
    keys = list(studies)
    by_code = np.ascontiguousarray(counts.T)
    having = {c: tuple(keys[i] for i in np.flatnonzero(by_code[j]).tolist()) for j, c in enumerate(codes)}
    claims: dict[tuple[str, str], list[Claim]] = {}
    for s in studies.values():
        for c in s.claims:
            for field, values in c.codes.items():
                for value in dict.fromkeys(values):
                    claims.setdefault((field, value), []).append(c)
    return having, claims


def _cooccurrences(codes: list[tuple[str, str]], counts: np.ndarray) -> dict[tuple[str, str], Cooccurs]:
    """For each coded (field, value), the values of the compared dimensions coded most often on the same studies.

    One product of the study-by-code matrix with itself, rather than a count over each term's studies
    (140 terms by 10,000 studies at scale). Counts are float32 sums of small integers: exact below 2**24.
    """
    compared = [j for j, (f, _) in enumerate(codes) if f in COMPARED]
    together = ((counts > 0).astype(np.float32).T @ counts[:, compared]).astype(np.int64) if compared else None
    spans = {d: [(c, codes[j][1]) for c, j in enumerate(compared) if codes[j][0] == d] for d in COMPARED}
    out: dict[tuple[str, str], Cooccurs] = {}
    for a, (field, value) in enumerate(codes):
        row = together[a].tolist() if together is not None else []
        per: Cooccurs = {}
        for d in COMPARED:
            if d != field:
                found = [(v, row[c]) for c, v in spans[d] if row[c]]
                per[d] = tuple(sorted(found, key=lambda kv: (-kv[1], kv[0]))[:COOCCUR_LIMIT])
        out[(field, value)] = per
    return out


def _dimension(f: spec.Field, codebook: Codebook, studies: dict[str, Study],
               tradition_of: dict[str, str],
               coded: tuple[dict[tuple[str, str], tuple[str, ...]], dict[tuple[str, str], list[Claim]]],
               cooccurs: dict[tuple[str, str], Cooccurs]) -> Dimension:
    field, section, vocab_name = f.name, f.section or f.name, f.vocabulary
    if f.kind == "iso-countries":  # the ones used, named by ISO 3166 through pycountry
        used = sorted({c for s in studies.values() for c in s.codes[field]}, key=country_name)
        values: list[tuple[str, str, str, str, str | None]] = [(c, c.lower(), country_name(c), "", None) for c in used]
        title = "Countries"
        description = ("The countries that the studies in the atlas examined, coded as ISO 3166-1 alpha-2 codes. "
                       "Each country belongs to one administrative tradition, so that countries can be compared "
                       "in groups.")
    else:
        vocab = codebook.vocabularies[vocab_name or field]
        values = [(t.slug, t.slug, t.label, t.definition, t.source) for t in vocab.terms.values()]
        title, description = vocab.title, vocab.description
    having_of, claims_of = coded
    terms = []
    for value, slug, label, definition, source in values:
        having = having_of.get((field, value), ())
        claims = claims_of.get((field, value), [])
        findings = tuple((c.study, c.index) for c in claims if c.kind == "finding")
        arguments = tuple((c.study, c.index) for c in claims if c.kind == "argument")
        tradition = tradition_of.get(value, "") if f.kind == "iso-countries" else None
        together = cooccurs.get((field, value)) or {d: () for d in COMPARED if d != field}
        terms.append(Term(field, section, slug, value, label, " ".join(definition.split()), source,
                          having, findings, arguments, together, tradition))
    return Dimension(field, section, title, " ".join(description.split()), tuple(terms))
