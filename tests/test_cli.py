"""The `evidence` command as a contributor meets it: formats, exit codes, explain."""

from __future__ import annotations

import json
from pathlib import Path

from generator.diagnostics import CODES

from .helpers import INVALID, ROOT, make_project, run


def test_shipped_evidence_base_is_clean_in_strict_mode() -> None:
    code, out, err = run("--root", str(ROOT), "check", "--strict")
    assert (code, out) == (0, ""), out
    assert "0 errors, 0 warnings" in err


def test_json_format(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", INVALID / "unknown-term" / "misspelt-terms")
    code, out, _ = run("--root", str(root), "check", "--format", "json")
    assert code == 1
    data = json.loads(out)
    assert [(d["code"], d["line"], d["column"]) for d in data] == [
        ("unknown-term", 6, 11), ("unknown-term", 7, 10), ("unknown-term", 14, 8)]
    assert data[1]["hint"].startswith("Did you mean 'professional'?")


def test_github_format_escapes_annotations(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", INVALID / "unknown-term" / "misspelt-terms")
    code, out, _ = run("--root", str(root), "check", "--format", "github")
    assert code == 1
    first = out.splitlines()[0]
    assert first.startswith("::error file=evidence/studies/smith2020.yaml,line=6,col=11,title=unknown-term::")
    assert "%0A%0Ahint: Did you mean 'social-care'?" in first


def test_warnings_pass_unless_strict(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", INVALID / "bib-unused" / "uncited")
    assert run("--root", str(root), "check")[0] == 0
    code, out, _ = run("--root", str(root), "check", "--strict")
    assert code == 1 and "error[bib-unused]" in out


def test_usage_error_exits_2() -> None:
    assert run("check", "--format", "xml")[0] == 2
    assert run("frobnicate")[0] == 2
    assert run("explain", "no-such-code")[0] == 2


def test_explain_every_code() -> None:
    for code in CODES:
        status, out, _ = run("explain", code)
        assert status == 0 and out.startswith(f"{code} (") and "How to fix it:" in out
    status, out, _ = run("explain")
    assert status == 0 and len(out.splitlines()) == len(CODES)


def test_no_traceback_for_a_binary_record(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    (root / "evidence/studies/smith2020.yaml").write_bytes(bytes(range(256)) * 4)
    code, out, err = run("--root", str(root), "check")
    assert code == 1 and "Traceback" not in out + err
    assert "error[file-encoding]" in out


def test_schema_is_not_stale() -> None:
    assert run("--root", str(ROOT), "schema", "--check") == (0, "", "")


def test_new_fmt_and_schema_read_the_vocabularies_without_the_records(tmp_path: Path) -> None:
    """They need the codebook (and `new` the bibliography), not a full check of every record."""
    from generator.check import check_codebook
    from generator.load import load_project

    root = make_project(tmp_path / "p")
    (root / "evidence/studies/smith2020.yaml").write_text("summary: [unclosed\n", encoding="utf-8")
    loaded = load_project(root, records=False)
    assert loaded.records == {} and loaded.screening == {} and loaded.bib.entries and loaded.codebook
    codebook, diags = check_codebook(loaded)
    assert "logics" in codebook.vocabularies and diags == []
    # the broken record does not stop them (check reports it)
    assert run("--root", str(root), "schema")[0] == 0
    assert run("--root", str(root), "schema", "--check")[0] == 0
    code, _, err = run("--root", str(root), "new", "ek2019")
    assert code == 1 and "'ek2019' is not a key in references.bib" in err  # refused for its own reason only


def test_the_program_ends_with_its_output_and_exit_functions(tmp_path: Path) -> None:
    """Run as the program, `evidence` ends without the interpreter's teardown (cli._end): its whole output
    still arrives, through a pipe, with its exit status, and what was registered to run at exit runs."""
    import subprocess
    import sys

    root = make_project(tmp_path / "p", INVALID / "unknown-term" / "misspelt-terms")
    program = ("import atexit, sys; atexit.register(lambda: print('exit functions ran', file=sys.stderr)); "
               "from generator.cli import main; sys.argv[0] = 'evidence'; main(); print('not reached')")
    proc = subprocess.run([sys.executable, "-c", program, "--root", str(root), "check", "--format", "json"],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 1
    data = json.loads(proc.stdout)  # all of it: the buffered output was flushed before the end
    assert [(d["code"], d["line"]) for d in data] == [("unknown-term", 6), ("unknown-term", 7), ("unknown-term", 14)]
    assert proc.stderr == "exit functions ran\n"  # run after the command, as at a normal exit
    assert "not reached" not in proc.stdout
    proc = subprocess.run([sys.executable, "-m", "generator", "--root", str(ROOT), "check"], capture_output=True,
                          text=True, cwd=ROOT)
    assert proc.returncode == 0 and proc.stdout == "" and proc.stderr.startswith("checked ")


def test_the_programs_that_end_with_their_command_run_without_the_cyclic_collector(tmp_path: Path) -> None:
    """`evidence check`, `generate` and `build`, run as the program, switch the collector off before their
    command starts (and before the imports it makes); another command, or a call in-process, leaves it on."""
    import subprocess
    import sys

    root = make_project(tmp_path / "p", INVALID / "unknown-term" / "misspelt-terms")  # every command stops at the check
    for command, off in (("check", True), ("generate", True), ("build", True), ("explain", False)):
        name = {"explain": "cmd_explain"}.get(command, f"cmd_{command}")
        program = ("import gc, sys; from generator import cli\n"
                   f"real = cli.{name}\n"
                   "def spy(args):\n    print('collector on' if gc.isenabled() else 'collector off', file=sys.stderr)\n"
                   "    return real(args)\n"
                   f"cli.{name} = spy\nsys.argv[0] = 'evidence'\ncli.main()\n")
        args = [command] if command == "explain" else ["--root", str(root), command]
        proc = subprocess.run([sys.executable, "-c", program, *args], capture_output=True, text=True, cwd=ROOT)
        assert proc.stderr.splitlines()[0] == ("collector off" if off else "collector on"), (command, proc.stderr)
    assert run("--root", str(root), "check")[0] == 1
    import gc
    assert gc.isenabled(), "in-process, left on"


def test_generate_writes_the_pages_without_building_the_site(tmp_path: Path) -> None:
    """`evidence generate` (the program) checks and writes build/docs and build/nav.json as `evidence build`'s
    generator step does, and builds no site; a failed check writes nothing and exits 1."""
    import shutil
    import subprocess
    import sys

    root = tmp_path / "p"
    root.mkdir()
    for part in ("content", "evidence", "overrides", "references.bib", "mkdocs.yml"):
        (shutil.copytree if (ROOT / part).is_dir() else shutil.copyfile)(ROOT / part, root / part)
    proc = subprocess.run([sys.executable, "-m", "generator", "--root", str(root), "generate"], capture_output=True,
                          text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.startswith("checked ") and "\ngenerated " in proc.stderr
    assert (root / "build/docs/studies/bovaird2007.md").is_file() and (root / "build/nav.json").is_file()
    assert not (root / "site").exists()
    docs = {p: p.read_bytes() for p in sorted((root / "build/docs").rglob("*")) if p.is_file()}
    (root / "evidence/studies/bovaird2007.yaml").write_text("logics: [profesional]\n", encoding="utf-8")
    code, _, err = run("--root", str(root), "generate", "--quiet")
    assert code == 1 and "error[unknown-term]" in err and "build/docs was left as it was" in err
    assert {p: p.read_bytes() for p in sorted((root / "build/docs").rglob("*")) if p.is_file()} == docs
