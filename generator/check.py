"""Check: schema, vocabulary, bibliography and cross-record checks, all in one pass.

Records and codebook files are validated with jsonschema against schemas built
from the codebook; each jsonschema error is turned into a located diagnostic
that says how to fix it.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from . import forked, spec
from .check_bib import _check_bibliography, bibliography_diagnostics
from .codebook import (
    META_SCHEMA,
    REQUIRED_VOCABULARIES,
    SLUG_PATTERN,
    Codebook,
    country_code_set,
    suggest_country,
    vocabulary_from_data,
)
from .diagnostics import C, Diagnostic, diagnostic, did_you_mean, nearest, suggestions
from .load import (
    CORRECTIONS_FILE,
    Bibliography,
    Document,
    Loaded,
    collector_paused,
    confusables,
    locate,
    skeleton,
)
from .schema import ARGUMENT_ONLY_TYPES, CLAIM_LIST_FIELDS, record_schema
from .screening import Log, check_screening
from .validate import Validator, describe, schema_diagnostics

if TYPE_CHECKING:  # jsonschema takes ~0.15 s to import, and is needed only when a file is invalid
    pass

KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def key_problem(key: str) -> tuple[str, str] | None:
    """The rule for a record's key (its file name and BibTeX key), shared by `check` and `new`:
    (message, hint) when the key breaks it."""
    if KEY_PATTERN.match(key):
        return None
    lookalikes = confusables(key)
    suggestion = re.sub(r"[^a-z0-9_-]", "", skeleton(key)).lstrip("-_")
    message = f"'{key}' is not a valid key (lowercase letters, digits, '-' and '_', starting with a letter or digit)"
    hint = f"Rename the file and its BibTeX key, e.g. to '{suggestion or 'surname2020'}'."
    if lookalikes:
        hint = "The key has a look-alike character: " + "; ".join(lookalikes) + "; retype it in ASCII. " + hint
    return message, hint


class KeyIndex:
    """Bibliography keys indexed once for suggestions: look-alike keys by skeleton, near keys by
    shared letter pairs and triples (difflib over 7,000 keys for every unknown key took most of a
    check). Pairs held by very many keys (the '20' of every year) say little and are skipped.
    The index is built at the first suggestion: a clean base needs none."""

    SHORTLIST = 100

    def __init__(self, keys: list[str]) -> None:
        self.keys = keys

    @cached_property
    def by_skeleton(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for key in self.keys:
            out.setdefault(skeleton(key), key)
        return out

    @cached_property
    def by_gram(self) -> dict[str, list[int]]:
        postings: dict[str, list[int]] = {}
        for i, key in enumerate(self.keys):
            for gram in self._grams(skeleton(key)):
                postings.setdefault(gram, []).append(i)
        common = max(200, len(self.keys) // 10)
        return {gram: ids for gram, ids in postings.items() if len(ids) <= common}

    @staticmethod
    def _grams(folded: str) -> set[str]:
        padded = f"^{folded}$"
        return {padded[i:i + size] for size in (2, 3) for i in range(len(padded) - size + 1)}

    def lookalike(self, key: str) -> str | None:
        """A key that differs from this one only by case or look-alike characters."""
        found = self.by_skeleton.get(skeleton(key))
        return found if found is not None and found != key else None

    def near(self, key: str, n: int = 3, cutoff: float = 0.6) -> list[str]:
        counts: Counter[int] = Counter()
        for gram in self._grams(skeleton(key)):
            counts.update(self.by_gram.get(gram, ()))
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:self.SHORTLIST]
        return suggestions(key, [self.keys[i] for i, _ in ranked], n=n, cutoff=cutoff)

    def hint(self, key: str, n: int = 3) -> str:
        """'Did you mean ...?' with a look-alike key named first."""
        twin = self.lookalike(key)
        if twin is not None:
            chars = confusables(twin + key)
            return (f"references.bib has '{twin}', which differs from '{key}' only by "
                    + ("look-alike characters: " + "; ".join(chars) if chars else "case") + ". ")
        guess = self.near(key, n=n)
        return did_you_mean(*guess) + " " if guess else ""


_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_HTTPS_OR_EMPTY = r"^(https://\S+)?$"
# Patterns are described to contributors in words, never shown as regular expressions.
_DATE_WORDS = {"x-pattern-words": "a date in the form YYYY-MM-DD, in quotes", "x-example": '"2026-12-01"'}
_VERSION_WORDS = {"x-pattern-words": "a version number in the form MAJOR.MINOR.PATCH", "x-example": "0.2.0"}
_HTTPS_WORDS = {"x-pattern-words": "an address starting with https://, or empty", "x-example": '"https://example.org/atlas/"'}
DATASET_SCHEMA: dict[str, Any] = {
    "type": "object", "additionalProperties": False,
    "required": ["title", "version", "released", "licence", "site_url", "repository"],
    "properties": {
        "title": {"type": "string", "minLength": 1},
        "version": {"type": "string", "pattern": r"^[0-9]+\.[0-9]+\.[0-9]+$", **_VERSION_WORDS},
        "released": {"type": "string", "pattern": _DATE, **_DATE_WORDS},
        "licence": {"type": "string", "minLength": 1},
        "site_url": {"type": "string", "pattern": _HTTPS_OR_EMPTY, **_HTTPS_WORDS},
        "repository": {"type": "string", "pattern": _HTTPS_OR_EMPTY, **_HTTPS_WORDS},
        "founding_study": {"type": "string", "minLength": 1},
    },
}
CHANGES_SCHEMA: dict[str, Any] = {
    "type": "array",
    "items": {
        "type": "object", "additionalProperties": False,
        "required": ["version", "date", "note", "added", "recoded"],
        "properties": {
            "version": {"type": "string", "pattern": r"^[0-9]+\.[0-9]+\.[0-9]+$", **_VERSION_WORDS},
            "date": {"type": "string", "pattern": _DATE, **_DATE_WORDS},
            "note": {"type": "string", "minLength": 1},
            "added": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
            "recoded": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
        },
    },
}


@dataclass(frozen=True)
class Checked:
    codebook: Codebook
    records: dict[str, dict[str, Any]]  # records that passed every check
    diagnostics: list[Diagnostic]
    dataset: dict[str, Any]
    changes: list[dict[str, Any]]
    corrected: frozenset[str] = frozenset()  # keys with an anchor in evidence/CORRECTIONS.md
    screening: tuple[Log, ...] = ()  # screening logs that passed their checks


# An entry in evidence/CORRECTIONS.md is marked with an anchor that study pages link to.
CORRECTION_ANCHOR = re.compile(r'<a id="([^"]*)"></a>')


def check(loaded: Loaded) -> Checked:
    with collector_paused():
        return _check(loaded)


def check_codebook(loaded: Loaded) -> tuple[Codebook, list[Diagnostic]]:
    """The codebook alone, with its diagnostics: for the commands that need only the vocabularies."""
    diags: list[Diagnostic] = [d for d in loaded.diagnostics if d.path.startswith("evidence/codebook/")]
    codebook = _check_codebook(loaded, diags, KeyIndex(list(loaded.bib.entries)))
    return codebook, diags


def _check(loaded: Loaded) -> Checked:
    diags = list(loaded.diagnostics)
    index = KeyIndex(list(loaded.bib.entries))  # built once for every did-you-mean
    codebook = _check_codebook(loaded, diags, index)
    validator = Validator(record_schema(codebook))
    placed = set(codebook.tradition_of()) | set(codebook.unassigned_countries())
    allowed = _claim_terms(codebook)
    good: dict[str, dict[str, Any]] = {}
    keys = sorted(loaded.record_paths)
    split = len(keys) * 3 // 5
    elsewhere = (forked.Forked(_elsewhere, keys[split:], loaded, validator, codebook, placed, index, allowed,
                               loaded.bib_checked is None)
                 if len(keys) >= PARALLEL_RECORDS and forked.available() else None)
    clean: frozenset[str] = frozenset()
    # checked where it was parsed (load_project's bib_check), or by the process below; None: checked here
    bib_found: list[Diagnostic] | None = loaded.bib_checked
    for n, key in enumerate(keys):
        if elsewhere is not None and n == split:
            clean, bib_found = _answer(elsewhere, bib_found)
            elsewhere = None
        doc = loaded.records.get(key)
        if doc is None:
            continue
        if key in clean:  # the second process found nothing to say about it
            good[key] = doc.data
            continue
        found = _check_record(key, doc, validator, codebook, loaded.bib, placed, index, allowed)
        if found and doc.origin is not None:
            # read by the fast path: report from the located loader's reading, exactly as without it
            located, load_found = locate(doc)
            diags.extend(load_found)
            if located is None:
                continue
            doc = loaded.records[key] = located
            found = _check_record(key, doc, validator, codebook, loaded.bib, placed, index, allowed)
        diags.extend(found)
        if not any(d.severity.value == "error" for d in found):
            good[key] = doc.data
    if elsewhere is not None:  # no record from the split on (a base without records): only the bibliography
        _, bib_found = _answer(elsewhere, bib_found)
    if bib_found is None:
        _check_bibliography(loaded.bib, diags)
    else:
        diags.extend(bib_found)
    _check_unused(loaded, codebook, diags)
    dataset, changes = _check_meta(loaded, diags)
    corrected = _check_corrections(loaded, diags)
    logs = check_screening(loaded, codebook, diags)
    return Checked(codebook, good, diags, dataset, changes, corrected, logs)


def _answer(elsewhere: forked.Forked, bib_found: list[Diagnostic] | None) -> tuple[frozenset[str], list[Diagnostic] | None]:
    """The second process's clean keys, and the bibliography's diagnostics: its own, or `bib_found` (those
    worked out already, or None) where it was not asked for them or failed. If it failed, no key is clean:
    every record is checked here, and the bibliography too unless `bib_found` holds its diagnostics."""
    out = elsewhere.result()
    if out is None:
        return frozenset(), bib_found
    return frozenset(out[0]), out[1] if out[1] is not None else bib_found


# From this many records, a forked process checks the bibliography's entries and the last two fifths of
# the records while this one checks the rest (together about 0.9 s of a 10,000-record check on one core).
# For the records, it only says which are clean, with no diagnostic at all; every other record is checked
# here again, in order, so that the diagnostics, their order and the records kept are exactly those of a
# check in one process. The bibliography's diagnostics are its own, as _check_bibliography gives them.
PARALLEL_RECORDS = 2000


def _elsewhere(keys: list[str], loaded: Loaded, validator: Validator, codebook: Codebook, placed: set[str],
               index: KeyIndex, allowed: dict[str, frozenset[str]],
               with_bibliography: bool = True) -> tuple[list[str], list[Diagnostic] | None]:
    """What the second process runs: the keys among `keys` whose records _check_record passes without a
    diagnostic, and the bibliography's diagnostics (None when not asked: they were worked out already)."""
    bib_found = bibliography_diagnostics(loaded.bib) if with_bibliography else None
    clean = [key for key in keys if (doc := loaded.records.get(key)) is not None
             and not _check_record(key, doc, validator, codebook, loaded.bib, placed, index, allowed)]
    return clean, bib_found


def _check_corrections(loaded: Loaded, diags: list[Diagnostic]) -> frozenset[str]:
    keys: set[str] = set()
    for number, text in enumerate(loaded.corrections.splitlines(), 1):
        for match in CORRECTION_ANCHOR.finditer(text):
            key = match.group(1)
            if key in loaded.bib.entries:
                keys.add(key)
                continue
            guess = nearest(key, list(loaded.bib.entries))
            diags.append(diagnostic(C.CORRECTIONS_UNKNOWN_KEY, CORRECTIONS_FILE, number, match.start() + 1,
                                    f"'{key}' is not a key in references.bib",
                                    did_you_mean(guess)))
    return frozenset(keys)



def _check_meta(loaded: Loaded, diags: list[Diagnostic]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    dataset: dict[str, Any] = {}
    changes: list[dict[str, Any]] = []
    doc = loaded.meta.get("dataset")
    if doc is not None:
        found = schema_diagnostics(doc, Validator(DATASET_SCHEMA))
        diags.extend(found)
        if not found:
            dataset = doc.data
            founding = dataset.get("founding_study")
            if founding is not None and founding not in loaded.record_paths:
                line, col = doc.at(("founding_study",))
                near = nearest(founding, list(loaded.record_paths))
                diags.append(diagnostic(C.UNKNOWN_STUDY, doc.path, line, col,
                                        f"'{founding}' has no record in evidence/studies/",
                                        did_you_mean(near)))
    doc = loaded.meta.get("changes")
    if doc is not None:
        found = schema_diagnostics(doc, Validator(CHANGES_SCHEMA))
        diags.extend(found)
        if not found:
            changes = doc.data
            for i, release in enumerate(changes):
                for kind in ("added", "recoded"):
                    for j, key in enumerate(release[kind]):
                        if key not in loaded.record_paths:
                            line, col = doc.at((i, kind, j))
                            guess = nearest(key, loaded.record_paths)
                            diags.append(diagnostic(C.UNKNOWN_STUDY, doc.path, line, col,
                                                    f"'{key}' has no record in evidence/studies/",
                                                    did_you_mean(guess)))
    return dataset, changes


# --- records -------------------------------------------------------------------

def _check_record(key: str, doc: Document, validator: Validator, codebook: Codebook, bib: Bibliography,
                  placed: set[str], index: KeyIndex, allowed: dict[str, frozenset[str]]) -> list[Diagnostic]:
    if not isinstance(doc.data, dict):
        return [diagnostic(C.NOT_A_MAPPING, doc.path, 1, 1,
                           f"a record must be a mapping of fields, not {describe(doc.data)}")]
    out = schema_diagnostics(doc, validator)
    problem = key_problem(key)
    if problem:
        out.append(diagnostic(C.RECORD_KEY_INVALID, doc.path, 1, 1, *problem))
    elif key not in bib.entries:
        hint = index.hint(key) + "The file name must be the study's key in references.bib."
        out.append(diagnostic(C.RECORD_NOT_IN_BIBLIOGRAPHY, doc.path, 1, 1,
                              f"no entry '{key}' in references.bib", hint))
    out.extend(_check_claims(doc, allowed))
    out.extend(_check_coding_note(doc))
    if spec.TRADITIONS in codebook.vocabularies:
        countries = doc.data.get(spec.COUNTRIES)
        for j, code in enumerate(countries if isinstance(countries, list) else []):
            if isinstance(code, str) and code in country_code_set() and code not in placed:
                line, col = doc.at((spec.COUNTRIES, j))
                out.append(diagnostic(C.COUNTRY_WITHOUT_TRADITION, doc.path, line, col,
                                      f"country '{code}' is neither in a tradition nor listed as unassigned "
                                      "in evidence/codebook/traditions.yaml"))
    return out


CODING_NOTE_MIN = 80  # characters, spaces collapsed


def _check_coding_note(doc: Document) -> list[Diagnostic]:
    """A record says what its coding rests on (a content rule, not a shape: the schema cannot say it)."""
    note = doc.data.get(spec.CODING_NOTE)
    if not isinstance(note, str):
        return []  # missing or not text: the schema reports it
    length = len(" ".join(note.split()))
    if length >= CODING_NOTE_MIN:
        return []
    line, col = doc.at((spec.CODING_NOTE,))
    return [diagnostic(C.CODING_NOTE_SHORT, doc.path, line, col,
                       f"{spec.CODING_NOTE} has {length} characters; a record says what its coding rests on in "
                       f"at least {CODING_NOTE_MIN}")]


def _claim_terms(codebook: Codebook) -> dict[str, frozenset[str]]:
    """The terms each of a claim's list fields allows (computed once, not for each claim)."""
    by_field = codebook.by_field()
    return {name: country_code_set() if name == spec.COUNTRIES else
            frozenset(by_field[name].slugs) if name in by_field else frozenset() for name in CLAIM_LIST_FIELDS}


def _check_claims(doc: Document, allowed_terms: dict[str, frozenset[str]]) -> list[Diagnostic]:
    """Each claim's codes are a subset of the record's; works without data of their own only argue."""
    out: list[Diagnostic] = []
    claims = doc.data.get(spec.CLAIMS)
    study_type = doc.data.get(spec.STUDY_TYPE)
    comparable: dict[str, bool] = {}  # a record's list whose terms are all allowed, decided once per record
    for i, claim in enumerate(claims if isinstance(claims, list) else []):
        if not isinstance(claim, dict):
            continue
        if claim.get(spec.KIND) == "argument" and spec.APPRAISAL in claim:
            line, col = doc.at((spec.CLAIMS, i, spec.APPRAISAL, "<key>"))
            out.append(diagnostic(C.APPRAISAL_ON_ARGUMENT, doc.path, line, col,
                                  f"claims[{i}] is an argument, and arguments are not appraised",
                                  "Remove the appraisal, or make the claim a finding if it reports the study's data."))
        if claim.get(spec.KIND) == "finding" and spec.APPRAISAL not in claim:
            line, col = doc.at((spec.CLAIMS, i, spec.KIND))
            out.append(diagnostic(C.FINDING_UNAPPRAISED, doc.path, line, col,
                                  f"claims[{i}] is a finding with no appraisal",
                                  "Add 'appraisal:' with design, reporting, transparency, confidence and a "
                                  "one-line reason (see the codebook page)."))
        if claim.get(spec.KIND) == "finding" and study_type in ARGUMENT_ONLY_TYPES:
            line, col = doc.at((spec.CLAIMS, i, spec.KIND))
            out.append(diagnostic(C.CLAIM_KIND_MISMATCH, doc.path, line, col,
                                  f"claims[{i}] is a finding, but a {study_type} work reports no data of its own",
                                  "Write 'kind: argument', or correct the record's study_type if the work "
                                  "does report data."))
        for name in CLAIM_LIST_FIELDS:
            record_values = doc.data.get(name)
            values = claim.get(name)
            if not isinstance(values, list) or not isinstance(record_values, list):
                continue
            if name not in comparable:
                allowed = allowed_terms[name]
                comparable[name] = not any(v not in allowed for v in record_values)
            if not comparable[name]:
                continue  # the record's own list is wrong and already reported
            for j, value in enumerate(values):
                if isinstance(value, str) and value not in record_values:
                    line, col = doc.at((spec.CLAIMS, i, name, j))
                    out.append(diagnostic(C.CLAIM_TERM_NOT_IN_RECORD, doc.path, line, col,
                                          f"claims[{i}] uses {name} '{value}', which the record's "
                                          f"'{name}' does not list",
                                          f"Add '{value}' to the record's '{name}', or remove it from the claim."))
    return out


# --- codebook --------------------------------------------------------------------

def _check_codebook(loaded: Loaded, diags: list[Diagnostic], index: KeyIndex) -> Codebook:
    meta = Validator(META_SCHEMA)
    vocabularies = {}
    iso = country_code_set()
    for name, doc in sorted(loaded.codebook.items()):
        if not isinstance(doc.data, dict):
            diags.append(diagnostic(C.NOT_A_MAPPING, doc.path, 1, 1,
                                    f"a codebook file must be a mapping, not {describe(doc.data)}"))
            continue
        found = schema_diagnostics(doc, meta)
        diags.extend(found)
        # a file without its title, description or list of terms cannot serve as a vocabulary (reported above)
        if any(not isinstance(doc.data.get(k), str) for k in ("vocabulary", "title", "description")) \
                or not isinstance(doc.data.get("terms"), list):
            continue
        _check_vocabulary_field(doc, diags)
        slugs: dict[str, int] = {}
        placed: dict[str, tuple[str, int]] = {}  # country -> (where, line): a country has one tradition at most
        for i, term in enumerate(doc.data["terms"]):
            if not isinstance(term, dict) or not isinstance(term.get("slug"), str):
                continue
            slug = term["slug"]
            line, col = doc.at(("terms", i, "slug"))
            if not re.match(SLUG_PATTERN, slug):
                diags.append(diagnostic(C.CODEBOOK_INVALID_SLUG, doc.path, line, col,
                                        f"slug '{slug}' is not lowercase words joined by single hyphens",
                                        f"Write it as '{re.sub(r'[^a-z0-9]+', '-', slug.lower()).strip('-')}'."))
            if slug in slugs:
                diags.append(diagnostic(C.CODEBOOK_DUPLICATE_TERM, doc.path, line, col,
                                        f"term '{slug}' is already defined on line {slugs[slug]}"))
            else:
                slugs[slug] = line
            source = term.get("source")
            if isinstance(source, str) and source not in loaded.bib.entries:
                sline, scol = doc.at(("terms", i, "source"))
                diags.append(diagnostic(C.CODEBOOK_UNKNOWN_SOURCE, doc.path, sline, scol,
                                        f"source '{source}' is not a key in references.bib",
                                        index.hint(source, n=1).strip()))
            _check_countries(doc, ("terms", i), term.get("countries"), f"tradition '{slug}'", placed, iso, diags)
        unassigned = doc.data.get("unassigned")
        for i, group in enumerate(unassigned if isinstance(unassigned, list) else []):
            if isinstance(group, dict):
                _check_countries(doc, ("unassigned", i), group.get("countries"), "unassigned", placed, iso, diags)
        vocabularies[name] = vocabulary_from_data(name, doc.data)
    for name in REQUIRED_VOCABULARIES:
        if name not in vocabularies and name not in loaded.codebook:
            diags.append(diagnostic(C.CODEBOOK_MISSING, f"evidence/codebook/{name}.yaml", 1, 1,
                                    f"vocabulary '{name}' has no file"))
    return Codebook(vocabularies)


def _check_vocabulary_field(doc: Document, diags: list[Diagnostic]) -> None:
    """A vocabulary's `field`: a plain name (a field of its own, or a coded field of the spec) or a declared
    nested field; anything else would be read by no stage."""
    field = doc.data.get("field")
    if not isinstance(field, str):
        return
    declared = spec.by_name()
    nested = sorted(p for p in spec.known_field_paths() if "." in p)
    if "." in field:
        ok = field in nested
    else:
        ok = re.fullmatch(r"[a-z][a-z0-9_]*", field) is not None and (field not in declared or declared[field].is_coded)
    if not ok:
        line, col = doc.at(("field",))
        diags.append(diagnostic(C.CODEBOOK_UNKNOWN_FIELD, doc.path, line, col,
                                f"field '{field}' is not a field this vocabulary can serve",
                                "Write a new field's name in lowercase letters, digits and '_' (not one of "
                                + ", ".join(f.name for f in spec.RECORD_FIELDS if not f.is_coded)
                                + "), or one of: " + ", ".join(nested) + "."))


def _check_countries(doc: Document, where: tuple[str, int], codes: Any, place: str,
                     placed: dict[str, tuple[str, int]], iso: frozenset[str], diags: list[Diagnostic]) -> None:
    for j, code in enumerate(codes if isinstance(codes, list) else []):
        if not isinstance(code, str):
            continue
        line, col = doc.at((*where, "countries", j))
        if code not in iso:
            iso_guess = suggest_country(code)
            diags.append(diagnostic(C.UNKNOWN_COUNTRY, doc.path, line, col,
                                    f"'{code}' is not an ISO 3166-1 alpha-2 country code",
                                    did_you_mean(iso_guess)))
        elif code in placed:
            first, first_line = placed[code]
            diags.append(diagnostic(C.CODEBOOK_COUNTRY_TWICE, doc.path, line, col,
                                    f"country '{code}' is already placed in {first} (line {first_line})"))
        else:
            placed[code] = (place, line)


# --- bibliography --------------------------------------------------------------

def _check_unused(loaded: Loaded, codebook: Codebook, diags: list[Diagnostic]) -> None:
    cited = set(loaded.record_paths)
    for vocab in codebook.vocabularies.values():
        cited.update(t.source for t in vocab.terms.values() if t.source)
    by_fold = {skeleton(k): k for k in loaded.bib.entries}
    todo = list(cited)
    while todo:  # a crossref parent or xdata entry of a cited entry is used through it
        entry = loaded.bib.entries.get(todo.pop())
        for parent in entry.parents if entry else ():
            key = by_fold.get(skeleton(parent))
            if key is not None and key not in cited:
                cited.add(key)
                todo.append(key)
    for entry in loaded.bib.entries.values():
        if entry.key not in cited:
            diags.append(diagnostic(C.BIB_UNUSED, loaded.bib.path, entry.line, 1,
                                    f"entry '{entry.key}' is not cited by any record or codebook term"))
