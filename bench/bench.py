"""Benchmark: speed, memory and output size at 1,000 and 10,000 studies (`make bench`; never `make test`).

For each size it synthesises an evidence base (bench/synth.py), then times, in
fresh processes, with each one's peak memory:
  1. a bare bibtexparser parse of the same references.bib, for comparison;
  2. `evidence check`, cold (no cache of any kind is read by the check);
  3. the generator step alone (`evidence generate`: records to Markdown and data), with a cold citation
     cache, once; then three rounds of 4 to 6, back to back:
  4. the generator step with a warm citation cache (a full pass: the render cache of study pages and
     build/docs are removed first);
  5. the full site build (`evidence build`: generator, MkDocs, Pagefind), with no page or render cache
     and no build/docs, so that its generator writes every file, as step 4 does;
  6. a rebuild after one record changes (the page and render caches of step 5 are reused), a different
     record each round;
  7. a full build of the last changed input with both caches removed, whose output must be
     byte-identical to the rebuild's.
Folders are emptied for a step by moving them aside (into the run's temporary folder, deleted when the whole
run ends), never by deleting them just before the timed step. On this machine's file system (ext4 without a
journal) a file created less than 30 s after many were deleted costs the kernel a scan over the freed inodes
(ext4's `recently_deleted`): in one profile of the generator step run right after `rm -rf build/docs`, that
scan was 11% of all samples; on one input the step took 10.6 to 15.6 s in three tries after the deletion,
and 11.6 to 11.8 s in three with the folders moved aside. That cost belongs to the benchmark's own
deletion, not to the step it times. The deletions the build itself makes (the site it replaces) are left
where the build makes them, and are timed.
The machine's noise moves a single timing by a fifth or more (Pagefind alone took 8 to 14 s on one unchanged
site; the bare parse 0.59 to 1.12 s in two runs of one day), so steps 1 and 2 run alternately, and each round
of 4 to 6 gives a generator share and a rebuild share over the build of the same round. Every figure that
is run three times is the median, with the fastest and slowest beside it.
It prints the figures and the targets of issue #17, and writes them, dated, to bench/results/,
with one SVG per figure against the number of studies (bench/plot.py).

Usage: python bench/bench.py [SIZE ...] [--name=NAME]     (default: 1000 3000 10000; NAME suffixes the dated results)
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from plot import plot  # noqa: E402
from synth import synthesise  # noqa: E402

STUDY_CACHE = "build/cache/md"  # generator/render_cache.py FOLDER (the benchmark runs the generator as a program)
SEARCH_CACHE = "build/cache/search"  # generator/search_cache.py FOLDER: the last build's search fragments
LOAD_CACHE = "build/cache/load"  # generator/load_cache.py FOLDER: the records' data and the parsed bibliography
TEMPLATE_CACHE = "build/cache/templates"  # the compiled templates of the generator and of the theme


def measure(cmd: list[str], cwd: Path) -> tuple[float, float, str]:
    """Wall seconds, peak RSS in MB, and stderr of one command in a fresh process.

    What earlier steps wrote or deleted is flushed first (os.sync): on this file system (ext4 with online
    discard) the discards of a deleted build/docs and the write-back of a written site otherwise land inside
    the next timing, whichever step it is."""
    os.sync()
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "SOURCE_DATE_EPOCH": "1764288000"})
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err[-2000:]}")
    return seconds, usage.ru_maxrss / 1024, err


REPEATS = 3  # runs of the bare parse and the check (alternately), and rounds of generator step, build and rebuild


def median(runs: list[float]) -> float:
    return sorted(runs)[len(runs) // 2]


def spread(runs: list[float], places: int = 2) -> str:
    """The runs behind a median, as printed beside it: 'fastest-slowest'."""
    return f"{min(runs):.{places}f}-{max(runs):.{places}f}"


def size_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def tree_digest(site: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(site.rglob("*")):
        if p.is_file():
            h.update(p.relative_to(site).as_posix().encode() + b"\0" + hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()


def set_aside(path: Path, aside: Path) -> None:
    """Empty `path` for the next step by moving it into `aside`, which is deleted only when the run ends."""
    if path.exists():
        aside.mkdir(parents=True, exist_ok=True)
        path.rename(aside / f"{sum(1 for _ in aside.iterdir()):05d}-{path.name}")


def run_size(n: int, work: Path) -> dict[str, object]:
    py = sys.executable
    root = synthesise(n, work / f"atlas-{n}")
    aside = work / "aside"

    def clear(*parts: str) -> None:
        for part in parts:
            set_aside(root / part, aside)

    row: dict[str, object] = {"studies": n}
    bib_cmd = [py, "-c", "import bibtexparser,sys; bibtexparser.parse_string(open(sys.argv[1]).read())",
               str(root / "references.bib")]
    parses, checks = [], []
    for _ in range(REPEATS):  # side by side, so that the ratio compares runs under the same machine state
        seconds, row["bib_parse_mb"], _ = measure(bib_cmd, ROOT)
        parses.append(seconds)
        seconds, row["check_mb"], _ = measure([py, "-m", "generator", "--root", str(root), "check"], ROOT)
        checks.append(seconds)
    row["bib_parse_s"], row["bib_parse_s_runs"] = median(parses), spread(parses)
    row["check_s"], row["check_s_runs"] = median(checks), spread(checks)
    # the generator step as a program of its own (`evidence generate`): it ends as `evidence build` does after
    # its generator step (no teardown of the step's objects; build frees them while MkDocs works)
    gen = [py, "-m", "generator", "--root", str(root), "generate", "--quiet"]
    row["generate_cold_s"], row["generate_mb"], _ = measure(gen, ROOT)  # citation cache empty
    build = [py, "-m", "generator", "--root", str(root), "build"]
    records = sorted((root / "evidence/studies").glob("*.yaml"))
    gens, builds, builders, build_mbs, rebuilds = [], [], [], [], []
    err = ""
    # Three rounds of: the generator step, a full build and a one-record rebuild, back to back. Each share
    # divides two timings of one round, taken under the same machine state: in one day's runs the bare parse
    # took 0.59 to 1.12 s and the full build 126 to 188 s, and a share over a build timed once moved with it.
    for record in (records[n // 3], records[2 * n // 3], records[n // 2]):
        # the generator step: warm citation cache, as in every later build; no render, load or template cache,
        # no build/docs
        clear("build/docs", STUDY_CACHE, LOAD_CACHE, TEMPLATE_CACHE)
        gens.append(measure(gen, ROOT)[0])
        # the full build: no page, render, load or template cache and no build/docs, as the step it is compared with
        clear("build/cache/pages", STUDY_CACHE, SEARCH_CACHE, LOAD_CACHE, TEMPLATE_CACHE, "build/docs")
        seconds, mb, err = measure(build, ROOT)
        builds.append(seconds)
        build_mbs.append(mb)
        builders.append(float(re.search(r"built site/ in ([0-9.]+) s", err).group(1)))  # type: ignore[union-attr]
        # the rebuild: one record changed (a different one each round), the build's caches reused
        record.write_text(record.read_text(encoding="utf-8").replace("summary: ", "summary: Changed. ", 1),
                          encoding="utf-8")
        seconds, row["rebuild_mb"], err = measure(build, ROOT)
        rebuilds.append(seconds)
    row["generate_s"], row["generate_s_runs"] = median(gens), spread(gens)
    row["build_s"], row["build_s_runs"] = median(builds), spread(builds)
    row["builder_s"], row["build_mb"] = median(builders), max(build_mbs)
    row["rebuild_s"], row["rebuild_s_runs"] = median(rebuilds), spread(rebuilds)
    shares = [g / b for g, b in zip(gens, builds, strict=True)]
    row["generator_share"], row["generator_share_runs"] = median(shares), spread(shares, 3)
    shares = [r / b for r, b in zip(rebuilds, builds, strict=True)]
    row["rebuild_share"], row["rebuild_share_runs"] = median(shares), spread(shares, 3)
    reuse = re.search(r"\((\d+) pages reused, (\d+) rendered[;)]", err)
    row["rebuild_pages_rendered"] = int(reuse.group(2)) if reuse else -1
    studies = re.search(r"([\d,]+) study pages reused", err)
    row["rebuild_study_pages_reused"] = int(studies.group(1).replace(",", "")) if studies else -1
    site = root / "site"
    rebuilt = tree_digest(site)
    clear("build/cache/pages", STUDY_CACHE, SEARCH_CACHE, LOAD_CACHE, TEMPLATE_CACHE)
    measure(build, ROOT)
    row["rebuild_identical"] = "yes" if tree_digest(site) == rebuilt else "NO"
    row["site_mb"] = size_mb(site)
    row["site_files"] = sum(1 for p in site.rglob("*") if p.is_file())
    pages = sorted(p.stat().st_size for p in (site / "studies").glob("*/index.html"))
    row["study_page_kb_median"] = pages[len(pages) // 2] / 1000
    row["study_page_kb_max"] = pages[-1] / 1000
    row["first_search_mb"] = first_search_bytes(site / "pagefind") / 1e6
    row["serve_preview_s"] = serve_preview(root, record)
    return row


def serve_preview(root: Path, record: Path) -> float:
    """Seconds from saving one record to the end of the preview's rebuild under `evidence serve`
    (its regeneration, then MkDocs' rebuild through the page cache), timed from the preview's own log."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = root / "serve.log"
    done = re.compile(r"atlas-cache: \d+ pages reused, \d+ rendered")
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "generator", "--root", str(root), "serve", "--addr",
                                 f"127.0.0.1:{port}"], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                env={**os.environ, "SOURCE_DATE_EPOCH": "1764288000"})
    try:
        def wait(n: int, limit: float) -> None:
            end = time.monotonic() + limit
            while time.monotonic() < end:
                text = log.read_text(encoding="utf-8")
                if len(done.findall(text)) >= n and "Serving on" in text:
                    return
                if proc.poll() is not None:
                    raise SystemExit(f"evidence serve stopped:\n{text[-2000:]}")
                time.sleep(0.1)
            raise SystemExit(f"evidence serve did not rebuild within {limit:.0f} s:\n{log.read_text()[-2000:]}")

        wait(1, 1800)
        time.sleep(2)  # the watcher's first snapshot is taken
        started = time.monotonic()
        record.write_text(record.read_text(encoding="utf-8").replace("summary: ", "summary: Saved. ", 1),
                          encoding="utf-8")
        wait(2, 600)
        return time.monotonic() - started
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def first_search_bytes(pf: Path) -> int:
    """An upper bound of what a browser downloads for a first one-word search with Pagefind's UI:
    the scripts, the entry file, the metadata and wasm, the largest index chunk and the five
    largest result fragments (the UI shows five results first)."""
    fixed = ["pagefind.js", "pagefind-worker.js", "pagefind-ui.js", "pagefind-ui.css", "pagefind-entry.json",
             "wasm.en.pagefind"]
    total = sum((pf / name).stat().st_size for name in fixed if (pf / name).exists())
    total += sum(p.stat().st_size for p in pf.glob("*.pf_meta"))
    total += max((p.stat().st_size for p in (pf / "index").glob("*.pf_index")), default=0)
    total += sum(sorted((p.stat().st_size for p in (pf / "fragment").glob("*.pf_fragment")), reverse=True)[:5])
    return total


TARGETS = [
    ("check_s", "≤ 2 × a bare bibtexparser parse", lambda r: r["check_s"] <= 2 * r["bib_parse_s"]),
    ("rebuild_s", "≤ 15% of a full build, byte-identical to a full build",
     lambda r: r["rebuild_share"] <= 0.15 and r["rebuild_identical"] == "yes"),
    ("build_s", "≤ 300 s, peak memory ≤ 1.2 GB", lambda r: r["build_s"] <= 300 and r["build_mb"] <= 1200),
    ("generator_share", "≤ 10% of the build", lambda r: r["generator_share"] <= 0.10),
    ("site_mb", "≤ 250 MB", lambda r: r["site_mb"] <= 250),
    ("first_search_mb", "≤ 1 MB", lambda r: r["first_search_mb"] <= 1.0),
    ("serve_preview_s", "≤ 30 s from saving a record to the rebuilt preview",
     lambda r: r["serve_preview_s"] <= 30),
]
COLS = ["studies", "bib_parse_s", "bib_parse_s_runs", "check_s", "check_s_runs", "check_mb", "generate_cold_s",
        "generate_s", "generate_s_runs",
        "generate_mb", "builder_s", "build_s", "build_s_runs", "build_mb", "generator_share", "generator_share_runs",
        "rebuild_s", "rebuild_s_runs", "rebuild_share", "rebuild_share_runs", "rebuild_pages_rendered",
        "rebuild_study_pages_reused", "rebuild_identical", "site_mb", "site_files", "study_page_kb_median",
        "study_page_kb_max", "first_search_mb", "serve_preview_s"]


def report(rows: list[dict[str, object]]) -> str:
    lines = ["| " + " | ".join(COLS) + " |", "|" + "---|" * len(COLS)]
    for r in rows:
        lines.append("| " + " | ".join(f"{r[c]:.2f}" if isinstance(r[c], float) else str(r[c]) for c in COLS) + " |")
    lines += ["", "Targets of issue #17 (a study page's size must not grow with the number of studies: compare "
              "study_page_kb_median across sizes):", ""]
    for r in rows:
        for key, text, ok in TARGETS:
            lines.append(f"- {r['studies']} studies, {key} {text}: {'met' if ok(r) else 'MISSED'}")
    return "\n".join(lines) + "\n"


def main() -> int:
    # sizes, and optionally --name=NAME: the results are then written as <date>-NAME (a second run on
    # one day keeps the first)
    name = next((a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("--name=")), "")
    sizes = [int(a) for a in sys.argv[1:] if not a.startswith("--")] or [1000, 3000, 10000]
    stem = dt.date.today().isoformat() + (f"-{name}" if name else "")
    # The generator's modules compiled to bytecode, as pip compiles an installed package's: where the
    # environment sets PYTHONDONTWRITEBYTECODE (this machine's does), every process would otherwise compile
    # them again (about 0.1 s of each `evidence` command), which a bare parse, from compiled site-packages,
    # never pays. `make install` does the same.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "generator")], check=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="atlas-bench-") as tmp:
        for n in sizes:
            print(f"benchmarking {n} studies ...", file=sys.stderr, flush=True)
            rows.append(run_size(n, Path(tmp)))
            print(report(rows[-1:]), file=sys.stderr)
    header = (f"# Benchmark {dt.date.today().isoformat()}\n\n"
              f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
              f"{platform.platform()}. Times are wall seconds of a fresh process; memory is its peak RSS.\n\n")
    text = header + report(rows)
    print(text)
    out = HERE / "results" / f"{stem}.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(text, encoding="utf-8")
    (HERE / "results" / f"{stem}.json").write_text(json.dumps(rows, indent=1) + "\n",
                                                                         encoding="utf-8")
    for svg in plot(rows, HERE / "results" / f"{stem}-plots"):
        print(f"wrote {svg.relative_to(ROOT)}", file=sys.stderr)
    print(f"wrote {out.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
