"""The built site in a real headless Chromium (Debian's), as a reader uses it, offline."""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser

CHROMIUM = next((p for p in ("/usr/bin/chromium", "/usr/bin/chromium-browser") if Path(p).exists()), None)
if CHROMIUM is None or shutil.which(CHROMIUM) is None:
    pytest.skip("Debian's chromium is not installed (make test installs it)", allow_module_level=True)

from playwright.sync_api import Browser, Page, sync_playwright  # noqa: E402

LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run", "--disable-quic"]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def base_url(built_site: Path) -> Iterator[str]:
    handler = functools.partial(_Quiet, directory=str(built_site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield b
        b.close()


class Watch:
    """Records console errors and every request that would leave the site."""

    def __init__(self, page: Page, base: str) -> None:
        self.errors: list[str] = []
        self.outside: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))

        def route(r: Any) -> None:
            url = r.request.url
            if url.startswith(base) or url.startswith("data:") or url.startswith("blob:"):
                r.continue_()
            else:
                self.outside.append(url)
                r.abort()

        page.route("**/*", route)


@pytest.fixture
def page(browser: Browser, base_url: str) -> Iterator[tuple[Page, Watch]]:
    context = browser.new_context()
    pg = context.new_page()
    watch = Watch(pg, base_url)
    yield pg, watch
    context.close()
    assert watch.outside == [], "requests left the site"
    assert watch.errors == [], "console errors"


def heading(pg: Page) -> str:
    """The page's h1 without its permalink anchor."""
    return str(pg.locator("article h1").first.evaluate("h => h.firstChild.textContent")).strip()


def test_home_page_opens(page: tuple[Page, Watch], base_url: str) -> None:
    pg, _ = page
    pg.goto(base_url)
    assert pg.title() == "Co-production Evidence Atlas"
    assert heading(pg) == "Co-production Evidence Atlas"
    assert pg.get_by_role("link", name="Professional logic").count() >= 1


def test_study_to_logic_to_country_and_back(page: tuple[Page, Watch], base_url: str) -> None:
    pg, _ = page
    pg.goto(base_url + "studies/spitzmueller2016/")
    assert "Negotiating Competing Institutional Logics" in heading(pg)
    pg.locator("article").get_by_role("link", name="Professional logic").first.click()
    pg.wait_for_url("**/logics/professional/")
    assert heading(pg) == "Professional logic"
    pg.locator("article").get_by_role("link", name="United States").first.click()
    pg.wait_for_url("**/countries/us/")
    assert heading(pg) == "United States"
    assert pg.locator("article").get_by_text("Anglo-Saxon").count() >= 1
    pg.go_back()
    pg.wait_for_url("**/logics/professional/")
    pg.go_back()
    pg.wait_for_url("**/studies/spitzmueller2016/")


def test_search_finds_a_study_by_author(page: tuple[Page, Watch], base_url: str) -> None:
    pg, _ = page
    pg.goto(base_url)
    pg.locator("label.md-search__icon, .md-search__input").first.click()
    pg.locator("input.md-search__input").fill("Pestoff")
    results = pg.locator(".md-search-result__item")
    results.first.wait_for(timeout=15_000)
    assert "Pestoff" in pg.locator(".md-search-result").inner_text()


def test_accessibility_of_main_page_types(page: tuple[Page, Watch], base_url: str) -> None:
    from axe_playwright_python.sync_playwright import Axe

    pg, _ = page
    axe = Axe()
    failures = {}
    for path in ("", "studies/", "studies/parrado2013/", "logics/", "logics/professional/", "countries/fr/"):
        pg.goto(base_url + path)
        result = axe.run(pg)
        bad = [v["id"] for v in result.response["violations"] if v.get("impact") in ("serious", "critical")]
        if bad:
            failures[path or "/"] = bad
    assert failures == {}
