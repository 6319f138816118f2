"""A conversion from a case spreadsheet, as a contributor would write it: the repeatable test input
for evidence from every inhabited continent.

`case_rows()` writes a spreadsheet of participation and co-production cases the way public case
databases export them: one row per case, several cases (rows) per study, countries by name as
people type them, and long descriptions pasted with paragraph breaks, quotes, colons and '%'.
Every text is made up here (by a seeded generator), so the project may publish it; no third-party
dataset is copied. `convert()` turns the rows into records and BibTeX entries the way a
contributor's script would: country names to ISO codes with pycountry, one record per study.

Run it by hand to see the spreadsheet:  python -m tests.conversion > cases.csv
"""

from __future__ import annotations

import csv
import functools
import io
import random
import sys
from collections import defaultdict
from typing import Any

import pycountry
import yaml

# Country names as they appear in case spreadsheets, by continent (several are not ISO short names).
COUNTRIES: dict[str, list[str]] = {
    "Africa": ["South Africa", "Tanzania", "Kenya", "Nigeria", "Ghana", "Egypt", "Morocco", "Ethiopia", "Uganda",
               "Senegal", "Mozambique", "Côte d'Ivoire", "Rwanda", "Malawi", "Cabo Verde"],
    "Asia": ["India", "Indonesia", "Viet Nam", "Korea, Republic of", "Philippines", "Bangladesh", "Nepal", "China",
             "Japan", "Thailand", "Malaysia", "Kazakhstan", "Mongolia", "Iran", "Türkiye", "Jordan", "Sri Lanka"],
    "Europe": ["United Kingdom", "Norway", "Poland", "Ukraine", "Portugal", "Germany", "Netherlands", "Finland",
               "Estonia", "Italy", "Ireland", "Georgia", "Malta"],
    "North America": ["Mexico", "Canada", "United States", "Guatemala", "Jamaica", "Costa Rica", "Haiti",
                      "Trinidad and Tobago", "Puerto Rico"],
    "South America": ["Chile", "Brazil", "Bolivia", "Peru", "Colombia", "Argentina", "Ecuador", "Uruguay",
                      "Paraguay", "Venezuela", "Guyana", "Suriname"],
    "Oceania": ["Australia", "New Zealand", "Fiji", "Papua New Guinea", "Samoa", "Tonga", "Vanuatu"],
}
SECTORS = ["health", "social-care", "childcare", "education", "development", "environment", "community-safety",
           "urban-regeneration", "housing", "employment", "public-services-general"]
LOGICS = ["community", "professional", "market", "state", "family", "religion", "corporation", "social-welfare"]
BARRIERS = ["professional-expertise", "risk-accountability", "resource-constraints", "citizen-capacity",
            "representativeness", "centralised-state", "power-asymmetry", "citizen-motivation"]
METHODS = ["case-study", "comparative-case-study", "ethnography", "interviews", "focus-groups", "survey"]
SURNAMES = ["Acheampong", "Silva", "Nguyen", "Okafor", "Mendoza", "Sharma", "Haddad", "Kowalski", "Tanaka",
            "Mwangi", "O'Brien", "Lagos", "Ramírez", "Ødegaard", "Fa'asalele", "Zhang", "Ivanova", "Dlamini"]
COLUMNS = ["study_id", "author", "year", "title", "journal", "case_name", "country", "sector", "logic",
           "barrier", "method", "description"]


def case_rows(studies: int = 300, seed: int = 14) -> list[dict[str, str]]:
    """The spreadsheet: one row per case; a study has one to four cases, in one or more countries."""
    rng = random.Random(seed)
    continents = list(COUNTRIES)
    rows = []
    for n in range(studies):
        continent = continents[n % len(continents)]  # every continent, evenly
        surname = rng.choice(SURNAMES)
        year = str(rng.randint(1995, 2025))
        title = (f"Co-producing {rng.choice(['care', 'safety', 'water', 'schools', 'budgets', 'housing'])} "
                 f"in {rng.choice(COUNTRIES[continent])}: raised participation by {rng.randint(5, 95)}% "
                 f"in {{{rng.choice(['NGO', 'UN', 'EU'])}}} programmes")
        for case in range(rng.randint(1, 4)):
            place = rng.choice(COUNTRIES[continent] if case == 0 or rng.random() < 0.7 else COUNTRIES[rng.choice(continents)])
            pasted = "\n\n".join(
                f"Case {case + 1} ({place}): residents and officials {rng.choice(['planned', 'ran', 'monitored'])} "
                f"the service together; \"{rng.choice(['it worked', 'trust grew', 'costs fell'])}\" said one "
                f"official - {rng.randint(10, 90)}% of households took part. "
                + "Local committees met every month, kept minutes and reported to the council. " * rng.randint(2, 6)
                for _ in range(rng.randint(1, 3)))
            rows.append({
                "study_id": f"S{n:04d}", "author": surname, "year": year, "title": title,
                "journal": rng.choice(["Public Administration and Development", "World Development",
                                       "Public Management Review", "Voluntas"]),
                "case_name": f"{place} case {case + 1}", "country": place, "sector": rng.choice(SECTORS),
                "logic": rng.choice(LOGICS), "barrier": rng.choice(BARRIERS), "method": rng.choice(METHODS),
                "description": pasted,
            })
    return rows


@functools.cache
def country_code(name: str) -> str:
    """A spreadsheet's country name as an ISO 3166-1 alpha-2 code, with pycountry."""
    try:
        return str(pycountry.countries.lookup(name).alpha_2)
    except LookupError:
        return str(pycountry.countries.search_fuzzy(name)[0].alpha_2)


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def convert(rows: list[dict[str, str]]) -> tuple[dict[str, str], str]:
    """Rows -> (record file name -> YAML text, BibTeX text). One record per study, whatever its rows."""
    by_study: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        by_study[row["study_id"]].append(row)
    records: dict[str, str] = {}
    bib: list[str] = []
    keys: dict[str, int] = defaultdict(int)
    for study_id in sorted(by_study):
        cases = by_study[study_id]
        first = cases[0]
        stem = "".join(ch for ch in first["author"].lower() if ch.isascii() and ch.isalnum()) + first["year"]
        keys[stem] += 1
        key = f"{stem}{'abcdefghijklmnopqrstuvwxyz'[keys[stem] - 1]}" if keys[stem] > 1 else stem  # smith2020b
        text = " ".join(" ".join(c["description"].split()) for c in cases)
        record: dict[str, Any] = {
            "summary": f"{len(cases)} case(s) of co-production converted from a case spreadsheet. {text}",
            "study_type": "empirical",
            "methods": sorted(_unique([c["method"] for c in cases])),
            "countries": _unique([country_code(c["country"]) for c in cases]),
            "sectors": _unique([c["sector"] for c in cases]),
            "logics": _unique([c["logic"] for c in cases]),
            "barriers": _unique([c["barrier"] for c in cases]),
            "route": "search",
            "basis": "secondary",
            "sources": [{"url": f"https://cases.example.org/studies/{study_id}", "kind": "secondary",
                         "note": "The case spreadsheet's rows for this study."}],
            "coding_note": f"Converted from spreadsheet rows of study {study_id} ({len(cases)} rows): each code is "
                           "a column's value mapped to the codebook.",
        }
        records[f"{key}.yaml"] = yaml.safe_dump(record, allow_unicode=True, sort_keys=False, width=100)
        bib.append(f"@article{{{key},\n  author  = {{{first['author']}, Ann}},\n  title   = {{{first['title']}}},\n"
                   f"  journal = {{{first['journal']}}},\n  year    = {{{first['year']}}},\n}}\n")
    return records, "\n" + "\n".join(bib)


def main() -> None:  # pragma: no cover - a convenience for looking at the input
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS)
    writer.writeheader()
    writer.writerows(case_rows())
    sys.stdout.write(out.getvalue())


if __name__ == "__main__":  # pragma: no cover
    main()
