"""The second process every stage shares work with (generator/forked.py): what comes back, what a failure
gives, how it is stopped, and the numbers and lock it shares."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from generator import forked

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="processes are forked only where fork exists")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_the_answer_comes_back_whole() -> None:
    big = {"text": "é" * 3_000_000, "numbers": list(range(100_000))}  # far more than a pipe holds at once
    assert forked.Forked(lambda: big).result() == big


def test_the_job_gets_its_arguments_and_what_this_process_had_loaded() -> None:
    here = {"loaded": [1, 2, 3]}
    assert forked.Forked(lambda a, b: (here["loaded"], a, b), "x", 2).result() == ([1, 2, 3], "x", 2)


@pytest.mark.parametrize("job", [
    lambda: 1 / 0,  # it raises
    lambda: os._exit(3),  # it dies before it answers
    lambda: (lambda: None),  # an answer pickle cannot write
    lambda: sys.exit(1),  # SystemExit is caught too: the caller decides what to do
], ids=["raises", "dies", "unpicklable", "exits"])
def test_a_job_that_fails_answers_none(job: object) -> None:
    process = forked.Forked(job)  # type: ignore[arg-type]
    assert process.result() is None
    assert not process.alive


def test_a_process_is_reaped_and_forgotten_once_answered() -> None:
    process = forked.Forked(os.getpid)
    child = process.result()
    assert child != os.getpid()
    assert process not in forked._RUNNING
    with pytest.raises(ChildProcessError):
        os.waitpid(child, os.WNOHANG)  # reaped: no zombie left behind


def test_stop_ends_a_process_that_is_still_working() -> None:
    process = forked.Forked(time.sleep, 60)
    assert process.alive
    started = time.monotonic()
    process.stop()
    assert not process.alive
    assert time.monotonic() - started < 10
    assert process not in forked._RUNNING


def test_a_process_still_working_when_the_program_ends_is_stopped(tmp_path: Path) -> None:
    """As a daemonic multiprocessing process was: the program's exit stops it (at exit, and through end_now)."""
    for ending in ("pass", "forked.end_now(0)"):
        pid_file = tmp_path / "pid"
        script = ("import os, sys, time\nfrom generator import forked\n"
                  "p = forked.Forked(time.sleep, 60)\n"
                  f"open({str(pid_file)!r}, 'w').write(str(p._pid))\n{ending}\n")
        subprocess.run([sys.executable, "-c", script], check=True, timeout=30)
        pid = int(pid_file.read_text())
        deadline = time.monotonic() + 10
        while _pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _pid_alive(pid), ending


def test_output_buffered_before_the_fork_is_written_once() -> None:
    script = ("import sys\nfrom generator import forked\nsys.stdout.write('before\\n')\n"
              "forked.Forked(lambda: print('child', flush=True)).result()\nprint('after')\n")
    out = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True,
                         timeout=30).stdout
    assert out.splitlines() == ["before", "child", "after"]


def test_shared_numbers_and_their_lock_hold_across_processes() -> None:
    shared = forked.Shared(0, 7)

    def add(times: int) -> int:
        for _ in range(times):
            with shared:
                value = shared.values[0]
                time.sleep(0) if value % 97 == 0 else None  # let the other process run inside the lock now and then
                shared.values[0] = value + 1
        return int(shared.values[1])

    other = forked.Forked(add, 2000)
    assert add(2000) == 7
    assert other.result() == 7
    assert shared.values[0] == 4000  # no increment lost: the lock kept the two apart
    shared.close()


def test_a_signal_to_the_child_is_its_own() -> None:
    """A child ended by a signal answers None, and this process goes on."""
    process = forked.Forked(time.sleep, 60)
    assert process._pid is not None
    os.kill(process._pid, signal.SIGKILL)
    assert process.result() is None
