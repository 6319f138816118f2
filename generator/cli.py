"""The `evidence` command: check, explain, schema, new, fmt, diff, agree, generate, build, serve."""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from . import diagnostics as dg
from . import forked
from .load import BIB_CHECK, CSL_ITEMS, load_project, read_ahead

# The check, the model and the pages are imported by the commands that use them, and `check`, `generate` and
# `build` import them only once references.bib is being read in a second process (load.read_ahead).


def _root(args: argparse.Namespace) -> Path:
    return Path(args.root).resolve()


def cmd_check(args: argparse.Namespace) -> int:
    root = _root(args)
    with read_ahead(root, check=BIB_CHECK):
        from .check import check
        from .check_bib import bibliography_diagnostics

        loaded = load_project(root, bib_check=bibliography_diagnostics)
    result = check(loaded)
    diags = dg.escalate(result.diagnostics) if args.strict else result.diagnostics
    if args.format == "json":
        print(dg.format_json(diags))
    elif args.format == "github":
        if diags:
            print(dg.format_github(diags))
    else:
        if diags:
            print(dg.format_text(diags))
        print(dg.summary_line(diags, loaded.files), file=sys.stderr)
    return 1 if dg.has_errors(diags) else 0


def cmd_explain(args: argparse.Namespace) -> int:
    if args.code is None:
        for spec in dg.CODES.values():
            print(f"{spec.code:32} {spec.severity.value:8} {spec.title}")
        return 0
    if args.code not in dg.CODES:

        guess = dg.nearest(args.code, dg.CODES)
        print(f"evidence: unknown code '{args.code}'" + (f"; {dg.did_you_mean(guess).lower()}" if guess else ""),
              file=sys.stderr)
        print("  hint: `evidence explain` lists every code.", file=sys.stderr)
        return 2
    print(dg.explain(args.code), end="")
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    from .check import check_codebook
    from .schema import SCHEMA_PATH, schema_text

    root = _root(args)
    codebook, found = check_codebook(load_project(root, records=False))
    errors = [d for d in found if d.path.startswith("evidence/codebook/") and d.severity.value == "error"]
    if errors:
        print(dg.format_text(errors))
        print("evidence: the codebook has errors; the schema was not written", file=sys.stderr)
        return 1
    text = schema_text(codebook)
    target = root / SCHEMA_PATH
    current = target.read_text(encoding="utf-8") if target.is_file() else None
    if args.check:
        if current != text:
            print(f"{SCHEMA_PATH} is out of date; run `evidence schema` and commit it", file=sys.stderr)
            return 1
        return 0
    if current != text:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        print(f"wrote {SCHEMA_PATH}", file=sys.stderr)
    return 0


def cmd_new(args: argparse.Namespace) -> int:
    from .check import check_codebook, key_problem
    from .scaffold import ScaffoldError, write_new

    problem = key_problem(args.key)
    if problem:  # the rule `check` applies (record-key-invalid), before anything is written
        print(f"evidence: {problem[0]}", file=sys.stderr)
        print(f"  hint: {problem[1]}", file=sys.stderr)
        return 1
    root = _root(args)
    loaded = load_project(root, records=False)
    codebook, _ = check_codebook(loaded)
    try:
        target = write_new(root, args.key, loaded.bib.entries, codebook)
    except ScaffoldError as exc:
        print(f"evidence: {exc}", file=sys.stderr)
        print(f"  hint: {exc.hint}", file=sys.stderr)
        return 1
    print(f"wrote {target.relative_to(root).as_posix()}; fill it in, then run `evidence check`", file=sys.stderr)
    return 0


def cmd_fmt(args: argparse.Namespace) -> int:
    from .check import check_codebook
    from .fmt import format_record
    from .load import STUDIES_DIR

    root = _root(args)
    codebook, _ = check_codebook(load_project(root, records=False))
    paths = [Path(p).resolve() for p in args.files] if args.files else sorted((root / STUDIES_DIR).glob("*.yaml"))
    changed, skipped = [], []
    for path in paths:
        display = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
        if not path.resolve().is_relative_to(root):  # never write through a link that leaves the project
            skipped.append(display)
            continue
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError):
            skipped.append(display)
            continue
        out = format_record(text, codebook)
        if out is None:
            skipped.append(display)
        elif out != text:
            changed.append(display)
            if not args.check:
                path.write_text(out, encoding="utf-8")
    verb = "would reformat" if args.check else "reformatted"
    for display in changed:
        print(f"{verb} {display}")
    for display in skipped:
        print(f"{display}: not formatted; fix the problems `evidence check` reports first", file=sys.stderr)
    print(f"{len(changed)} of {len(paths)} records {verb}", file=sys.stderr)
    return 1 if (args.check and changed) or skipped else 0


def cmd_diff(args: argparse.Namespace) -> int:
    from .diff import DiffError, diff_markdown

    try:
        print(diff_markdown(_root(args), args.base), end="")
    except DiffError as exc:
        print(f"evidence: {exc}", file=sys.stderr)
        print(f"  hint: {exc.hint}", file=sys.stderr)
        return 2
    return 0


def cmd_agree(args: argparse.Namespace) -> int:
    from .agree import AgreeError, agree, as_json, markdown

    try:
        report = agree(_root(args), args.a, args.b)
    except AgreeError as exc:
        print(f"evidence: {exc}", file=sys.stderr)
        print(f"  hint: {exc.hint}", file=sys.stderr)
        return 2
    print(as_json(report) if args.format == "json" else markdown(report), end="")
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    """The generator step alone: check, then write the Markdown and data of build/docs (and build/nav.json)
    as `evidence build` does, without building the site. The tree is builder-neutral: any site builder can
    read it, and a contributor can look at the pages the generator writes."""
    root = _root(args)
    with read_ahead(root, items=CSL_ITEMS, check=BIB_CHECK):
        from .build import generate

        # the `evidence` program ends right after (forked.end_now): the step's objects are kept, never freed
        ok, _ = generate(root, quiet=args.quiet, strict=args.strict, keep=[] if args.program else None)
    if not ok:
        print("evidence: the check failed; build/docs was left as it was", file=sys.stderr)
    return 0 if ok else 1


def cmd_build(args: argparse.Namespace) -> int:
    root = _root(args)
    with read_ahead(root, items=CSL_ITEMS, check=BIB_CHECK):
        from .build import build

        return build(root, strict=args.strict, quiet=args.quiet)


def cmd_serve(args: argparse.Namespace) -> int:
    from .build import serve

    return serve(_root(args), args.addr)


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="evidence",
        description="Check the Co-production Evidence Atlas and build its site.",
    )
    parser.add_argument("--root", default=".", help="project folder (default: the current folder)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("check", help="check every record, the codebook and references.bib")
    p.add_argument("--format", choices=["text", "json", "github"], default="text",
                   help="text (default), json, or github workflow annotations")
    p.add_argument("--strict", action="store_true", help="treat warnings as errors")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("explain", help="explain a diagnostic code, or list them all")
    p.add_argument("code", nargs="?", help="a code such as unknown-term")
    p.set_defaults(func=cmd_explain)

    p = sub.add_parser("schema", help="write schema/study.schema.json from the codebook")
    p.add_argument("--check", action="store_true", help="only report whether the committed schema is stale")
    p.set_defaults(func=cmd_schema)

    p = sub.add_parser("new", help="write evidence/studies/KEY.yaml to fill in, from the BibTeX entry")
    p.add_argument("key", help="the study's key in references.bib, e.g. bovaird2007")
    p.set_defaults(func=cmd_new)

    p = sub.add_parser("fmt", help="rewrite records in the canonical layout (comments are kept)")
    p.add_argument("--check", action="store_true", help="only list the records that would change; exit 1 if any")
    p.add_argument("files", nargs="*", help="records to format (default: every record)")
    p.set_defaults(func=cmd_fmt)

    p = sub.add_parser("diff", help="summarise, in Markdown, what changed in the evidence since a git revision")
    p.add_argument("base", help="a git revision, e.g. origin/main or HEAD~1")
    p.set_defaults(func=cmd_diff)

    p = sub.add_parser("agree", help="agreement between two codings of the same studies (folders or git revisions)")
    p.add_argument("a", help="first coding: a folder of records, or a git revision")
    p.add_argument("b", help="second coding: a folder of records, or a git revision")
    p.add_argument("--format", choices=["markdown", "json"], default="markdown",
                   help="markdown (default, for a pull request) or json")
    p.set_defaults(func=cmd_agree)

    p = sub.add_parser("generate", help="check and write the pages into build/docs, without building the site")
    p.add_argument("--strict", action="store_true", help="treat warnings as errors")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser("build", help="check, write the pages and build site/")
    p.add_argument("--strict", action="store_true", help="treat warnings as errors")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("serve", help="preview the site and rebuild when the evidence changes")
    p.add_argument("--addr", default="127.0.0.1:8000", help="address to serve on (default 127.0.0.1:8000)")
    p.set_defaults(func=cmd_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = make_parser()
    args = parser.parse_args(argv)  # argparse exits with status 2 on usage errors
    args.program = argv is None  # this process is the `evidence` program, which ends when main() does
    if args.program and args.func in (cmd_check, cmd_generate, cmd_build):
        # This process is `evidence check`, `generate` or `build` itself, and ends when its command does. The
        # check and the generator make millions of small containers and no reference cycles; the collector
        # would only walk them (~0.2 s of a check at 10,000 studies, once each time load_project and check
        # hand it back; the generator pauses it for its step in any case, build._generate), and walk the
        # modules' objects as they are imported (0.009 s of the generator's 0.13 s of imports). Called
        # in-process (with argv), and under `evidence serve`, which runs on, the collector is left alone.
        gc.disable()
    try:
        code = int(args.func(args))
    except KeyboardInterrupt:
        code = 130
    except Exception as exc:  # a bug, not bad input: bad input always ends in diagnostics
        if os.environ.get("EVIDENCE_DEBUG"):
            raise
        print(f"evidence: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        print("  hint: nothing was changed in site/. Please report this, with the command you ran; "
              "EVIDENCE_DEBUG=1 shows the traceback.", file=sys.stderr)
        code = 70
    if args.program:
        # the `evidence` program: ended here, without the interpreter's teardown (forked.end_now); called
        # in-process, main() returns (tests/test_cli.py::test_the_program_ends_with_its_output_and_exit_functions)
        forked.end_now(code)
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
