"""Long lists on term, cell and synthesis pages show their first entries and link to the rest (issue #17).

The fixture base is small, so the limit is lowered to 1 here: every list longer than one entry is cut.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from generator import model as model_module
from generator.model import Head, Shown

from .golden import render_fixture


class _Lists:
    items = ("a", "b", "c")
    shown = Shown("items")
    co_coded = Shown("items", "CO_CODED_LIMIT")


def test_shown_keeps_the_first_entries_and_counts_the_rest(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(model_module, "LIST_LIMIT", 2)
    assert _Lists().shown == Head(("a", "b"), 1)
    monkeypatch.setattr(model_module, "LIST_LIMIT", 3)
    assert _Lists().shown == Head(("a", "b", "c"), 0)
    monkeypatch.setattr(model_module, "CO_CODED_LIMIT", 1)
    assert _Lists().co_coded == Head(("a",), 2)


@pytest.fixture(scope="module")
def cut_pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(model_module, "LIST_LIMIT", 1)
        return render_fixture(tmp_path_factory.mktemp("cut") / "project")


def test_a_term_page_lists_the_first_entries_and_sends_to_the_explorer(cut_pages: dict[str, str]) -> None:
    page = cut_pages["logics/professional.md"]
    studies = page.split("## Studies", 1)[1].split("## ", 1)[0]
    assert studies.count("\n- [") == 1  # one study listed ...
    assert "- … and 2 more studies: " in studies  # ... and the rest counted
    assert '<a href="../../explore/?logics=professional">list all of them in the explorer</a>' in studies
    findings = page.split("## Findings", 1)[1].split("## ", 1)[0]
    assert findings.count("\n- ") == 2  # one finding and the line that counts the rest
    assert "- … and 1 more finding, each on its study's page" in findings


def test_the_full_render_lists_everything(tmp_path: Path) -> None:
    """The limit is what cuts: with the shipped limit the same page lists every study and finding."""
    page = render_fixture(tmp_path / "project")["logics/professional.md"]
    assert "more stud" not in page and "more finding" not in page
    assert page.split("## Studies", 1)[1].split("## ", 1)[0].count("\n- [") == 3


def test_a_synthesis_row_links_its_cell_for_the_rest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(model_module, "LIST_LIMIT", 0)  # no synthesis row of the fixture has two claims of a kind
    page = render_fixture(tmp_path / "project")["compare/barriers-by-logic.md"]
    (row,) = [line for line in page.splitlines() if line.startswith("| [Label of professional-expertise]")
              or line.startswith("| [Label of professional\\-expertise]")]
    assert "in 1 study: [1 more finding](logics-by-barriers/professional--professional-expertise.md) |" in row
    assert "| 1 argument: [1 more argument](logics-by-barriers/professional--professional-expertise.md) (" in row
    assert "[1 more finding](logics-by-enablers/community--trust.md)" in page


def test_a_cell_counts_the_co_coded_studies_it_leaves_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """'and 1 more', not 'and 1 mores' (a plural made of a word that has none), and a verb that agrees; the
    co-coded list has a limit of its own."""
    monkeypatch.setattr(model_module, "CO_CODED_LIMIT", 0)
    page = render_fixture(tmp_path / "project")["compare/sectors-by-barriers/health--professional-expertise.md"]
    (line,) = [x for x in page.splitlines() if x.startswith("Co-coded only:")]
    assert line == ("Co-coded only: 1 other study lists both terms in its record, but none of its claims ties them, "
                    "so it is not counted here: 1 more, in <a href=\"../../../explore/?sectors=health&amp;"
                    "barriers=professional-expertise\">the explorer</a>.")
