"""How long `evidence check` takes against a bare bibtexparser parse of the same references.bib (issue #17).

Both run as fresh processes (interpreter start-up and imports included), in alternation, and the
median of the runs is printed. The target is check <= 2 x the bare parse. No run leaves anything
behind that a later run could reuse: there is no cache to warm.

Usage: python bench/check_speed.py ROOT [RUNS]      (RUNS defaults to 3)
       python bench/check_speed.py --make N DEST     (synthesise N studies into DEST first)
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def wall(cmd: list[str]) -> float:
    """Wall seconds of one fresh process, from spawn to exit."""
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    seconds = time.perf_counter() - started
    if proc.returncode not in (0, 1):  # 1: the check found errors, still a complete run
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return seconds


def main(argv: list[str]) -> int:
    if argv[:1] == ["--make"]:
        sys.path.insert(0, str(HERE))
        from synth import synthesise

        synthesise(int(argv[1]), Path(argv[2]))
        argv = argv[2:]
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    root = Path(argv[0]).resolve()
    runs = int(argv[1]) if len(argv) > 1 else 3
    py = sys.executable
    bare = [py, "-c", "import bibtexparser,sys; bibtexparser.parse_string(open(sys.argv[1]).read())",
            str(root / "references.bib")]
    check = [py, "-m", "generator", "--root", str(root), "check"]
    bare_s, check_s = [], []
    for _ in range(runs):
        bare_s.append(wall(bare))
        check_s.append(wall(check))
    b, c = statistics.median(bare_s), statistics.median(check_s)
    studies = len(list((root / "evidence/studies").glob("*.yaml")))
    print(f"{studies} studies, median of {runs}: bare parse {b:.2f} s, check {c:.2f} s, "
          f"ratio {c / b:.2f} (target <= 2.00: {'met' if c <= 2 * b else 'MISSED'})")
    print(f"  bare runs: {', '.join(f'{s:.2f}' for s in bare_s)}; check runs: {', '.join(f'{s:.2f}' for s in check_s)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
