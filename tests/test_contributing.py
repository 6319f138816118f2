"""Contributing by pull request: new, fmt, diff, the editor schema and the repository's workflows."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.check import check
from generator.cli import make_parser
from generator.fmt import format_record
from generator.load import load_project, parse_yaml

from .helpers import FIXTURES, ROOT, make_project, run

NEW_BIB = "\n@article{ek2021,\n  author  = {Ek, Eva},\n  title   = {A Fresh Study},\n  journal = {J},\n  year    = {2021},\n}\n"


def fixture_codebook(tmp_path: Path):  # type: ignore[no-untyped-def]
    return check(load_project(make_project(tmp_path / "cb"))).codebook


def test_new_then_check_reports_only_the_fields_left_to_fill(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    (root / "references.bib").write_text((root / "references.bib").read_text() + NEW_BIB)
    assert run("--root", str(root), "new", "ek2021")[0] == 0
    text = (root / "evidence/studies/ek2021.yaml").read_text()
    assert text.startswith("# yaml-language-server: $schema=../../schema/study.schema.json\n# Study: Ek, E. (2021).")
    assert "# Allowed: community, professional, market, state" in text
    code, out, _ = run("--root", str(root), "check")
    assert code == 1
    found = re.findall(r"ek2021\.yaml:\d+:\d+: error\[([a-z-]+)\] ([\w\[\].]+) must be", out)
    assert sorted(found) == sorted([("wrong-type", f) for f in
                                    ("summary", "countries", "sectors", "logics", "barriers", "route", "basis",
                                     "sources[0].url", "sources[0].kind", "sources[0].note", "coding_note")])
    assert out.count("error[") == 11  # nothing else: the rest of the template is valid
    assert "bib-unused" not in out  # the new record cites the entry


def test_new_refuses_an_unknown_key_with_the_nearest_ones(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    code, _, err = run("--root", str(root), "new", "smith2021")
    assert code == 1
    assert err == ("evidence: 'smith2021' is not a key in references.bib\n"
                   "  hint: Did you mean 'smith2020'? Add the work's BibTeX entry to references.bib first; "
                   "the key is the file name of the record.\n")
    assert not (root / "evidence/studies/smith2021.yaml").exists()


def test_new_never_overwrites(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    before = (root / "evidence/studies/smith2020.yaml").read_text()
    code, _, err = run("--root", str(root), "new", "smith2020")
    assert code == 1 and "already exists" in err
    assert (root / "evidence/studies/smith2020.yaml").read_text() == before


def yaml_data(text: str) -> Any:
    doc, diags = parse_yaml(text, "x")
    assert doc is not None, diags
    return doc.data


def test_fmt_is_canonical_idempotent_and_keeps_comments(tmp_path: Path) -> None:
    codebook = fixture_codebook(tmp_path)
    messy = (FIXTURES / "fmt/messy.yaml").read_text()
    out = format_record(messy, codebook)
    assert out is not None
    assert format_record(out, codebook) == out  # idempotent
    comments = [line.strip() for line in messy.splitlines() if line.strip().startswith("#")
                and "part of the summary" not in line]
    for comment in comments:
        assert comment in out, comment
    assert "logics: [professional, market]  # checked against section 3" in out  # end-of-line comment kept
    assert out.index("# This comment belongs to the summary below.") < out.index("summary:")
    assert "# this line is part of the summary text" in yaml_data(out)["summary"]  # text, not comment
    keys = [m for m in re.findall(r"^([a-z_]+):", out, re.M)]
    assert keys == ["summary", "countries", "sectors", "logics", "barriers", "route", "basis", "sources", "claims"]
    assert "countries: [GB, NO]" in out  # list order; NO stays Norway, unquoted
    assert "  - kind: finding\n    claim: Nurses saw users' knowledge as a risk.\n    logics: [professional]\n" \
           "    countries: [GB]\n    locator: p. 12" in out
    assert "  - url: https://example.org/abstract\n    kind: publisher-abstract\n    note: The abstract." in out
    original = yaml_data(messy)
    again = yaml_data(out)
    assert again["claims"] == original["claims"] and again["countries"] == ["GB", "NO"]
    assert again["sources"] == original["sources"]


def test_fmt_quotes_only_what_would_read_differently(tmp_path: Path) -> None:
    codebook = fixture_codebook(tmp_path)
    out = format_record('summary: "yes"\ncoding_note: "012"\nbasis: abstract\n', codebook)
    assert out is not None
    assert 'summary: "yes"' in out and 'coding_note: "012"' in out and "basis: abstract" in out


def test_fmt_leaves_broken_files_alone(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    broken = root / "evidence/studies/smith2020.yaml"
    broken.write_text("summary: [unclosed\n")
    code, _, err = run("--root", str(root), "fmt")
    assert code == 1 and "not formatted; fix the problems" in err
    assert broken.read_text() == "summary: [unclosed\n"


def test_fmt_check_reports_without_writing(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    record = root / "evidence/studies/muller2018.yaml"
    before = record.read_text()
    code, out, _ = run("--root", str(root), "fmt", "--check")
    assert code == 1 and "would reformat evidence/studies/muller2018.yaml" in out
    assert record.read_text() == before
    assert run("--root", str(root), "fmt")[0] == 0
    assert run("--root", str(root), "fmt", "--check")[0] == 0


def test_the_shipped_records_are_canonical_and_carry_the_schema_modeline() -> None:
    records = len(list((ROOT / "evidence/studies").glob("*.yaml")))
    assert run("--root", str(ROOT), "fmt", "--check") == (0, "", f"0 of {records} records would reformat\n")
    for path in (ROOT / "evidence/studies").glob("*.yaml"):
        assert path.read_text().startswith("# yaml-language-server: $schema=../../schema/study.schema.json\n")


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True,
                   env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "t",
                        "GIT_COMMITTER_EMAIL": "t@example.org", "HOME": str(root), "PATH": "/usr/bin:/bin"})


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_diff_on_a_fixture_history(tmp_path: Path) -> None:
    root = make_project(tmp_path / "repo")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    # the change: a study added, one re-coded, a term added, an entry corrected
    (root / "references.bib").write_text((root / "references.bib").read_text().replace(
        "pages   = {10--20}", "pages   = {10--21}") + NEW_BIB)
    (root / "evidence/studies/ek2021.yaml").write_text(
        "summary: New.\ncountries: [SE]\nsectors: [health]\nlogics: [state]\nbarriers: []\nbasis: abstract\n")
    muller = root / "evidence/studies/muller2018.yaml"
    muller.write_text(muller.read_text().replace("enablers: [trust]", "enablers: [professional-learning]"))
    logics = root / "evidence/codebook/logics.yaml"
    logics.write_text(logics.read_text() + "  - slug: family\n    label: Family\n    definition: A new term.\n")
    code, out, _ = run("--root", str(root), "diff", "HEAD")
    assert code == 0
    assert out == (FIXTURES / "diff/expected.md").read_text()


def test_diff_explains_a_bad_revision(tmp_path: Path) -> None:
    root = make_project(tmp_path / "repo")
    git(root, "init", "-q")
    code, _, err = run("--root", str(root), "diff", "no-such-branch")
    assert code == 2 and "'no-such-branch' is not a revision git knows here" in err


# --- repository files -----------------------------------------------------------------

def make_targets() -> set[str]:
    return set(re.findall(r"^([a-z][a-z-]*):", (ROOT / "Makefile").read_text(), re.M))


def evidence_commands() -> set[str]:
    sub = next(a for a in make_parser()._actions if a.dest == "command")
    return set(sub.choices)  # type: ignore[arg-type]


WORKFLOWS = sorted((ROOT / ".github/workflows").glob("*.yml"))


@pytest.mark.parametrize("path", WORKFLOWS, ids=[p.name for p in WORKFLOWS])
def test_workflows_are_valid_and_call_only_commands_that_exist(path: Path) -> None:
    data = yaml.safe_load(path.read_text())
    assert data["jobs"] and (True in data or "on" in data)  # PyYAML reads the key `on` as True
    runs = [step["run"] for job in data["jobs"].values() for step in job.get("steps", []) if "run" in step]
    assert runs or path.name == "pages.yml"
    for command in runs:
        for m in re.finditer(r"\bmake ([a-z-]+)", command):
            assert m.group(1) in make_targets(), command
        for m in re.finditer(r"evidence ([a-z]+)", command):
            assert m.group(1) in evidence_commands(), command


def test_pre_commit_hooks_call_commands_that_exist() -> None:
    for name in (".pre-commit-hooks.yaml", ".pre-commit-config.yaml"):
        text = (ROOT / name).read_text()
        yaml.safe_load(text)
        for m in re.finditer(r"evidence ([a-z]+)", text):
            assert m.group(1) in evidence_commands(), (name, m.group(0))


@pytest.mark.parametrize("doc", ["CONTRIBUTING.md", "README.md", "content/contribute.md"])
def test_docs_mention_only_commands_that_exist(doc: str) -> None:
    text = (ROOT / doc).read_text()
    for m in re.finditer(r"`(?:\.venv/bin/)?evidence ([a-z]+)", text):
        assert m.group(1) in evidence_commands(), m.group(0)
    for m in re.finditer(r"`make ([a-z]+)`", text):
        assert m.group(1) in make_targets(), m.group(0)
    for code in re.findall(r"evidence explain ([a-z-]+)", text):
        from generator.diagnostics import CODES

        assert code in CODES


def test_templates_exist() -> None:
    assert (ROOT / ".github/PULL_REQUEST_TEMPLATE.md").read_text().count("- [ ]") >= 3
    for form in (ROOT / ".github/ISSUE_TEMPLATE").glob("*.yml"):
        assert yaml.safe_load(form.read_text())["body"]


def test_new_works_without_pandoc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An install without the 'site' extra still writes the record, with a plainer reference line."""
    import generator.csl

    def missing() -> str:
        raise RuntimeError("no pandoc")

    monkeypatch.setattr(generator.csl, "pandoc_binary", missing)
    root = make_project(tmp_path / "p")
    (root / "references.bib").write_text((root / "references.bib").read_text() + NEW_BIB)
    assert run("--root", str(root), "new", "ek2021")[0] == 0
    text = (root / "evidence/studies/ek2021.yaml").read_text()
    assert "\n# Study: Ek (2021). A Fresh Study.\n" in text


def test_fmt_unquotes_no_only_in_lists_of_countries(tmp_path: Path) -> None:
    """NO is Norway in a list of countries; anywhere else fmt keeps the quotes other YAML tools need."""
    codebook = fixture_codebook(tmp_path)
    out = format_record('summary: x\nlogics: ["NO"]\ncountries: ["NO", GB]\nbasis: abstract\n', codebook)
    assert out is not None
    assert "countries: [GB, NO]" in out and 'logics: ["NO"]' in out
    doc, diags = parse_yaml(out, "x")
    assert doc is not None and [d.code for d in diags] == []  # no yaml-ambiguous warning for the quoted NO
