"""`evidence diff BASE`: what a change does to the evidence base, as Markdown for reviewers."""

from __future__ import annotations

import io
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from . import spec
from .load import BIB_FILE, Loaded, load_project

LIST_FIELDS = [f.name for f in spec.RECORD_FIELDS if f.is_coded]
TEXT_FIELDS = [f.name for f in spec.RECORD_FIELDS if f.kind == "text"]
ITEM_FIELDS = [f.name for f in spec.RECORD_FIELDS if f.kind in ("claim-list", "source-list")]
# what a new study is introduced by in the reviewer's summary
ADDED_SUMMARY = (spec.LOGICS, spec.SECTORS, spec.COUNTRIES)


def _coded_fields(*records: dict[str, Any]) -> list[str]:
    """The coded fields to compare: the format's, then any other field a record carries (a new vocabulary)."""
    known = {f.name for f in spec.RECORD_FIELDS}
    extra = sorted({k for r in records for k in r if k not in known})
    return [*LIST_FIELDS, *extra]


class DiffError(Exception):
    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


def _materialise(root: Path, base: str, dest: Path) -> None:
    """Write the evidence files of revision `base` into dest."""
    try:
        listing = subprocess.run(["git", "ls-tree", "--name-only", base, "evidence", BIB_FILE], cwd=root,
                                 capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as exc:
        raise DiffError(f"git could not be run: {exc}", "Install git; `evidence diff` reads the base from git.") from exc
    if listing.returncode != 0:
        raise DiffError(f"'{base}' is not a revision git knows here",
                        "Give a branch, tag or commit, e.g. `evidence diff origin/main` or `evidence diff HEAD~1`.")
    paths = listing.stdout.split()
    if not paths:
        return  # the evidence did not exist yet at base: everything is new
    archive = subprocess.run(["git", "archive", "--format=tar", base, *paths], cwd=root, capture_output=True,
                             timeout=120)
    if archive.returncode != 0:
        raise DiffError(f"git could not read '{base}'", archive.stderr.decode("utf-8", "replace").strip())
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(dest, filter="data")


def _records(loaded: Loaded) -> dict[str, dict[str, Any]]:
    return {k: d.data for k, d in loaded.records.items() if isinstance(d.data, dict)}


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _terms(loaded: Loaded) -> dict[str, dict[str, dict[str, Any]]]:
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for name, doc in loaded.codebook.items():
        terms = doc.data.get("terms") if isinstance(doc.data, dict) else None
        out[name] = {t["slug"]: t for t in terms or [] if isinstance(t, dict) and isinstance(t.get("slug"), str)}
    return out


def _code(text: str) -> str:
    return "`" + text.replace("`", "'") + "`"


def _study_changes(old_r: dict[str, dict[str, Any]],
                   new_r: dict[str, dict[str, Any]]) -> tuple[list[tuple[str, str, list[str], list[str]]], list[tuple[str, str]]]:
    """The codes (study, field, added, removed) and the texts (study, what) changed in studies in both."""
    recoded: list[tuple[str, str, list[str], list[str]]] = []
    retexted: list[tuple[str, str]] = []
    for key in sorted(set(old_r) & set(new_r)):
        a, b = old_r[key], new_r[key]
        for name in _coded_fields(a, b):
            before, after = _as_list(a.get(name)), _as_list(b.get(name))
            plus = [v for v in after if v not in before]
            minus = [v for v in before if v not in after]
            if plus or minus:
                recoded.append((key, name, plus, minus))
        for name in TEXT_FIELDS:
            if " ".join(str(a.get(name) or "").split()) != " ".join(str(b.get(name) or "").split()):
                retexted.append((key, name))
        for name in ITEM_FIELDS:
            fa, fb = a.get(name), b.get(name)
            if fa != fb:
                count = [len(f) if isinstance(f, list) else 0 for f in (fa, fb)]
                retexted.append((key, f"{name} ({count[0]} → {count[1]})" if count[0] != count[1] else f"{name} (edited)"))
    return recoded, retexted


def _term_lines(old: Loaded, new: Loaded) -> list[str]:
    old_t, new_t = _terms(old), _terms(new)
    term_lines = []
    for vocab in sorted(set(old_t) | set(new_t)):
        a_terms, b_terms = old_t.get(vocab, {}), new_t.get(vocab, {})
        for slug in b_terms:
            if slug not in a_terms:
                term_lines.append(f"- {vocab}: new term {_code(slug)} ({b_terms[slug].get('label', '')})")
            elif a_terms[slug] != b_terms[slug]:
                term_lines.append(f"- {vocab}: term {_code(slug)} changed")
        for slug in a_terms:
            if slug not in b_terms:
                term_lines.append(f"- {vocab}: term {_code(slug)} removed")
    return term_lines


def _bib_lines(old: Loaded, new: Loaded) -> list[str]:
    bib_lines = []
    for key in sorted(set(old.bib.entries) | set(new.bib.entries)):
        a_e, b_e = old.bib.entries.get(key), new.bib.entries.get(key)
        if a_e is None and b_e is not None:
            bib_lines.append(f"- {_code(key)} added")
        elif b_e is None:
            bib_lines.append(f"- {_code(key)} removed")
        elif a_e is not None and (a_e.fields != b_e.fields or a_e.entry_type != b_e.entry_type):
            fields = sorted(f for f in set(a_e.fields) | set(b_e.fields) if a_e.fields.get(f) != b_e.fields.get(f))
            if a_e.entry_type != b_e.entry_type:
                fields.insert(0, "type")
            bib_lines.append(f"- {_code(key)}: changed " + ", ".join(fields))
    return bib_lines


def diff_markdown(root: Path, base: str) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        _materialise(root, base, Path(tmp))
        old = load_project(Path(tmp))
    new = load_project(root)
    old_r, new_r = _records(old), _records(new)
    added = sorted(set(new_r) - set(old_r))
    removed = sorted(set(old_r) - set(new_r))
    recoded, retexted = _study_changes(old_r, new_r)
    term_lines = _term_lines(old, new)
    bib_lines = _bib_lines(old, new)

    out = [f"## Evidence changes since {_code(base)}", ""]
    studies_changed = sorted({k for k, *_ in recoded} | {k for k, _ in retexted})
    def n(count: int, one: str, many: str) -> str:
        return f"{count} {one if count == 1 else many}"

    counts = [n(len(added), "study added", "studies added"), f"{len(removed)} removed",
              f"{len(studies_changed)} changed", n(len(term_lines), "codebook change", "codebook changes"),
              n(len(bib_lines), "bibliography change", "bibliography changes")]
    if not (added or removed or studies_changed or term_lines or bib_lines):
        return "\n".join([*out, "No change to the evidence base.", ""])
    out += ["**" + "; ".join(counts) + ".**", ""]
    if added:
        out += ["### Studies added", ""] + [f"- {_code(k)}: " + ", ".join(
            f"{n} {', '.join(_as_list(new_r[k].get(n))) or '—'}" for n in ADDED_SUMMARY) for k in added]
        out.append("")
    if removed:
        out += ["### Studies removed", ""] + [f"- {_code(k)}" for k in removed] + [""]
    if recoded:
        out += ["### Codes changed", "", "| Study | Field | Added | Removed |", "|---|---|---|---|"]
        out += [f"| {_code(k)} | {n} | {', '.join(plus) or '—'} | {', '.join(minus) or '—'} |"
                for k, n, plus, minus in recoded]
        out.append("")
    if retexted:
        out += ["### Text changed", ""] + [f"- {_code(k)}: {what}" for k, what in retexted] + [""]
    if term_lines:
        out += ["### Codebook", "", *term_lines, ""]
    if bib_lines:
        out += ["### Bibliography", "", *bib_lines, ""]
    return "\n".join(out)
