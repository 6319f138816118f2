"""Work run in a forked process beside this one, on the machine's second core.

Four stages share their work this way: loading parses a large references.bib while the records are read
(load.py), checking hands out the bibliography's entries and part of the records (check.py), rendering
hands out parts of the pages and chunks of study pages as they are asked for (pages.py), and MkDocs,
through the atlas-cache plugin, hands out half of the pages it renders (site_cache.py). Each gives a function to `Forked`
and asks for its `result` when it needs it; a process that fails gives None, and the caller then does the
work itself or stops, as it decides. A forked process shares what this one has already loaded, without
copying or pickling it; only the result comes back, pickled (the render's comes back job by job, through
files: pages._spool).

`end_now` ends a program (`evidence`, and `mkdocs build` through the atlas-cache plugin) once its work is
done, without the interpreter's teardown.
"""

from __future__ import annotations

import atexit
import contextlib
import multiprocessing
import os
import sys
from collections.abc import Callable
from typing import Any, NoReturn


def available() -> bool:
    """Whether a second process can help: two cores or more, and processes started by fork (not on Windows)."""
    return (os.cpu_count() or 1) >= 2 and "fork" in multiprocessing.get_all_start_methods()


class Forked:
    """`job(*args)` run in a forked process, started at once; `result()` waits for what it returned (None if
    it raised or the process died)."""

    def __init__(self, job: Callable[..., Any], *args: Any) -> None:
        context = multiprocessing.get_context("fork")
        self._receiver, sender = context.Pipe(duplex=False)
        self._process = context.Process(target=_run, args=(sender, job, args), daemon=True)
        self._process.start()
        sender.close()

    def result(self) -> Any:
        try:
            return self._receiver.recv()
        except (EOFError, OSError):  # the process died before it answered
            return None
        finally:
            self._receiver.close()
            self._process.join()

    def stop(self) -> None:
        """End the process without its answer (the work it was helping with has failed)."""
        if self._process.is_alive():
            self._process.terminate()
        self._process.join()
        self._receiver.close()

    @property
    def alive(self) -> bool:
        return self._process.is_alive()


def _run(sender: Any, job: Callable[..., Any], args: tuple[Any, ...]) -> None:
    try:
        out = job(*args)
    except BaseException:  # the caller learns of it by the None, and does the work again where it can report it
        out = None
    sender.send(out)
    sender.close()


def end_now(code: int) -> NoReturn:
    """End this process with `code`, without tearing the interpreter down.

    Everything a normal exit does that anyone sees is done: the output is flushed (a closed pipe, as in
    `evidence check | head`, is left as it is) and the functions registered to run at exit run (temporary
    folders' clean-up, logging's last flush, multiprocessing's). What is skipped is the teardown of every
    module and object, which nobody sees: 0.015 s of `evidence check` and 0.04 s of `evidence build` at
    1,000 studies (numpy's and Jinja's modules, the loaded evidence), and 0.035 to 0.1 s of `mkdocs build`
    at 1,000 to 10,000 studies (its modules, the site's pages, files and navigation)."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    atexit._run_exitfuncs()
    os._exit(code)
