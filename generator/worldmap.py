"""A static SVG choropleth of the world, drawn at build time from shipped geometry.

Natural Earth 1:110m boundaries (world-atlas TopoJSON, in generator/data) are
decoded here and projected with the Natural Earth I projection. No tiles, no
script: the map is plain SVG with a link and a title on each country.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable
from html import escape
from pathlib import Path

import pycountry

DATA = Path(__file__).parent / "data" / "countries-110m.json"
WIDTH, HEIGHT = 960.0, 500.0
SKIP = {"010"}  # Antarctica: no public services studied there, and it takes a fifth of the map
TOP, BOTTOM = 15.0, 418.0  # the vertical extent of the world without Antarctica (checked by a test)


def _natural_earth(lon: float, lat: float) -> tuple[float, float]:
    lam, phi = math.radians(lon), math.radians(lat)
    p2 = phi * phi
    p4 = p2 * p2
    x = lam * (0.8707 - 0.131979 * p2 + p4 * (-0.013791 + p4 * (0.003971 * p2 - 0.001529 * p4)))
    y = phi * (1.007226 + p2 * (0.015085 + p4 * (-0.044475 + 0.028874 * p2 - 0.005916 * p4)))
    return x, y


@functools.lru_cache(maxsize=1)
def shapes() -> tuple[tuple[str, str, str], ...]:
    """(alpha-2 or '', name, SVG path data) for every country in the geometry."""
    topo = json.loads(DATA.read_text(encoding="utf-8"))
    sx, sy = topo["transform"]["scale"]
    tx, ty = topo["transform"]["translate"]
    arcs: list[list[tuple[float, float]]] = []
    for arc in topo["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x += dx
            y += dy
            points.append(_natural_earth(x * sx + tx, y * sy + ty))
        arcs.append(points)
    # scale the projected world to the canvas
    kx = WIDTH / (2 * _natural_earth(180, 0)[0])
    ky = HEIGHT / (2 * _natural_earth(0, 85)[1]) * 0.93

    def to_svg(p: tuple[float, float]) -> str:
        return f"{WIDTH / 2 + p[0] * kx:.1f},{HEIGHT / 2 - p[1] * ky:.1f}"

    def ring(indexes: list[int]) -> str:
        points: list[tuple[float, float]] = []
        for i in indexes:
            arc = arcs[i] if i >= 0 else arcs[~i][::-1]
            points.extend(arc if not points else arc[1:])
        out = []
        for n, p in enumerate(points):
            # a ring that crosses the antimeridian would draw a line across the whole map: lift the pen
            jump = n and abs(p[0] - points[n - 1][0]) * kx > WIDTH / 2
            out.append(("M" if n == 0 or jump else "L") + to_svg(p))
        return "".join(out) + "Z"

    out = []
    for geom in topo["objects"]["countries"]["geometries"]:
        numeric = geom.get("id")
        if numeric in SKIP or geom["type"] not in ("Polygon", "MultiPolygon"):
            continue
        polygons = geom["arcs"] if geom["type"] == "MultiPolygon" else [geom["arcs"]]
        d = "".join(ring(r) for poly in polygons for r in poly)
        country = pycountry.countries.get(numeric=numeric) if numeric else None
        code = str(country.alpha_2) if country else ""
        out.append((code, geom.get("properties", {}).get("name", ""), d))
    return tuple(sorted(out, key=lambda s: (s[0], s[1])))


def bins(maximum: int) -> list[int]:
    """Upper bounds of up to five classes for counts 1..maximum."""
    if maximum <= 5:
        return list(range(1, maximum + 1))
    step = maximum / 5
    return sorted({math.ceil(step * i) for i in range(1, 6)})


def choropleth(counts: dict[str, int], href: Callable[[str], str], name: Callable[[str], str]) -> str:
    """Countries with studies are shaded by count and link to their pages."""
    limits = bins(max(counts.values(), default=0))

    def klass(n: int) -> int:
        return next((i + 1 for i, upper in enumerate(limits) if n <= upper), len(limits))

    parts = [f'<svg class="atlas-map" viewBox="0 {TOP:.0f} {WIDTH:.0f} {BOTTOM - TOP:.0f}" role="group" '
             f'aria-labelledby="atlas-map-title" xmlns="http://www.w3.org/2000/svg">',
             '<title id="atlas-map-title">World map: number of studies per country</title>']
    for code, geo_name, d in shapes():
        n = counts.get(code, 0)
        label = escape(name(code) if code else geo_name, quote=True)
        if n:
            text = f"{label}: {n} {'study' if n == 1 else 'studies'}"
            parts.append(f'<a href="{escape(href(code), quote=True)}" aria-label="{text}">'
                         f'<path class="atlas-map-c{klass(n)}" d="{d}"><title>{text}</title></path></a>')
        else:
            parts.append(f'<path class="atlas-map-c0" d="{d}"><title>{label}: no studies</title></path>')
    parts.append("</svg>")
    return "".join(parts)


def legend(counts: dict[str, int]) -> list[tuple[int, str]]:
    """(class, label) pairs for the map legend."""
    limits = bins(max(counts.values(), default=0))
    out = [(0, "no studies")]
    low = 1
    for i, upper in enumerate(limits):
        out.append((i + 1, str(upper) if low == upper else f"{low}–{upper}"))
        low = upper + 1
    return out
