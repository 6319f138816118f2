"""Synthesise an evidence base of N studies with a realistic spread of codes, findings and entry types.

The records use the real codebook, content and site configuration, so the
build exercises every page type. Everything is seeded: the same N gives the
same files.
"""

from __future__ import annotations

import random
import shutil
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
COUNTRIES = ["GB", "FR", "BE", "NL", "SE", "DK", "NO", "FI", "DE", "AT", "ES", "IT", "PT", "IE", "US", "CA", "AU",
             "NZ", "CZ", "PL", "HU", "JP", "KR", "BR", "ZA", "IN", "KE", "MX", "CH", "EE"]
WORDS = ("citizens public servants co-production service users community health care logic market state "
         "professional barrier trust neighbourhood policy delivery design assessment local government "
         "participation volunteers network hybrid organisation reform accountability risk").split()
SURNAMES = ["Smith", "Müller", "Dubois", "Jansen", "Andersson", "Rossi", "García", "Nowak", "Kowalski", "Tanaka",
            "Brown", "O'Neill", "van Dijk", "Lefèvre", "Nielsen", "Virtanen", "Silva", "Kim", "Okafor", "Patel"]


def _sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def synthesise(n: int, dest: Path, seed: int = 1) -> Path:
    rng = random.Random(seed)
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for part in ("content", "overrides", "mkdocs.yml", "schema", "evidence/codebook", "evidence/dataset.yaml"):
        src = ROOT / part
        target = dest / part
        target.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if src.is_dir() else shutil.copyfile)(src, target)
    # the founding study is a record of the real base, not of a synthetic one
    dataset = dest / "evidence/dataset.yaml"
    dataset.write_text("".join(line for line in dataset.read_text(encoding="utf-8").splitlines(keepends=True)
                               if not line.startswith("founding_study:")), encoding="utf-8")
    # content pages link to studies of the real base: keep those links valid
    (dest / "content/cite.md").write_text("# How to cite\n\nSee the downloads page.\n", encoding="utf-8")
    vocab = {p.stem: [t["slug"] for t in yaml.safe_load(p.read_text(encoding="utf-8"))["terms"]]
             for p in (dest / "evidence/codebook").glob("*.yaml")}
    studies = dest / "evidence/studies"
    studies.mkdir(parents=True)
    bib = []
    keys = []
    for i in range(n):
        key = f"{rng.choice(SURNAMES).lower().replace(' ', '').replace(chr(39), '')}{1970 + i % 55}s{i:05d}"
        key = "".join(c for c in key if c.isascii())
        keys.append(key)
        year = 1970 + rng.randrange(55)
        kind = rng.choices(["article", "book", "incollection", "techreport"], [60, 15, 20, 5])[0]
        authors = " and ".join(f"{rng.choice(SURNAMES)}, {rng.choice('ABCDEFGHJKLMNPRST')}." for _ in range(rng.randint(1, 4)))
        fields = {"author": authors, "title": _sentence(rng, rng.randint(6, 14))[:-1], "year": str(year)}
        if kind == "article":
            fields |= {"journal": "Journal of " + rng.choice(WORDS).title(), "volume": str(rng.randint(1, 60)),
                       "number": str(rng.randint(1, 12)), "pages": f"{(p := rng.randint(1, 900))}--{p + rng.randint(8, 30)}",
                       "doi": f"10.{rng.randint(1000, 9999)}/synthetic.{i}"}
        elif kind == "book":
            fields |= {"publisher": "Example Press", "address": "London"}
        elif kind == "incollection":
            fields |= {"booktitle": "Handbook of " + rng.choice(WORDS).title(), "editor": "Editor, E.",
                       "publisher": "Example Press", "pages": f"{(p := rng.randint(1, 500))}--{p + 20}"}
        else:
            fields |= {"institution": "Example Institute"}
        bib.append(f"@{kind}{{{key},\n" + "".join(f"  {k} = {{{v}}},\n" for k, v in fields.items()) + "}\n")
        logics = rng.sample(vocab["logics"][:4], rng.randint(1, 3))
        countries = sorted(rng.sample(COUNTRIES, rng.randint(0, 3)))
        barriers = rng.sample(vocab["barriers"], rng.randint(0, 3))
        enablers = rng.sample(vocab["enablers"], rng.randint(0, 2))
        study_type = rng.choice(vocab["study_types"])
        kind = "finding" if study_type == "empirical" else "argument"
        claims = []
        for _ in range(rng.randint(0, 4)):
            claim = {"kind": kind, "claim": _sentence(rng, 18), "logics": logics[:1], "countries": countries[:1],
                     "barriers": barriers[:1], "enablers": enablers[:1], "locator": f"p. {rng.randint(1, 300)}"}
            if kind == "finding":
                claim["appraisal"] = {"design": rng.choice(vocab["designs"]), "reporting": rng.choice(vocab["reporting"]),
                                      "transparency": rng.choice(vocab["transparency"]),
                                      "confidence": rng.choice(vocab["confidence"][1:]), "reason": _sentence(rng, 12)}
            claims.append(claim)
        record = {
            "summary": " ".join(_sentence(rng, rng.randint(12, 20)) for _ in range(3)),
            "study_type": study_type,
            "methods": rng.sample(vocab["methods"], rng.randint(1, 2)),
            "countries": countries, "sectors": rng.sample(vocab["sectors"], rng.randint(1, 2)),
            "logics": logics, "barriers": barriers, "enablers": enablers,
            "route": "founding-list", "basis": rng.choice(vocab["basis"][1:]),
            "sources": [{"url": f"https://example.org/studies/{key}", "kind": "publisher-abstract",
                         "note": "The synthetic abstract."}],
            "coding_note": "Coded from the synthetic abstract at the example address. " + _sentence(rng, 25),
            "claims": claims,
        }
        (studies / f"{key}.yaml").write_text(yaml.safe_dump(record, sort_keys=False, allow_unicode=True, width=78),
                                             encoding="utf-8")
    (dest / "references.bib").write_text("\n".join(bib), encoding="utf-8")
    # the codebook cites the real base's keys as sources; give them entries so the check passes
    real = (ROOT / "references.bib").read_text(encoding="utf-8")
    cited = {t.get("source") for p in (dest / "evidence/codebook").glob("*.yaml")
             for t in yaml.safe_load(p.read_text(encoding="utf-8"))["terms"]} - {None}
    import bibtexparser

    lib = bibtexparser.parse_string(real)
    extra = [b for b in lib.entries if b.key in cited]
    with (dest / "references.bib").open("a", encoding="utf-8") as f:
        for e in extra:
            f.write(f"\n@{e.entry_type}{{{e.key},\n" + "".join(f"  {x.key} = {{{x.value}}},\n" for x in e.fields) + "}\n")
            keys.append(e.key)
            (studies / f"{e.key}.yaml").write_text(
                "summary: A source of the codebook.\ncountries: []\nsectors: []\nlogics: []\nbarriers: []\n"
                "route: founding-list\nbasis: secondary\nsources:\n  - url: https://example.org/source\n"
                "    kind: secondary\n    note: A codebook source.\n"
                "coding_note: A record only so that the codebook's source resolves; the synthetic atlas codes nothing "
                "from it.\n", encoding="utf-8")
    (dest / "evidence/changes.yaml").write_text(
        f'- version: 0.1.0\n  date: "2026-11-28"\n  note: Synthetic.\n  added: [{", ".join(keys)}]\n  recoded: []\n',
        encoding="utf-8")
    return dest


if __name__ == "__main__":
    synthesise(int(sys.argv[1]), Path(sys.argv[2]))
