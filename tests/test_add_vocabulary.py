"""Adding an optional, multi-valued vocabulary takes one codebook file and no code edit."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

from generator.build import DOCS, generate
from generator.render_compare import explorer_data

from .helpers import make_project, run

PROGRAMMES = """vocabulary: programmes
title: Public programmes
field: programmes
multiple: true
required: false
description: >-
  The named public programme under which co-production took place.
terms:
  - slug: peer-support
    label: Peer support programme
    definition: >-
      A programme in which service users support each other with paid staff.
  - slug: neighbourhood-budget
    label: Neighbourhood budget
    definition: >-
      A programme that lets residents decide how part of a local budget is spent.
"""


def test_one_codebook_file_adds_a_vocabulary_everywhere(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    (root / "evidence/codebook/programmes.yaml").write_text(PROGRAMMES, encoding="utf-8")
    record = root / "evidence/studies/smith2020.yaml"
    record.write_text(record.read_text(encoding="utf-8").replace(
        "concepts: [coproduction]\n", "concepts: [coproduction]\nprogrammes: [peer-support]\n"), encoding="utf-8")
    assert run("--root", str(root), "check", "--strict")[0] == 0
    # the editor schema knows the field and its terms
    code, _, _ = run("--root", str(root), "schema")
    schema = json.loads((root / "schema/study.schema.json").read_text(encoding="utf-8"))
    assert code == 0 and schema["properties"]["programmes"]["items"]["enum"] == ["peer-support", "neighbourhood-budget"]
    assert "programmes" not in schema["required"]  # required: false is honoured
    # fmt keeps it, in canonical order (after the format's own vocabularies, before route)
    assert run("--root", str(root), "fmt")[0] == 0
    text = record.read_text(encoding="utf-8")
    assert text.index("concepts:") < text.index("programmes: [peer-support]") < text.index("route:")
    assert run("--root", str(root), "fmt", "--check")[0] == 0
    # the pages: term pages, an index, a row on the study page, a facet in the explorer
    with contextlib.redirect_stderr(io.StringIO()):
        assert generate(root, quiet=True)[0]
    docs = root / DOCS
    assert (docs / "programmes/index.md").is_file() and (docs / "programmes/peer-support.md").is_file()
    assert "smith2020" in (docs / "programmes/peer-support.md").read_text(encoding="utf-8")
    study = (docs / "studies/smith2020.md").read_text(encoding="utf-8")
    assert "| Public programmes | [Peer support programme](../programmes/peer-support.md) |" in study
    index = explorer_data((docs / "explore/studies.js").read_text(encoding="utf-8"))
    assert "programmes" in [f["field"] for f in index["facets"]]
    assert next(s for s in index["studies"] if s["key"] == "smith2020")["codes"]["programmes"] == ["peer-support"]
    # the site's navigation lists its index under "Vocabularies" (build/nav.json, read by the atlas-nav plugin)
    nav = json.loads((root / "build/nav.json").read_text(encoding="utf-8"))
    assert {"Public programmes": "programmes/index.md"} in next(e["Vocabularies"] for e in nav if "Vocabularies" in e)
    # and the scaffold of a new record offers it
    bib = root / "references.bib"
    bib.write_text(bib.read_text(encoding="utf-8") + "\n@book{ek2019,\n  author = {Ek, Eva},\n  title = {A book},\n"
                   "  publisher = {P},\n  year = {2019},\n}\n", encoding="utf-8")
    assert run("--root", str(root), "new", "ek2019")[0] == 0
    assert "# programmes: []" in (root / "evidence/studies/ek2019.yaml").read_text(encoding="utf-8")
