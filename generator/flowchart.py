"""PRISMA-style flow diagrams as static SVG, drawn at build time from the screening counts.

One diagram per route: identified -> duplicates removed -> screened -> excluded
(by reason) -> included -> coded in the atlas (and awaiting details). The SVG
names itself (role="img" with a title and a description that reads the whole
flow as a sentence); the page also gives the same counts as a table.
"""

from __future__ import annotations

import html
from collections.abc import Callable

from .screening import Flow

WIDTH = 720
BOX_W = 330
SIDE_X = 380
SIDE_W = 320
LINE = 18


def _box(x: int, y: int, w: int, lines: list[str], css: str) -> tuple[str, int]:
    h = 14 + LINE * len(lines)
    bold = ' font-weight="bold"'
    text = "".join(
        f'<text x="{x + 12}" y="{y + 10 + LINE * (i + 1) - 4}"{bold if i == 0 else ""}>{html.escape(line)}</text>'
        for i, line in enumerate(lines))
    return f'<rect class="{css}" x="{x}" y="{y}" width="{w}" height="{h}" rx="4"/>{text}', h


def _arrow(x1: int, y1: int, x2: int, y2: int) -> str:
    return f'<line class="atlas-flow-arrow" x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" marker-end="url(#atlas-arrow)"/>'


def sentence(flow: Flow, reason_label: Callable[[str], str]) -> str:
    """The whole flow in words: the diagram's description and its text alternative."""
    reasons = "; ".join(f"{reason_label(r).lower()}: {n}" for r, n in flow.excluded) or "none"
    return (f"{flow.label}: {flow.identified} candidates identified; {flow.duplicates} duplicates removed; "
            f"{flow.screened} screened on title and abstract; {flow.excluded_total} excluded ({reasons}); "
            f"{flow.included} included, of which {flow.coded} are coded in the atlas and {flow.deferred} await "
            f"bibliographic details.")


def flow_svg(flow: Flow, ident: str, reason_label: Callable[[str], str]) -> str:
    parts: list[str] = []
    y = 10
    main_x = 10
    centre = main_x + BOX_W // 2
    box, h = _box(main_x, y, BOX_W, [f"Identified: {flow.identified}", "every result of every query"
                                     if flow.route == "search" else "every included study that could be read"],
                  "atlas-flow-box")
    parts.append(box)
    y_dup = y + h + 30
    box, hd = _box(SIDE_X, y + h + 6, SIDE_W, [f"Duplicates removed: {flow.duplicates}"], "atlas-flow-side")
    parts += [box, _arrow(centre, y + h, centre, y_dup + 24),
              _arrow(centre, y + h + 6 + hd // 2, SIDE_X, y + h + 6 + hd // 2)]
    y = y_dup + 24
    box, h = _box(main_x, y, BOX_W, [f"Screened: {flow.screened}", "on title and abstract"], "atlas-flow-box")
    parts.append(box)
    reasons = [f"{reason_label(r)}: {n}" for r, n in flow.excluded] or ["(none)"]
    box, he = _box(SIDE_X, y, SIDE_W, [f"Excluded: {flow.excluded_total}", *reasons], "atlas-flow-side")
    parts += [box, _arrow(main_x + BOX_W, y + 20, SIDE_X, y + 20)]
    y_next = y + max(h, he) + 30
    parts.append(_arrow(centre, y + h, centre, y_next))
    y = y_next
    box, h = _box(main_x, y, BOX_W, [f"Included: {flow.included}"], "atlas-flow-box")
    parts.append(box)
    y_next = y + h + 30
    parts.append(_arrow(centre, y + h, centre, y_next))
    y = y_next
    box, h = _box(main_x, y, BOX_W, [f"Coded in the atlas: {flow.coded}",
                                     f"awaiting bibliographic details: {flow.deferred}"], "atlas-flow-final")
    parts.append(box)
    height = y + h + 10
    title = f"Flow of candidates: {flow.label}"
    return (f'<svg class="atlas-flow" role="img" aria-labelledby="{ident}-t {ident}-d" viewBox="0 0 {WIDTH} {height}" '
            f'width="{WIDTH}" height="{height}" xmlns="http://www.w3.org/2000/svg">'
            f'<title id="{ident}-t">{html.escape(title)}</title>'
            f'<desc id="{ident}-d">{html.escape(sentence(flow, reason_label))}</desc>'
            '<defs><marker id="atlas-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
            'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z"/></marker></defs>'
            + "".join(parts) + "</svg>")
