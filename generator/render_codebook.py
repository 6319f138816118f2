"""The catalogue of vocabularies on the codebook page, written from the field spec and the codebook.

content/codebook.md is hand-written except for its table of vocabularies: the line
`<!-- atlas:vocabularies -->` is replaced by this table when the site is generated, so that
the page lists exactly the fields and vocabularies the format has (a vocabulary added to the
codebook appears with no edit).
"""

from __future__ import annotations

from . import spec, urls
from .model import Model
from .render import md_text

MARKER = "<!-- atlas:vocabularies -->"


def _first_sentence(text: str) -> str:
    flat = " ".join(text.split())
    head, dot, _ = flat.partition(". ")
    return head + "." if dot else flat


def _path(name: str) -> str:
    """How a nested field is written for readers: claims.kind -> claims[].kind."""
    head, _, rest = name.partition(".")
    return f"`{head}[].{rest}`" if rest else f"`{name}`"


def vocabulary_table(model: Model) -> str:
    """One row per dimension (in display order), then per vocabulary of a nested field."""
    rows = ["| Vocabulary | Record field | What it records |", "|---|---|---|"]
    vocabularies = model.codebook.vocabularies
    for f in model.specs:
        dim = model.dimensions[f.name]
        name = f"[{md_text(dim.title)}]({urls.index_page(dim.section)})"
        vocab = vocabularies.get(f.vocabulary or "")
        served = vocab.field if vocab and vocab.field else None
        field = "(derived)" if f.kind == "derived" and not served else _path(served or f.name)
        rows.append(f"| {name} | {field} | {md_text(_first_sentence(dim.description))} |")
    for f in (*spec.CLAIM_FIELDS, *spec.APPRAISAL_FIELDS, *spec.SOURCE_FIELDS, *spec.SCREENING_FIELDS):
        vocab = vocabularies.get(f.vocabulary or "")
        if vocab is None or f.vocabulary in {d.vocabulary for d in model.specs}:
            continue
        field = "screening logs" if f.name.startswith("screening.") else _path(f.name)
        rows.append(f"| {md_text(vocab.title)} | {field} | {md_text(_first_sentence(vocab.description))} |")
    return "\n".join(rows)
