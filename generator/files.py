"""Writing a file whole, through its descriptor: the one way the build writes many files at once
(build/docs in `build._write_files`, the search's reading copy in `search_cache._copy`)."""

from __future__ import annotations

import os
from collections.abc import Iterable

_WRITE = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0)


def write_whole(path: str, parts: Iterable[bytes | memoryview]) -> os.stat_result:
    """Write `parts` one after the other as the file at `path` (created or emptied first) and return its
    stat. The descriptor's fstat gives the size and time without a second look-up of the path (a first
    generation writes 1,860 files at 1,000 studies: 0.01 s less than pathlib). Raises OSError, and
    FileNotFoundError when the folder is missing."""
    fd = os.open(path, _WRITE, 0o666)
    try:
        for part in parts:
            view = memoryview(part)
            while view:
                view = view[os.write(fd, view):]
        return os.fstat(fd)
    finally:
        os.close(fd)
