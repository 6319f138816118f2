"""One fixture per diagnostic code, each with its exact expected output.

Regenerate an expected.txt only after reading the new output:
    python -m tests.golden
"""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.diagnostics import CODES

from .helpers import INVALID, make_project, run

CASES = sorted(p for p in INVALID.glob("*/*") if p.is_dir())


def check_case(case: Path, tmp_path: Path) -> tuple[int, str]:
    root = make_project(tmp_path / "project", case)
    code, out, _ = run("--root", str(root), "check")
    return code, out


@pytest.mark.parametrize("case", CASES, ids=[f"{c.parent.name}/{c.name}" for c in CASES])
def test_fixture_gives_exact_diagnostics(case: Path, tmp_path: Path) -> None:
    code, out = check_case(case, tmp_path)
    expected = (case / "expected.txt").read_text(encoding="utf-8")
    assert out == expected
    # every fixture shows its own code, and fails the check unless that code is a warning
    assert f"[{case.parent.name}]" in out
    assert code == (1 if "error[" in out else 0)


def test_every_registered_code_has_a_fixture() -> None:
    covered = {c.parent.name for c in CASES}
    assert sorted(set(CODES) - covered) == []
    assert sorted(covered - set(CODES)) == []  # no fixture for a code that does not exist


def test_the_valid_base_is_clean(tmp_path: Path) -> None:
    root = make_project(tmp_path / "project")
    assert run("--root", str(root), "check", "--strict") == (0, "", "checked 28 files: 0 errors, 0 warnings\n")


def test_fmt_never_touches_titles(tmp_path: Path) -> None:
    """`evidence fmt` rewrites records only: a title-cased title stays as written (check warns about it)."""
    case = INVALID / "bib-title-case" / "headline-style"
    root = make_project(tmp_path / "project", case)
    before = (root / "references.bib").read_bytes()
    run("--root", str(root), "fmt")
    assert (root / "references.bib").read_bytes() == before


def test_title_case_heuristic() -> None:
    from generator.check_bib import title_case_counts

    assert title_case_counts("Beyond Engagement and Participation: User and Community Coproduction") == (4, 4)
    assert title_case_counts("Beyond engagement and participation: {User} and community coproduction") == (0, 4)
    assert title_case_counts("Co-producing care in England and France") == (2, 3)  # unprotected proper nouns


def test_the_compiled_and_the_full_schema_check_agree_on_every_record(tmp_path: Path) -> None:
    """check.Validator runs the compiled check (quickschema.py) first and walks jsonschema only on failure:
    both must judge alike."""
    from generator.check import check
    from generator.load import load_project
    from generator.schema import record_schema
    from generator.validate import Validator

    from .helpers import ROOT

    roots = [ROOT, *(p for p in INVALID.glob("*/*") if (p / "evidence/studies").is_dir())]
    seen = 0
    for root in roots:
        base = make_project(tmp_path / f"case-{seen}", root) if root != ROOT else ROOT
        loaded = load_project(base)
        validator = Validator(record_schema(check(loaded).codebook))
        for doc in loaded.records.values():
            assert validator.is_valid(doc.data) == (not list(validator.full.iter_errors(doc.data))), doc.path
            seen += 1
    assert seen > 100


def test_every_code_the_generator_reports_is_registered() -> None:
    """Codes are typed (diagnostics.C): every one used exists, and no call passes a loose string.
    (mypy, run by test_lint, checks the same at every call site; this also runs without it.)"""
    import re

    from generator.diagnostics import C

    from .helpers import ROOT

    used: set[str] = set()
    loose: list[str] = []
    for path in (ROOT / "generator").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        used |= set(re.findall(r"\bC\.([A-Z0-9_]+)\b", text))
        loose += [f"{path.name}: {m}" for m in re.findall(r'diagnostic\(\s*"([a-z0-9-]+)"', text)]
    assert len(used) > 40
    assert sorted(used - set(C.__members__)) == []
    assert loose == []
    assert set(C) == set(CODES)  # the enum and the registry describe the same codes
