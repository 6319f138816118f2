"""Plot each benchmark figure against the number of studies, as small static SVG files.

Each chart shows the measured points joined by a line, and a dashed line through the origin and the
first point: what the figure would be if it grew linearly with the number of studies. A measured line
that bends above the dashed one grows faster than linearly. No plotting library is needed.
"""

from __future__ import annotations

import html
from pathlib import Path

W, H, PAD = 420, 260, 48
FIGURES = {  # column -> (title, unit)
    "check_s": ("evidence check, cold", "s"),
    "bib_parse_s": ("bare bibtexparser parse", "s"),
    "generate_s": ("generator step (warm citation cache)", "s"),
    "build_s": ("full build", "s"),
    "build_mb": ("full build, peak memory", "MB"),
    "rebuild_s": ("rebuild after one record changes", "s"),
    "site_mb": ("site size", "MB"),
    "site_files": ("site files", "files"),
    "study_page_kb_median": ("study page size (median)", "KB"),
    "first_search_mb": ("first search download", "MB"),
}


def _chart(rows: list[dict[str, object]], column: str, title: str, unit: str) -> str:
    points = [(float(r["studies"]), float(r[column])) for r in rows]  # type: ignore[arg-type]
    xmax = max(x for x, _ in points) or 1.0
    first_x, first_y = points[0]
    linear = [(x, first_y * x / first_x) for x, _ in points] if first_x else []
    ymax = max([y for _, y in points] + [y for _, y in linear] + [1e-9]) * 1.1

    def sx(x: float) -> float:
        return PAD + (W - 2 * PAD) * x / xmax

    def sy(y: float) -> float:
        return H - PAD - (H - 2 * PAD) * y / ymax

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" role="img" '
           f'aria-labelledby="t d"><title id="t">{html.escape(title)} against the number of studies</title>',
           f'<desc id="d">{html.escape("; ".join(f"{int(x):,} studies: {y:.2f} {unit}" for x, y in points))}</desc>',
           '<rect width="100%" height="100%" fill="white"/>',
           f'<text x="{W / 2}" y="20" text-anchor="middle" font-family="sans-serif" font-size="13">'
           f'{html.escape(title)} ({html.escape(unit)})</text>',
           f'<line x1="{PAD}" y1="{H - PAD}" x2="{W - PAD}" y2="{H - PAD}" stroke="black"/>',
           f'<line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{H - PAD}" stroke="black"/>']
    for x, _ in points:
        out.append(f'<text x="{sx(x):.1f}" y="{H - PAD + 16}" text-anchor="middle" font-family="sans-serif" '
                   f'font-size="11">{int(x):,}</text>')
    for frac in (0.0, 0.5, 1.0):
        y = ymax / 1.1 * frac
        out.append(f'<text x="{PAD - 6}" y="{sy(y) + 4:.1f}" text-anchor="end" font-family="sans-serif" '
                   f'font-size="11">{y:.3g}</text>')
    if linear:
        out.append('<polyline fill="none" stroke="#888" stroke-dasharray="4 3" points="'
                   + " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in [(0.0, 0.0), *linear]) + '"/>')
    out.append('<polyline fill="none" stroke="#3949ab" stroke-width="2" points="'
               + " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in points) + '"/>')
    for x, y in points:
        out.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3.5" fill="#3949ab"/>')
    out.append(f'<text x="{W / 2}" y="{H - 10}" text-anchor="middle" font-family="sans-serif" font-size="11">'
               'studies (dashed: linear growth from the first point)</text></svg>')
    return "\n".join(out) + "\n"


def plot(rows: list[dict[str, object]], folder: Path) -> list[Path]:
    """One SVG per figure in `folder`; nothing when fewer than two sizes were measured."""
    if len(rows) < 2:
        return []
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for column, (title, unit) in FIGURES.items():
        if all(column in r for r in rows):
            path = folder / f"{column}.svg"
            path.write_text(_chart(rows, column, title, unit), encoding="utf-8")
            written.append(path)
    return written
