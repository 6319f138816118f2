"""`evidence agree`: the coefficients against published worked examples, and fixture codings."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from generator.agree import _coefficient

from .helpers import BASE, make_project, run


def test_cohens_kappa_matches_artstein_and_poesio() -> None:
    """Artstein & Poesio (2008, Computational Linguistics 34(4), table 3): 100 utterances, three
    dialogue-act categories, observed agreement 0.88, kappa 0.8013."""
    table = {("stat", "stat"): 46, ("stat", "ireq"): 6, ("ireq", "ireq"): 32, ("chck", "ireq"): 6,
             ("chck", "chck"): 10}  # (coder B, coder A) -> count
    triples = []
    pairs = [pair for pair, count in table.items() for _ in range(count)]
    for n, (b, a) in enumerate(pairs):
        triples += [("A", str(n), a), ("B", str(n), b)]
    assert len(triples) == 200
    kappa = _coefficient(triples, single=True)
    assert kappa is not None and round(kappa, 4) == 0.8013


def test_krippendorffs_alpha_matches_krippendorff() -> None:
    """Krippendorff (2011), 'Computing Krippendorff's alpha-reliability', example C: four observers,
    twelve units, missing values, nominal alpha 0.743."""
    matrix = {"A": [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
              "B": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
              "C": [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
              "D": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None]}
    # as sets of one value each, MASI distance is the nominal distance (0 if equal, 1 if disjoint)
    triples = [(c, str(u), frozenset({v})) for c, values in matrix.items() for u, v in enumerate(values) if v]
    alpha = _coefficient(triples, single=False)
    assert alpha is not None and round(alpha, 3) == 0.743


def test_masi_gives_partial_credit_for_overlapping_sets() -> None:
    same = [("A", "1", frozenset({"x", "y"})), ("B", "1", frozenset({"x", "y"})),
            ("A", "2", frozenset({"z"})), ("B", "2", frozenset({"z"}))]
    overlap = [("A", "1", frozenset({"x", "y"})), ("B", "1", frozenset({"x"})),
               ("A", "2", frozenset({"z"})), ("B", "2", frozenset({"z"}))]
    disjoint = [("A", "1", frozenset({"x", "y"})), ("B", "1", frozenset({"q"})),
                ("A", "2", frozenset({"z"})), ("B", "2", frozenset({"z"}))]
    values = [_coefficient(t, single=False) for t in (same, overlap, disjoint)]
    assert values[0] == 1.0
    assert values[1] is not None and values[2] is not None and values[2] < values[1] < 1.0
    assert _coefficient([("A", "1", "x"), ("B", "1", "x")], single=True) is None  # no variation: undefined


def second_coding(tmp_path: Path) -> Path:
    """The fixture base's records recoded with known disagreements."""
    folder = tmp_path / "second"
    shutil.copytree(BASE / "evidence/studies", folder)
    smith = folder / "smith2020.yaml"
    smith.write_text(smith.read_text().replace("logics: [professional, market]", "logics: [professional, state]"))
    lee = folder / "lee2019.yaml"
    lee.write_text(lee.read_text().replace("study_type: conceptual", "study_type: review"))
    (folder / "muller2018.yaml").unlink()  # not coded by the second coder
    return folder


def test_agree_reports_figures_and_located_disagreements(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    second = second_coding(tmp_path)
    code, out, err = run("--root", str(root), "agree", str(root / "evidence/studies"), str(second), "--format", "json")
    assert (code, err) == (0, "")
    report = json.loads(out)
    assert report["compared"] == ["ek2022", "lee2019", "smith2020"] and report["only_in_a"] == ["muller2018"]
    figures = {f["dimension"]: f for f in report["figures"]}
    assert figures["logics"]["identical"] == 2 and figures["logics"]["value"] < 1  # ek2022 and lee2019
    assert figures["sectors"]["value"] is None  # both coders: health on every study
    assert figures["study_type"]["measure"] == "Cohen's kappa"
    assert [(d["study"], d["dimension"], d["only_a"], d["only_b"]) for d in report["disagreements"]] == [
        ("lee2019", "study_type", ["conceptual"], ["review"]),
        ("smith2020", "logics", ["market"], ["state"]),
    ]
    smith = next(d for d in report["disagreements"] if d["study"] == "smith2020")
    assert smith["where_a"].endswith("smith2020.yaml:7") and smith["where_b"].endswith("smith2020.yaml:7")
    code, md, _ = run("--root", str(root), "agree", str(root / "evidence/studies"), str(second))
    assert "| logics | Krippendorff's alpha (MASI) |" in md
    assert "- `smith2020` logics: only in A `market`" in md


def test_agree_reads_a_git_revision(tmp_path: Path) -> None:
    root = make_project(tmp_path / "repo")
    for args in (["init", "-q", "-b", "main"], ["add", "-A"],
                 ["-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-q", "-m", "base"]):
        subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)
    smith = root / "evidence/studies/smith2020.yaml"
    smith.write_text(smith.read_text().replace("barriers: [professional-expertise]\n", "barriers: []\n", 1))
    code, out, _ = run("--root", str(root), "agree", "HEAD", "evidence/studies", "--format", "json")
    assert code == 0
    dims = [(d["study"], d["dimension"]) for d in json.loads(out)["disagreements"]]
    assert dims == [("smith2020", "barriers")]


def test_agree_explains_a_bad_argument(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    code, _, err = run("--root", str(root), "agree", "no-such-thing", "evidence/studies")
    assert code == 2 and "neither a folder nor a git revision" in err and "hint:" in err


def test_the_published_agreement_is_what_the_stored_codings_give() -> None:
    """The scope page's table is recomputed from the two codings kept in evidence/agreement/."""
    from .helpers import ROOT

    folder = ROOT / "evidence/agreement/2026-12-01"
    code, out, _ = run("--root", str(ROOT), "agree", str(folder / "first"), str(folder / "second"))
    assert code == 0
    rows = [line for line in out.splitlines() if line.startswith("| ") and not line.startswith("| dimension")]
    assert len(rows) == 12
    scope = (ROOT / "content/scope.md").read_text(encoding="utf-8")
    for row in rows:
        assert row in scope, row
    assert "12 studies coded in both." in out
