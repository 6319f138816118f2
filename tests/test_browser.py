"""The built site in a real headless Chromium (Debian's), as a reader uses it, offline."""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser

# Debian's Chromium here; a hosted runner's Chrome where Chromium cannot be installed (ATLAS_CHROMIUM overrides)
CHROMIUM = next((p for p in (os.environ.get("ATLAS_CHROMIUM", ""), "/usr/bin/chromium", "/usr/bin/chromium-browser",
                             "/usr/bin/google-chrome") if p and Path(p).exists()), None)
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
    assert "Negotiating competing institutional logics" in heading(pg)
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


def search(pg: Page, base_url: str, query: str) -> None:
    pg.goto(base_url + "search/")
    pg.locator(".pagefind-ui__search-input").fill(query)
    pg.locator(".pagefind-ui__result-link").first.wait_for(timeout=15_000)  # results, not loading placeholders


@pytest.mark.parametrize("query,expected", [
    ("Pestoff", "Towards a paradigm of democratic participation"),  # an author
    ("Q-methodology", "Co-producing safety in the local community"),  # a title
    ("risk aversion", "Risk aversion and accountability rules"),  # a term
    ("Czechia", "Czechia"),  # a country
])
def test_search_finds_studies_and_terms(page: tuple[Page, Watch], base_url: str, query: str, expected: str) -> None:
    import re

    pg, _ = page
    search(pg, base_url, query)
    found = pg.locator(".pagefind-ui__results").get_by_text(re.compile(re.escape(expected), re.I)).first
    found.wait_for(timeout=15_000)  # fails when the expected result never appears


def test_accessibility_of_main_page_types(page: tuple[Page, Watch], base_url: str) -> None:
    from axe_playwright_python.sync_playwright import Axe

    pg, _ = page
    axe = Axe()
    failures = {}
    for path in ("", "search/", "studies/", "studies/parrado2013/", "logics/", "logics/professional/", "countries/fr/",
                 "compare/logics-by-sectors/", "compare/gap-map/", "compare/map/", "explore/?logics=professional",
                 "compare/barriers-by-logic/", "compare/logics-by-barriers/",
                 "compare/logics-by-barriers/professional--professional-expertise/", "corrections/",
                 "studies/mcmullin2020/", "studies/mcmullin2018a/", "screening/", "protocol/",
                 "confidence/low/",
                 "compare/side-by-side/?dim=countries&values=GB,FR"):
        pg.goto(base_url + path)
        result = axe.run(pg)
        bad = [v["id"] for v in result.response["violations"] if v.get("impact") in ("serious", "critical")]
        if bad:
            failures[path or "/"] = bad
    assert failures == {}


# --- comparative views ----------------------------------------------------------------

def index_of(site: Path) -> dict[str, Any]:
    from generator.render_compare import explorer_data

    index: dict[str, Any] = explorer_data((site / "explore/studies.js").read_text(encoding="utf-8"))
    return index


def expected_keys(site: Path, **facets: list[str]) -> list[str]:
    """What the explorer should show: OR within a facet, AND across facets."""
    return [s["key"] for s in index_of(site)["studies"]
            if all(any(v in s["codes"][f] for v in values) for f, values in facets.items())]


def shown_keys(pg: Page) -> list[str]:
    return [str(k) for k in pg.locator("#atlas-results li").evaluate_all("els => els.map(e => e.dataset.key)")]


def test_a_filter_narrows_the_list(page: tuple[Page, Watch], base_url: str, built_site: Path) -> None:
    pg, _ = page
    pg.goto(base_url + "explore/")
    pg.locator("#atlas-results li").first.wait_for()
    assert len(shown_keys(pg)) == len(index_of(built_site)["studies"])
    pg.get_by_label("Professional logic").check()
    assert shown_keys(pg) == expected_keys(built_site, logics=["professional"])
    assert 0 < len(shown_keys(pg)) < len(index_of(built_site)["studies"])
    assert "logics=professional" in pg.url
    pg.get_by_label("Health").check()  # AND across facets
    assert shown_keys(pg) == expected_keys(built_site, logics=["professional"], sectors=["health"])
    pg.get_by_label("Market logic").check()  # OR within a facet
    assert shown_keys(pg) == expected_keys(built_site, logics=["professional", "market"], sectors=["health"])


def test_a_shared_url_restores_the_filter(page: tuple[Page, Watch], base_url: str, built_site: Path) -> None:
    pg, _ = page
    pg.goto(base_url + "explore/?countries=GB,FR&logics=state")
    pg.locator("#atlas-results li").first.wait_for()
    assert pg.get_by_label("State logic").is_checked()
    assert pg.get_by_label("France").is_checked() and pg.get_by_label("United Kingdom").is_checked()
    assert shown_keys(pg) == expected_keys(built_site, countries=["GB", "FR"], logics=["state"])


def test_the_explorer_works_with_the_keyboard(page: tuple[Page, Watch], base_url: str, built_site: Path) -> None:
    pg, _ = page
    pg.goto(base_url + "explore/")
    pg.locator("#atlas-results li").first.wait_for()
    pg.get_by_label("Community logic").focus()
    pg.keyboard.press("Space")
    assert shown_keys(pg) == expected_keys(built_site, logics=["community"])
    pg.keyboard.press("Tab")
    pg.keyboard.press("Space")  # the next choice in the group: professional
    assert shown_keys(pg) == expected_keys(built_site, logics=["community", "professional"])


def claims_with(site: Path, **codes: str) -> list[tuple[str, int, str]]:
    """(study, claim index, kind) of every claim carrying all the given codes, from the published dataset."""
    import json

    data = json.loads((site / "data/evidence.json").read_text(encoding="utf-8"))
    return [(s["key"], c["index"], c["kind"]) for s in data["studies"] for c in s["claims"]
            if all(v in c["codes"][f] for f, v in codes.items())]


def test_a_matrix_cell_leads_to_the_claims_that_tie_it(page: tuple[Page, Watch], base_url: str, built_site: Path) -> None:
    pg, _ = page
    pg.goto(base_url + "compare/logics-by-barriers/")
    expected = claims_with(built_site, logics="professional", barriers="professional-expertise")
    findings = sum(1 for *_, kind in expected if kind == "finding")
    arguments = len(expected) - findings
    cell = pg.locator('a[aria-label$="tie Professional logic to Professional identity and claims to expertise"]')
    label = cell.get_attribute("aria-label") or ""
    assert label.startswith(f"{findings} finding{'' if findings == 1 else 's'} and {arguments} argument")
    cell.click()
    pg.wait_for_url("**/compare/logics-by-barriers/professional--professional-expertise/")
    links = pg.locator("article li a[href*='#finding-'], article li a[href*='#argument-']")
    hrefs = links.evaluate_all("els => els.map(e => e.getAttribute('href'))")
    shown = sorted((h.split("/")[-2], int(h.rsplit("-", 1)[1]), h.split("#")[1].split("-")[0]) for h in hrefs)
    assert shown == sorted(expected)
    first = links.first
    first.click()  # a claim link lands on the claim, labelled with its kind
    heading = pg.locator(f"h3#{pg.url.split('#')[1]}")
    assert heading.inner_text().split()[0] in ("Finding", "Argument")


def test_a_record_level_co_coding_is_not_shown_as_a_tie(page: tuple[Page, Watch], base_url: str,
                                                        built_site: Path) -> None:
    import json

    data = json.loads((built_site / "data/evidence.json").read_text(encoding="utf-8"))
    untied = [(lo, b) for s in data["studies"] for lo in s["codes"]["logics"] for b in s["codes"]["barriers"]
              if not claims_with(built_site, logics=lo, barriers=b)]
    assert untied, "the shipped base has record-level pairs that no claim ties"
    pg, _ = page
    pg.goto(base_url + "compare/logics-by-barriers/")
    hrefs = set(pg.locator("table.atlas-matrix td a").evaluate_all("els => els.map(e => e.getAttribute('href'))"))
    for logic, barrier in untied:
        assert f"{logic}--{barrier}/" not in hrefs


def test_the_synthesis_page_sets_findings_beside_arguments(page: tuple[Page, Watch], base_url: str) -> None:
    pg, watch = page
    pg.goto(base_url)
    pg.get_by_role("link", name="synthesis by logic").first.click()
    pg.wait_for_url("**/compare/barriers-by-logic/")
    section = pg.locator("h2", has_text="Professional logic")
    assert section.count() == 1
    text = pg.locator("article").inner_text()
    assert "found and argued" in text or "argued, not yet found" in text
    # the founding chapter's argument is shown, and labelled as an argument
    row = pg.locator("tr", has=pg.locator("a[href*='mcmullin2020']")).first
    assert "Argument" in row.inner_text() and "founding chapter" in row.inner_text()
    pg.goto(base_url + "logics/professional/")
    pg.locator("article").get_by_role("link", name="barriers and openings by logic").click()
    pg.wait_for_url("**/compare/barriers-by-logic/#professional")
    assert watch.errors == [] and watch.outside == []


def test_a_study_page_shows_its_sources_and_unconfirmed_fields(page: tuple[Page, Watch], base_url: str) -> None:
    pg, _ = page
    pg.goto(base_url + "studies/mcmullin2018a/")
    text = pg.locator("article").inner_text()
    assert "Unconfirmed:" in text and "probably wrong" in text
    assert pg.locator("meta[name='citation_issue']").count() == 0  # doubtful: kept out of the metadata
    assert pg.locator("meta[name='citation_volume']").count() == 1  # unconfirmed only: kept
    sources = pg.locator("h2:has-text('What the coding rests on') + p + ul a")
    assert sources.count() >= 1 and (sources.first.get_attribute("href") or "").startswith("http")
    pg.get_by_role("link", name="the corrections").click()
    pg.wait_for_url("**/corrections/#mcmullin2018a")
    assert pg.locator("#mcmullin2018a").count() == 1


def test_the_downloads_contain_the_filtered_studies(page: tuple[Page, Watch], base_url: str, built_site: Path) -> None:
    import csv
    import io

    import bibtexparser
    import rispy

    pg, _ = page
    pg.goto(base_url + "explore/?logics=professional")
    pg.locator("#atlas-results li").first.wait_for()
    want = expected_keys(built_site, logics=["professional"])
    with pg.expect_download() as dl:
        pg.get_by_role("button", name="Download BibTeX").click()
    lib = bibtexparser.parse_string(Path(dl.value.path()).read_text(encoding="utf-8"))
    assert [e.key for e in lib.entries] == want and not lib.failed_blocks
    with pg.expect_download() as dl:
        pg.get_by_role("button", name="Download RIS").click()
    entries = rispy.loads(Path(dl.value.path()).read_text(encoding="utf-8"))
    assert [e["id"] for e in entries] == want
    with pg.expect_download() as dl:
        pg.get_by_role("button", name="Download CSV").click()
    rows = list(csv.DictReader(io.StringIO(Path(dl.value.path()).read_text(encoding="utf-8"))))
    assert [r["key"] for r in rows] == want
    # the same columns as data/studies.csv, less its long texts, and the same values in them
    with (built_site / "data/studies.csv").open(encoding="utf-8", newline="") as f:
        full = {r["key"]: r for r in csv.DictReader(f)}
    columns = list(rows[0])
    assert columns == [c for c in next(iter(full.values())) if c not in ("summary", "coding_note", "sources")]
    assert all(r == {c: full[r["key"]][c] for c in columns} for r in rows)


def test_selected_studies_are_compared_side_by_side(page: tuple[Page, Watch], base_url: str) -> None:
    pg, _ = page
    pg.goto(base_url + "explore/?compare=pestoff2009,vaneijk2017")
    table = pg.locator("#atlas-comparison table")
    table.wait_for()
    head = table.locator("thead").inner_text()
    assert "Pestoff (2009)" in head and "van Eijk et al. (2017)" in head
    assert "Sweden" in table.inner_text() and "Belgium" in table.inner_text()


def test_without_javascript_the_explorer_points_to_static_lists(browser: Browser, base_url: str) -> None:
    context = browser.new_context(java_script_enabled=False)
    pg = context.new_page()
    pg.goto(base_url + "explore/")
    text = pg.locator("article").inner_text()
    assert "The explorer needs JavaScript" in text
    assert pg.get_by_role("link", name="all studies").count() == 1
    # a study page without script: its references and files are readable, and it offers no button
    # that could not work (atlas.js makes the Copy and Download buttons)
    pg.goto(base_url + "studies/vaneijk2017/")
    assert pg.locator("#cite-apa").inner_text().startswith("van Eijk, C.")
    assert (pg.locator("#ref-bib").text_content() or "").startswith("@article{vaneijk2017,")
    assert pg.get_by_role("button").count() == 0
    context.close()


def test_with_javascript_a_study_page_has_its_copy_and_download_buttons(page: tuple[Page, Watch], base_url: str) -> None:
    pg, _ = page
    pg.goto(base_url + "studies/vaneijk2017/")
    copies = [pg.locator(".atlas-copy").nth(i).get_attribute("aria-label") for i in range(3)]
    assert copies == ["Copy the APA 7 reference", "Copy the Chicago author-date reference",
                      "Copy the Harvard reference"]
    downloads = pg.locator(".atlas-download").all_text_contents()  # inside the closed <details>
    assert downloads == ["Download BibTeX", "Download RIS", "Download CSL-JSON"]


def test_with_javascript_headings_have_permalinks_and_the_theme_its_storage(page: tuple[Page, Watch],
                                                                            base_url: str) -> None:
    """The ¶ links that the pages no longer carry are made by atlas.js, as the toc extension wrote them;
    the theme's storage helpers come from assets/javascripts/scope.js with the site's root as their scope."""
    pg, _ = page
    pg.goto(base_url + "studies/vaneijk2017/")
    links = pg.locator("article h2 > a.headerlink")
    assert links.count() == 6
    assert [links.nth(i).get_attribute("href") for i in range(6)] == [
        "#summary", "#coding", "#what-the-coding-rests-on", "#claims", "#related-studies", "#cite-this-study"]
    first = pg.locator("article h2").first
    assert first.evaluate("h => h.lastElementChild.outerHTML") == (
        '<a class="headerlink" href="#summary" title="Permanent link">¶</a>')
    assert pg.locator("article h1 > a.headerlink").count() == 1
    assert pg.locator("article h3[id] > a.headerlink").count() == pg.locator("article h3[id]").count() > 0
    for path in ("studies/vaneijk2017/", "protocol/"):
        pg.goto(base_url + path)
        assert pg.evaluate("__md_scope.href") == base_url
        pg.evaluate("__md_set('atlas-test', 1)")
        assert pg.evaluate("__md_get('atlas-test')") == 1  # one store for the whole site, as the theme keeps it


# --- citing and teaching ----------------------------------------------------------------

def test_the_copy_button_copies_a_formatted_reference(browser: Browser, base_url: str) -> None:
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    pg = context.new_page()
    pg.goto(base_url + "studies/needham2008/")
    pg.get_by_role("button", name="Copy the APA 7 reference").click()
    copied = pg.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("Needham, C. (2008). Realising the potential of co-production: Negotiating")
    assert "https://doi.org/10.1017/S1474746407004174" in copied
    context.close()


@pytest.mark.parametrize("path", ["studies/needham2008/", "logics/community/"])
def test_pages_print_as_handouts_without_navigation(page: tuple[Page, Watch], base_url: str, path: str) -> None:
    pg, _ = page
    pg.goto(base_url + path)
    pg.emulate_media(media="print")
    for selector in (".md-header", ".md-sidebar--primary", ".md-footer"):
        assert pg.locator(selector).first.evaluate("e => getComputedStyle(e).display") == "none", selector
    assert pg.locator("article h1").is_visible()


def test_a_matrix_cell_opens_its_studies_in_the_explorer(page: tuple[Page, Watch], base_url: str, built_site: Path) -> None:
    pg, _ = page
    pg.goto(base_url + "compare/logics-by-sectors/professional--health/")
    pg.get_by_role("link", name="the studies coded with both terms in the explorer").click()
    pg.locator("#atlas-results li").first.wait_for()
    assert shown_keys(pg) == expected_keys(built_site, logics=["professional"], sectors=["health"])


def test_a_term_reading_list_opens_the_explorer_filtered_to_the_term(page: tuple[Page, Watch], base_url: str,
                                                                     built_site: Path) -> None:
    pg, _ = page
    pg.goto(base_url + "concepts/co-creation/")
    pg.get_by_role("link", name="open these studies in the explorer").click()
    pg.locator("#atlas-results li").first.wait_for()
    want = expected_keys(built_site, concepts=["co-creation"])
    assert shown_keys(pg) == want and len(want) >= 5
    with pg.expect_download() as dl:
        pg.get_by_role("button", name="Download APA list").click()
    text = Path(dl.value.path()).read_text(encoding="utf-8")
    assert len(text.strip().split("\n\n")) == len(want)


def test_a_study_page_downloads_its_reference_files(page: tuple[Page, Watch], base_url: str) -> None:
    import bibtexparser
    import rispy

    pg, _ = page
    pg.goto(base_url + "studies/vaneijk2017/")
    pg.locator("summary", has_text="BibTeX, RIS or CSL-JSON").click()
    with pg.expect_download() as dl:
        pg.get_by_role("button", name="Download BibTeX").click()
    assert dl.value.suggested_filename == "vaneijk2017.bib"
    lib = bibtexparser.parse_string(Path(dl.value.path()).read_text(encoding="utf-8"))
    assert [e.key for e in lib.entries] == ["vaneijk2017"] and not lib.failed_blocks
    with pg.expect_download() as dl:
        pg.get_by_role("button", name="Download RIS").click()
    assert [e["id"] for e in rispy.loads(Path(dl.value.path()).read_text(encoding="utf-8"))] == ["vaneijk2017"]
    with pg.expect_download() as dl:
        pg.get_by_role("button", name="Download CSL-JSON").click()
    assert json.loads(Path(dl.value.path()).read_text(encoding="utf-8"))[0]["id"] == "vaneijk2017"


def test_the_screening_page_shows_each_routes_flow(page: tuple[Page, Watch], base_url: str) -> None:
    pg, watch = page
    pg.goto(base_url + "scope/")
    pg.locator("article").get_by_role("link", name="screening page").click()
    pg.wait_for_url("**/screening/")
    figures = pg.locator("svg.atlas-flow[role='img']")
    assert figures.count() >= 2  # the search and one review
    first = figures.first
    label = first.get_attribute("aria-labelledby") or ""
    title_id, desc_id = label.split()
    assert (pg.locator(f"#{title_id}").text_content() or "").startswith("Flow of candidates")
    desc = pg.locator(f"#{desc_id}").text_content() or ""
    assert "candidates identified" in desc and "coded in the atlas" in desc
    # the same counts as a table, for readers who cannot see the diagram
    table = pg.locator("table").first.inner_text()
    assert "Identified" in table and "Included" in table
    assert watch.errors == [] and watch.outside == []


def test_the_explorer_filters_by_route(page: tuple[Page, Watch], base_url: str, built_site: Path) -> None:
    pg, _ = page
    pg.goto(base_url + "explore/?route=search")
    pg.locator("#atlas-results li").first.wait_for()
    assert shown_keys(pg) == expected_keys(built_site, route=["search"])


def test_findings_show_their_appraisal_in_words(page: tuple[Page, Watch], base_url: str, built_site: Path) -> None:
    import json

    data = json.loads((built_site / "data/evidence.json").read_text(encoding="utf-8"))
    key = next(s["key"] for s in data["studies"] if any(c["kind"] == "finding" for c in s["claims"]))
    pg, _ = page
    pg.goto(base_url + f"studies/{key}/")
    text = pg.locator("article").inner_text()
    assert "Appraisal:" in text and "confidence" in text
    # every finding heading is followed by its appraisal; no argument is appraised
    findings = pg.locator("article h3", has_text="Finding").count()
    assert text.count("Appraisal:") == findings
    # the strength of the evidence behind a term, in words, and a confidence filter in the explorer
    pg.goto(base_url + "logics/professional/")
    assert re.search(r"\d+ findings? \(\d+ (moderate|low|very low|high)", pg.locator("article").inner_text())
    pg.goto(base_url + "explore/?confidence=moderate")
    pg.locator("#atlas-results li").first.wait_for()
    assert shown_keys(pg) == expected_keys(built_site, confidence=["moderate"])
