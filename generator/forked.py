"""Work run in a forked process beside this one, on the machine's second core.

Four stages share their work this way: loading parses a large references.bib while the records are
read, and reads some of the records itself once it is done (load.py); checking hands out the
bibliography's entries and part of the records (check.py); rendering hands out parts of the pages and
chunks of study pages as they are asked for (pages.py); and MkDocs, through the atlas-cache plugin,
hands out half of the pages it renders (site_cache.py). Each gives a function to `Forked` and asks for
its `result` when it needs it; a process that fails gives None, and the caller then does the work
itself or stops, as it decides. A forked process shares what this one has already loaded, without
copying or pickling it; only the result comes back, pickled (the render's comes back job by job,
through files: pages._spool). Where the processes must agree on something as they go (which job or
record file is whose, when to stop), they share numbers and a lock (`Shared`).

`end_now` ends a program (`evidence`, and `mkdocs build` through the atlas-cache plugin) once its work is
done, without the interpreter's teardown.
"""

from __future__ import annotations

import atexit
import contextlib
import mmap
import os
import pickle
import sys
from collections.abc import Callable
from signal import SIGTERM
from typing import Any, NoReturn


def available() -> bool:
    """Whether a second process can help: two cores or more, and processes started by fork (not on Windows)."""
    return (os.cpu_count() or 1) >= 2 and hasattr(os, "fork")


class Forked:
    """`job(*args)` run in a forked process, started at once; `result()` waits for what it returned (None if
    it raised or the process died).

    The process is made by os.fork, and its answer comes back pickled through a pipe. multiprocessing's
    Process did the same with more around it, and importing that (its connections, util and, through them,
    tempfile and subprocess) took 0.005 s in each program that forked, on the way to the work (3% of
    `evidence check` at 1,000 studies). As multiprocessing does for a daemonic process, a process still
    running when this program ends is stopped (`_stop_all`, at exit)."""

    def __init__(self, job: Callable[..., Any], *args: Any) -> None:
        for stream in (sys.stdout, sys.stderr):  # what is buffered is written once, here, not again by the child
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        receiver, sender = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: the job, its answer, and an exit that runs nothing of this program's
            try:
                os.close(receiver)
                _run(sender, job, args)
            finally:
                os._exit(0)
        os.close(sender)
        self._pid: int | None = pid
        self._receiver = receiver
        _RUNNING.add(self)

    def result(self) -> Any:
        chunks = []
        try:
            while chunk := os.read(self._receiver, 1 << 20):
                chunks.append(chunk)
            return pickle.loads(b"".join(chunks)) if chunks else None  # nothing: it died before it answered
        except Exception:  # an unreadable answer (a process that died while writing it) is no answer
            return None
        finally:
            self._end(signal=False)

    def stop(self) -> None:
        """End the process without its answer (the work it was helping with has failed)."""
        self._end(signal=True)

    def _end(self, signal: bool) -> None:
        _RUNNING.discard(self)
        with contextlib.suppress(OSError):
            os.close(self._receiver)
        if self._pid is not None:
            if signal and self.alive:
                with contextlib.suppress(OSError):
                    os.kill(self._pid, SIGTERM)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self._pid, 0)
            self._pid = None

    @property
    def alive(self) -> bool:
        if self._pid is None:
            return False
        try:
            return os.waitpid(self._pid, os.WNOHANG) == (0, 0)
        except ChildProcessError:
            return False


_RUNNING: set[Forked] = set()


@atexit.register
def _stop_all() -> None:
    for process in list(_RUNNING):
        process.stop()


class Shared:
    """Whole numbers that this process and the processes it forks after making them all read and write (an
    anonymous shared mapping), with a lock between the processes (`with shared:`; a pipe holding one byte).

    multiprocessing's Value and Lock do the same, but importing what they need (its shared-memory heap,
    ctypes, tempfile and subprocess among them) took 0.008 to 0.012 s, once in each process, on the way to the
    work they share. `close` releases the mapping and the pipe (the processes that share them have ended)."""

    def __init__(self, *values: int) -> None:
        self._map = mmap.mmap(-1, 8 * max(len(values), 1))
        self.values = memoryview(self._map).cast("q")
        for n, value in enumerate(values):
            self.values[n] = value
        self._taken, self._given = os.pipe()
        os.write(self._given, b"\0")

    def __enter__(self) -> Shared:
        os.read(self._taken, 1)  # blocks while another process holds the byte
        return self

    def __exit__(self, *_: object) -> None:
        os.write(self._given, b"\0")

    def close(self) -> None:
        for fd in (self._taken, self._given):
            with contextlib.suppress(OSError):
                os.close(fd)
        self.values.release()
        self._map.close()


def _run(sender: int, job: Callable[..., Any], args: tuple[Any, ...]) -> None:
    try:
        out = job(*args)
    except BaseException:  # the caller learns of it by the None, and does the work again where it can report it
        out = None
    try:
        data = pickle.dumps(out, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # an answer that cannot be pickled is no answer
        data = pickle.dumps(None)
    view = memoryview(data)
    while view:
        view = view[os.write(sender, view):]
    os.close(sender)


def end_now(code: int) -> NoReturn:
    """End this process with `code`, without tearing the interpreter down.

    Everything a normal exit does that anyone sees is done: the output is flushed (a closed pipe, as in
    `evidence check | head`, is left as it is) and the functions registered to run at exit run (temporary
    folders' clean-up, logging's last flush, the stop of forked processes still running: _stop_all).
    What is skipped is the teardown of every module and object, which nobody sees: 0.015 s of `evidence
    check` and 0.04 s of `evidence build` at 1,000 studies (numpy's and Jinja's modules, the loaded
    evidence), and 0.035 to 0.1 s of `mkdocs build` at 1,000 to 10,000 studies (its modules, the site's
    pages, files and navigation)."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    atexit._run_exitfuncs()
    os._exit(code)
