"""The codebook: every controlled vocabulary, read from evidence/codebook/ (the ONE source).

Each vocabulary file names the record field that uses it. The checker, the JSON
Schema for editors, the codebook pages and the contributor docs are all derived
from these files.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from dataclasses import field as _field
from typing import Any

import pycountry

from . import spec
from .diagnostics import suggestions

# Vocabularies the record format cannot do without (name -> the field it serves; None: derived):
# a missing file is a diagnostic. Read from the field spec.
REQUIRED_VOCABULARIES: dict[str, str | None] = spec.required_vocabularies()

SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"

# Shape of a codebook file, checked with jsonschema like the records are.
META_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "required": ["vocabulary", "title", "description", "terms"],
    "properties": {
        "vocabulary": {"type": "string", "minLength": 1},
        "title": {"type": "string", "minLength": 1},
        "field": {"type": "string", "minLength": 1},
        "multiple": {"type": "boolean"},
        "required": {"type": "boolean"},
        "description": {"type": "string", "minLength": 1},
        "terms": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["slug", "label", "definition"],
                "properties": {
                    "slug": {"type": "string", "minLength": 1},
                    "label": {"type": "string", "minLength": 1},
                    "definition": {"type": "string", "minLength": 1},
                    "source": {"type": "string", "minLength": 1},
                    "countries": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
        # traditions only: countries that no tradition fits, each group with its reason (a stated decision)
        "unassigned": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["reason", "countries"],
                "properties": {
                    "reason": {"type": "string", "minLength": 1},
                    "countries": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
    },
}


@dataclass(frozen=True)
class Term:
    slug: str
    label: str
    definition: str
    source: str | None = None
    countries: tuple[str, ...] = ()


@dataclass(frozen=True)
class Vocabulary:
    name: str  # file stem, also the URL section: /logics/<slug>/
    title: str
    description: str
    field: str | None  # the record field that uses it; None for derived ones (traditions)
    multiple: bool
    required: bool
    terms: dict[str, Term]
    unassigned: dict[str, str] = _field(default_factory=dict)  # traditions: ISO code -> why no tradition fits

    @property
    def slugs(self) -> list[str]:
        return list(self.terms)


@dataclass(frozen=True)
class Codebook:
    vocabularies: dict[str, Vocabulary]

    def by_field(self) -> dict[str, Vocabulary]:
        return {v.field: v for v in self.vocabularies.values() if v.field}

    def tradition_of(self) -> dict[str, str]:
        """ISO code -> tradition slug."""
        out: dict[str, str] = {}
        trad = self.vocabularies.get("traditions")
        for term in trad.terms.values() if trad else ():
            for code in term.countries:
                out.setdefault(code, term.slug)
        return out

    def unassigned_countries(self) -> dict[str, str]:
        """ISO code -> the stated reason why no tradition is assigned."""
        trad = self.vocabularies.get("traditions")
        return dict(trad.unassigned) if trad else {}


def vocabulary_from_data(name: str, data: dict[str, Any]) -> Vocabulary:
    """Build a Vocabulary from an already-checked codebook document (first slug wins)."""
    terms: dict[str, Term] = {}
    for raw in data["terms"]:
        if isinstance(raw, dict) and isinstance(raw.get("slug"), str):
            terms.setdefault(raw["slug"], Term(
                slug=raw["slug"],
                label=str(raw.get("label", raw["slug"])),
                definition=str(raw.get("definition", "")),
                source=raw.get("source"),
                countries=tuple(raw.get("countries", ())),
            ))
    unassigned: dict[str, str] = {}
    for group in data.get("unassigned") or ():
        if isinstance(group, dict) and isinstance(group.get("countries"), list):
            for code in group["countries"]:
                if isinstance(code, str):
                    unassigned.setdefault(code, str(group.get("reason", "")))
    return Vocabulary(
        name=name,
        title=str(data["title"]),
        description=str(data["description"]),
        field=data.get("field"),
        multiple=bool(data.get("multiple", True)),
        required=bool(data.get("required", False)),
        terms=terms,
        unassigned=unassigned,
    )


# --- countries: ISO 3166-1 through pycountry ------------------------------------

@functools.lru_cache(maxsize=1)
def country_codes() -> tuple[str, ...]:
    return tuple(sorted(c.alpha_2 for c in pycountry.countries))


@functools.lru_cache(maxsize=1)
def country_code_set() -> frozenset[str]:
    return frozenset(country_codes())


def country_name(code: str) -> str:
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return code
    return str(getattr(country, "common_name", None) or country.name)


# Codes people commonly write that are not ISO 3166-1 alpha-2.
COUNTRY_ALIASES = {"UK": "GB", "EL": "GR", "EN": "GB", "XK": "XK"}
# Names in common use that ISO 3166-1 does not give (folded as by _fold).
COUNTRY_NAME_ALIASES = {
    "england": "GB", "scotland": "GB", "wales": "GB", "northern ireland": "GB", "great britain": "GB",
    "holland": "NL", "ivory coast": "CI", "swaziland": "SZ", "burma": "MM", "east timor": "TL",
    "deutschland": "DE", "czechia": "CZ", "south korea": "KR", "north korea": "KP", "cape verde": "CV",
}


def _fold(text: str) -> str:
    """Lower case, accents and punctuation dropped: 'Côte d'Ivoire' -> 'cote d ivoire'."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", plain.lower()).split())


@functools.lru_cache(maxsize=1)
def _country_names() -> dict[str, str]:
    """Every name of every country, folded -> ISO code, built once (pycountry's own fuzzy search
    walks every country and subdivision on each call, ~20 ms)."""
    out: dict[str, str] = {}
    for c in pycountry.countries:
        for attr in ("name", "official_name", "common_name"):
            name = getattr(c, attr, None)
            if name:
                out.setdefault(_fold(str(name)), str(c.alpha_2))
                # "Korea, Republic of" is also written "Republic of Korea"
                if ", " in str(name):
                    head, _, tail = str(name).partition(", ")
                    out.setdefault(_fold(f"{tail} {head}"), str(c.alpha_2))
                    out.setdefault(_fold(head), str(c.alpha_2))
    return out


@functools.lru_cache(maxsize=4096)
def suggest_country(value: str) -> str | None:
    """The ISO code someone probably meant: 'UK' -> 'GB', 'France' -> 'FR', 'fr' -> 'FR'."""
    if value.upper() in COUNTRY_ALIASES and value.upper() != "XK":
        return COUNTRY_ALIASES[value.upper()]
    if len(value) == 2 and value.upper() in country_code_set():
        return value.upper()
    by_alpha3 = pycountry.countries.get(alpha_3=value.upper()) if len(value) == 3 else None
    if by_alpha3 is not None:
        return str(by_alpha3.alpha_2)
    names = _country_names()
    folded = _fold(value)
    if folded in COUNTRY_NAME_ALIASES:
        return COUNTRY_NAME_ALIASES[folded]
    if not folded:
        return None
    if folded in names:
        return names[folded]
    # a name that contains what was written ("Bolivia" in "Bolivia, Plurinational State of")
    if len(folded) >= 4:
        for pattern in (rf"\b{re.escape(folded)}\b", rf"\b{re.escape(folded)}"):
            containing = sorted((len(n), n) for n in names if re.search(pattern, n))
            if containing:
                return names[containing[0][1]]
    close = suggestions(folded, names, cutoff=0.8)
    return names[close[0]] if close else None
