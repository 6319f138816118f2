"""The generator's relative links: its own relpath must agree with posixpath.relpath on its paths."""

from __future__ import annotations

import posixpath

from hypothesis import given
from hypothesis import strategies as st

from generator.urls import relpath as _relpath

segment = st.sampled_from(["studies", "logics", "compare", "a", "b", "gap-map", "x--y", "index.md", "c.md"])
path = st.lists(segment, min_size=1, max_size=4).map("/".join)


@given(target=path, start=st.one_of(st.just("."), path))
def test_relpath_agrees_with_posixpath(target: str, start: str) -> None:
    assert _relpath(target, start) == posixpath.relpath(target, start)
