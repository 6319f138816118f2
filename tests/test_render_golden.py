"""Golden files: the Markdown generated for the small fixture base.

After an intended change, run `make golden` and read the diff before committing.
"""

from __future__ import annotations

import difflib
from pathlib import Path

from .golden import GOLDEN_RENDER, render_fixture


def test_generated_pages_match_the_golden_files(tmp_path: Path) -> None:
    pages = render_fixture(tmp_path / "project")
    golden = {p.relative_to(GOLDEN_RENDER).as_posix(): p.read_text(encoding="utf-8")
              for p in sorted(GOLDEN_RENDER.rglob("*")) if p.is_file()}
    assert sorted(pages) == sorted(golden)
    diff = [line for rel, text in pages.items() if text != golden[rel]
            for line in difflib.unified_diff(golden[rel].splitlines(), text.splitlines(),
                                             f"tests/golden/render/{rel}", f"generated/{rel}", lineterm="")]
    # the whole diff of every differing file, so that one run shows everything that changed
    assert not diff, "generated pages differ from the golden files (`make golden SET=render` after an " \
        "intended change):\n" + "\n".join(diff)


def test_golden_study_page_has_what_readers_need() -> None:
    page = (GOLDEN_RENDER / "studies/smith2020.md").read_text(encoding="utf-8")
    assert 'title: "Smith &amp; Jones (2020) Co-producing care in England"' in page
    assert '<a href="https://doi.org/10.1234/example.2020.1">' in page  # the DOI link
    assert "[Professional logic](../logics/professional.md)" not in page  # fixture labels
    assert "[Label of professional](../logics/professional.md)" in page
    assert "### Finding 1" in page and "*Where:* p\\. 12" in page
    assert "- [Müller \\(2018\\) Neighbourhood safety in practice](muller2018.md) (1 shared code)" in page
