"""Contributor text is data: payloads in every text field never become markup or script."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from generator.render import md_text

from .conftest import build_site, copy_project
from .html_doc import Doc

PAYLOADS = [
    "<script>alert(1)</script>",
    "[click](javascript:alert(2))",
    "![img](javascript:alert(3))",
    "heading { onclick=alert(4) }",
    "<img src=x onerror=alert(5)>",
    "&lt;script&gt;alert(6)&lt;/script&gt;",
    '"><svg onload=alert(7)>',
    "javascript:alert(8)",
    '<a href="javascript:alert(9)">x</a>',
    "line one\n\n# injected heading\n\n<div onmouseover=alert(10)>",
    "*[HTML]: <b onclick=alert(11)>",
]
PAYLOAD = " ".join(PAYLOADS)


class Scanner(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._in_script = False
        self._data_block = False
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...>")
            if value and value.strip().lower().startswith("javascript:"):
                self.problems.append(f"<{tag} {name}={value}>")
        self._in_script = tag == "script"
        self._data_block = tag == "script" and ("type", "application/ld+json") in attrs
        self._in_title = tag == "title"

    def handle_endtag(self, tag: str) -> None:  # noqa: ARG002 - HTMLParser.handle_endtag signature
        self._in_script = self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_script and self._data_block:
            if "<" in data:  # a data block is inert only while nothing in it can close the element
                self.problems.append(f"json-ld: {data[:60]}")
        elif self._in_script and "alert(" in data:
            self.problems.append(f"script: {data[:60]}")


def scan(html: str) -> list[str]:
    s = Scanner()
    s.feed(html)
    problems = s.problems
    # <title> must hold escaped text only: the raw page must not contain a tag inside it
    for title in re.findall(r"<title>(.*?)</title>", html, re.S):
        if "<" in title:
            problems.append(f"title: {title[:80]}")
    return problems


HOSTILE_URL = json.dumps('https://x.example/"><script>alert(30)</script>')


def hostile_project(root: Path) -> Path:
    copy_project(root)
    with (root / "references.bib").open("a", encoding="utf-8") as bib:
        bib.write(
            "\n@article{hostile2024,\n"
            "  author  = {Attacker, <script>alert(20)</script> and {<img src=x onerror=alert(21)>}},\n"
            "  title   = {Title <script>alert(22)</script> [x](javascript:alert(23)) &lt;script&gt;alert(24)&lt;/script&gt;},\n"
            "  journal = {Journal <iframe src=javascript:alert(25)>},\n"
            "  year    = {2024},\n"
            "  volume  = {1 onmouseover=alert(26)},\n"
            '  doi     = {10.1234/x"onmouseover=alert(27)},\n'
            "}\n")
    text = json.dumps(PAYLOAD)
    (root / "evidence/studies/hostile2024.yaml").write_text(
        f"summary: {text}\nstudy_type: empirical\ncountries: [NO]\nsectors: [health]\nlogics: [professional]\n"
        f"barriers: []\nroute: founding-list\nbasis: abstract\ncoding_note: {text}\n"
        f"sources:\n  - url: {HOSTILE_URL}\n"
        f"    kind: publisher-abstract\n    note: {text}\n"
        f"  - url: https://x.example/[x](javascript:alert(44))![](javascript:alert(45))\n"
        f"    kind: secondary\n    note: A link whose text is Markdown.\n"
        f"claims:\n  - kind: finding\n    claim: {text}\n    locator: {text}\n    logics: [professional]\n",
        encoding="utf-8")
    log = {"route": "search", "run": "2026-12-01", "where": PAYLOAD, "queries": {"q01": PAYLOAD},
           "candidates": [{"query": "q01", "rank": 1, "url": "javascript:alert(42)", "title": PAYLOAD,
                           "citation": PAYLOAD, "decision": "excluded", "reason": "not-research", "note": PAYLOAD},
                          {"query": "q01", "rank": 2, "url": 'https://x.example/"><script>alert(43)</script>',
                           "title": PAYLOAD, "decision": "deferred", "note": PAYLOAD}]}
    (root / "evidence/screening/search-hostile.yaml").write_text(json.dumps(log), encoding="utf-8")
    vocab = root / "evidence/codebook/logics.yaml"
    vocab.write_text(vocab.read_text(encoding="utf-8").replace(
        "    label: Community logic", f"    label: {json.dumps('Community ' + PAYLOADS[0] + PAYLOADS[1])}"),
        encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_site(hostile_project(tmp_path_factory.mktemp("hostile") / "project"))


def test_payloads_reach_the_pages_as_text(hostile_site: Path) -> None:
    page = (hostile_site / "studies/hostile2024/index.html").read_text(encoding="utf-8")
    doc = Doc(page)
    assert "<script>alert(1)</script>" in doc.text  # shown, as text
    assert "&lt;script&gt;alert(6)&lt;/script&gt;" in doc.text  # an entity the contributor typed stays as typed
    assert "<script>alert(1)" not in page and "&lt;script>alert(1)" in page  # written escaped
    headings = [a.get("id") for tag, a in doc.elements if tag in ("h1", "h2", "h3")]
    assert "injected heading" in doc.text and "injected-heading" not in headings


def test_no_page_has_live_markup_from_contributors(hostile_site: Path) -> None:
    problems = {}
    for path in sorted(hostile_site.rglob("*.html")):
        found = scan(path.read_text(encoding="utf-8"))
        if found:
            problems[path.relative_to(hostile_site).as_posix()] = found
    assert problems == {}


def test_search_results_hold_no_live_markup(hostile_site: Path) -> None:
    """Pagefind shows excerpts as HTML: a payload found by search must stay text, in a real browser."""
    import functools
    import http.server
    import threading

    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        pytest.skip("Debian's chromium is not installed")
    from playwright.sync_api import Dialog, sync_playwright

    class QuietHandler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            """No access log in the test's output."""

    handler = functools.partial(QuietHandler, directory=str(hostile_site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    dialogs: list[str] = []

    def dismiss(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(chromium), args=["--no-sandbox", "--disable-gpu"])
            pg = browser.new_page()
            pg.on("dialog", dismiss)
            pg.goto(f"http://127.0.0.1:{server.server_address[1]}/search/")
            pg.locator(".pagefind-ui__search-input").fill("alert")
            pg.locator(".pagefind-ui__result-link").first.wait_for(timeout=15_000)
            pg.wait_for_timeout(500)
            results = pg.locator(".pagefind-ui__results").inner_html()
            browser.close()
    finally:
        server.shutdown()
    assert dialogs == []
    assert scan(results) == [] and "<script" not in results and "<img" not in results


def test_the_scanner_catches_what_it_must() -> None:
    """The backstop must be able to fail."""
    assert scan('<p onclick="x()">') and scan('<a href=" javascript:alert(1)">') and scan("<script>alert(1)</script>")
    assert scan("<title><script>x</script></title>")
    assert not scan("<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>")


@pytest.mark.parametrize("payload", PAYLOADS)
def test_md_text_leaves_no_markup(payload: str) -> None:
    out = md_text(payload)
    assert "<" not in out and ">" not in out and "\n" not in out
    assert "](" not in out  # no Markdown link can form
