"""Citing and teaching: formatted references, exports that read back, metadata, the dataset."""

from __future__ import annotations

import json
import re
from pathlib import Path

import bibtexparser
import pytest
import rispy

from generator.csl import STYLES, csl_item, format_html, plain_text, rich
from generator.exports import bibtex_of, ris_of
from generator.load import load_bibliography
from generator.model import Study
from generator.render_compare import explorer_data

from .helpers import FIXTURES, ROOT
from .html_doc import Doc

GOLDEN = FIXTURES.parent / "golden" / "references.txt"


def golden_references() -> str:
    bib, diags = load_bibliography(FIXTURES / "references" / "refs.bib", "refs.bib")
    assert diags == []
    items = [csl_item(e) for e in bib.entries.values()]
    out = []
    for style, label in STYLES.items():
        out.append(f"## {label}")
        out += format_html(items, style)
    return "\n".join(out) + "\n"


def test_formatted_references_match_the_golden_file() -> None:
    """Each entry type this literature uses, accented names and a corporate author."""
    assert golden_references() == GOLDEN.read_text(encoding="utf-8")


def visible(html_text: str) -> str:
    """What a reader sees and pastes: the text with its italics; spans and links carry no typography."""
    return re.sub(r"</?(?:span|a)\b[^>]*>", "", html_text)


def test_golden_references_are_right_in_each_style() -> None:
    raw = GOLDEN.read_text(encoding="utf-8")
    text = visible(raw)
    assert "Löffler, E., Van Ryzin, G. G., van Eijk, C., &amp; Durán, J. (2013)" in text  # accents decoded
    assert "Billis, D. (Ed.). (2010). <em>Hybrid organizations and the third sector</em>. Palgrave Macmillan." in text
    assert text.count("Billis") == 3  # an edited book names its editor once per style
    assert "(Eds.), <em>The SAGE handbook of organizational institutionalism</em> (pp. 99–129). SAGE." in text
    assert "Thornton, Patricia H., and William Ocasio. 2008." in text  # Chicago gives full names
    assert "Organisation for Economic Co-operation and Development. (2011)" in text  # corporate author
    assert '<a href="https://doi.org/10.1787/9789264118843-en">' in raw
    # Chicago: title case by the processor, punctuation inside the quotes, a protected prefix compound
    assert "2013. “Co-production in Europe: A Five-Nation Survey.” <em>International" in text
    # Harvard (Cite Them Right) in British English: single quotes, punctuation outside, 'eds'
    assert "(2008) ‘Institutional logics’, in R. Greenwood et al. (eds)" in text


def test_braces_become_nocase_spans() -> None:
    assert rich("Co-{production} in {France}: {A} review") == (
        'Co-<span class="nocase">production</span> in <span class="nocase">France</span>: '
        '<span class="nocase">A</span> review')
    assert rich('M{\\"u}ller and \\emph{x} {\\\'e}t\u00e9') == "Müller and x été"  # accents and commands only decode
    assert plain_text(rich("Co-{production} in {France}")) == "Co-production in France"


def test_output_does_not_depend_on_chunking(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each reference stands alone: no year suffixes or repeated-author dashes from its neighbours."""
    import generator.csl as csl

    bib, _ = load_bibliography(ROOT / "references.bib", "references.bib")
    items = [csl_item(e) for e in bib.entries.values()]
    together = csl.format_all(items, list(STYLES), {})
    monkeypatch.setattr(csl, "CHUNK", 7)
    assert csl.format_all(items, list(STYLES), {}) == together
    texts = [t for by_id in together.values() for t in by_id.values()]
    assert not [t for t in texts if re.search(r"\b(1[0-9]|20)\d\d[a-z]\b", t) or "———" in t]


def test_evidence_check_does_not_need_pandoc() -> None:
    """The pre-commit hook installs the package without the 'site' extra."""
    import subprocess
    import sys

    code = ("import sys; from generator.cli import main; rc = main(['--root', sys.argv[1], 'check']); "
            "assert 'pypandoc' not in sys.modules and 'citeproc' not in sys.modules; sys.exit(rc)")
    proc = subprocess.run([sys.executable, "-c", code, str(ROOT)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr


def real_studies() -> list[Study]:
    from generator.check import check
    from generator.load import load_project
    from generator.model import build_model

    loaded = load_project(ROOT)
    result = check(loaded)
    return list(build_model(result.records, result.codebook, loaded.bib, loaded.record_paths).studies.values())


def test_pandocs_version_looked_up_in_a_thread_is_the_one_asked_for(monkeypatch: pytest.MonkeyPatch) -> None:
    """The generator looks pandoc's version up in a thread (csl.look_up_pandoc); what the cache keys then hold is
    what asking there gives, and a failure there (no pandoc) is raised where the version is asked for."""
    import generator.csl as csl

    def fresh() -> None:
        monkeypatch.setattr(csl, "_VERSION_LOOKUP", None)
        csl._pandoc_version.cache_clear()

    fresh()
    asked = csl._pandoc_version()
    assert asked.startswith("pandoc ")
    fresh()
    csl.look_up_pandoc()
    assert csl._VERSION_LOOKUP is not None
    assert csl._pandoc_version() == asked
    fresh()

    def missing() -> str:
        raise RuntimeError("formatting references needs pandoc")

    monkeypatch.setattr(csl, "pandoc_binary", missing)
    csl.look_up_pandoc()
    with pytest.raises(RuntimeError, match="needs pandoc"):
        csl._pandoc_version()
    fresh()


def test_bibtex_exports_read_back_to_the_same_data() -> None:
    studies = real_studies()
    lib = bibtexparser.parse_string("\n".join(bibtex_of(s) for s in studies))
    assert not lib.failed_blocks
    by_key = {e.key: e for e in lib.entries}
    for s in studies:
        entry = by_key[s.key]
        assert entry.entry_type == s.entry_type
        assert {f.key: f.value for f in entry.fields} == s.bib_fields


def test_ris_exports_read_back_to_the_same_data() -> None:
    for s in real_studies():
        (record,) = rispy.loads(ris_of(s))
        item = s.csl
        assert record["id"] == s.key
        assert record["title"] == s.title == plain_text(item["title"])  # the title as stored, no markup
        names = item.get("author", [])
        assert len(record.get("authors", [])) == len(names)
        if names and "family" in names[0]:
            assert names[0]["family"] in record["authors"][0]
        assert record.get("year") == str(item["issued"]["date-parts"][0][0])
        assert record.get("doi") == item.get("DOI")


def meta_tags(html: str) -> list[tuple[str, str]]:
    return Doc(html).meta("citation_")


def test_meta_tags_on_a_built_study_page(built_site: Path) -> None:
    tags = meta_tags((built_site / "studies/parrado2013/index.html").read_text(encoding="utf-8"))
    assert [v for k, v in tags if k == "citation_author"] == [
        "Parrado, Salvador", "Van Ryzin, Gregg G.", "Bovaird, Tony", "Löffler, Elke"]
    d = dict(tags)
    assert d["citation_title"] == "Correlates of co-production: Evidence from a five-nation survey of citizens"
    assert d["citation_journal_title"] == "International Public Management Journal"
    assert (d["citation_publication_date"], d["citation_volume"], d["citation_issue"]) == ("2013", "16", "1")
    assert (d["citation_firstpage"], d["citation_lastpage"]) == ("85", "112")
    assert d["citation_doi"] == "10.1080/10967494.2013.796260"


def test_meta_tags_of_a_chapter(built_site: Path) -> None:
    tags = meta_tags((built_site / "studies/thornton2008/index.html").read_text(encoding="utf-8"))
    d = dict(tags)
    assert d["citation_inbook_title"] == "The SAGE handbook of organizational institutionalism"
    assert next(v for k, v in tags if k == "citation_editor") == "Greenwood, Royston"
    assert (d["citation_firstpage"], d["citation_lastpage"], d["citation_publisher"]) == ("99", "129", "SAGE")


def test_json_ld_is_valid_and_inert(built_site: Path) -> None:
    html = (built_site / "studies/vaneijk2017/index.html").read_text(encoding="utf-8")
    (raw,) = Doc(html).script("application/ld+json")
    data = json.loads(raw)
    assert data["@type"] == "ScholarlyArticle" and data["sameAs"] == "https://doi.org/10.1080/03003930.2017.1281803"
    assert data["author"][0] == {"@type": "Person", "familyName": "van Eijk", "givenName": "Carola"}


def test_reading_lists_on_term_pages(built_site: Path) -> None:
    """A term's reading list is the explorer filtered to the term (downloads are made in the browser;
    test_browser.py::test_a_term_reading_list_opens_the_explorer_filtered_to_the_term); no per-term files."""
    page = (built_site / "logics/professional/index.html").read_text(encoding="utf-8")
    assert "../../explore/?logics=professional" in Doc(page).hrefs()
    assert not (built_site / "logics/professional.ris").exists()
    assert not (built_site / "studies/vaneijk2017.ris").exists(), "reference files are on the study page"
    index = explorer_data((built_site / "explore/studies.js").read_text(encoding="utf-8"))
    assert "logics" in [f["field"] for f in index["facets"]]
    assert all(any(f["field"] == field for f in index["facets"]) for field in ("concepts", "basis"))


def test_a_study_page_carries_its_reference_files(built_site: Path) -> None:
    """BibTeX, RIS and CSL-JSON are printed on the study page (atlas.js downloads them:
    test_browser.py::test_a_study_page_downloads_its_reference_files); each is importable."""
    import bibtexparser

    doc = Doc((built_site / "studies/vaneijk2017/index.html").read_text(encoding="utf-8"))
    blocks = {ext: doc.by_id[f"ref-{ext}"] for ext in ("bib", "ris", "json")}
    lib = bibtexparser.parse_string(blocks["bib"])
    assert [e.key for e in lib.entries] == ["vaneijk2017"] and not lib.failed_blocks
    assert [e["id"] for e in rispy.loads(blocks["ris"])] == ["vaneijk2017"]
    assert [i["id"] for i in json.loads(blocks["json"])] == ["vaneijk2017"]
    # the downloads are named after the key the block carries (atlas.js adds the extension and the
    # buttons, which work only with the script)
    assert doc.attrs("details", data_key="vaneijk2017")
    assert not doc.attrs("button")


def test_datapackage_validates_with_frictionless(built_site: Path) -> None:
    frictionless = pytest.importorskip("frictionless")
    report = frictionless.validate(str(built_site / "data/datapackage.json"))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
    package = json.loads((built_site / "data/datapackage.json").read_text(encoding="utf-8"))
    assert package["version"] == _dataset()["version"]


def test_citation_cff_matches_the_dataset_version() -> None:
    import yaml

    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    dataset = yaml.safe_load((ROOT / "evidence/dataset.yaml").read_text(encoding="utf-8"))
    assert (cff["version"], cff["date-released"]) == (dataset["version"], dataset["released"])


def _dataset() -> dict[str, str]:
    import yaml

    data: dict[str, str] = yaml.safe_load((ROOT / "evidence/dataset.yaml").read_text(encoding="utf-8"))
    return data


def test_version_in_the_footer(built_site: Path) -> None:
    d = _dataset()
    assert f"Evidence base version {d['version']}, released {d['released']}" in \
        (built_site / "index.html").read_text(encoding="utf-8")


def test_every_study_in_the_changes_page(built_site: Path) -> None:
    page = (built_site / "changes/index.html").read_text(encoding="utf-8")
    records = {p.stem for p in (ROOT / "evidence/studies").glob("*.yaml")}
    assert {m.group(1) for h in Doc(page).hrefs() if (m := re.fullmatch(r"../studies/([a-z0-9]+)/", h))} == records


def locale_terms(lang: str) -> dict[str, str]:
    """Quotation marks, the editors' short label and punctuation-in-quote of a shipped CSL locale."""
    import xml.etree.ElementTree as ET

    from generator.csl import CSL_DIR

    ns = {"c": "http://purl.org/net/xbiblio/csl"}
    root = ET.parse(CSL_DIR / "locales" / f"locales-{lang}.xml").getroot()
    terms = {t.get("name"): (t.text or "") for t in root.iterfind(".//c:term", ns) if t.get("form") is None}
    editor = root.find(".//c:term[@name='editor'][@form='short']/c:multiple", ns)
    options = root.find("c:style-options", ns)
    assert editor is not None and options is not None
    return {"open": terms["open-quote"], "close": terms["close-quote"], "eds": editor.text or "",
            "inside": options.get("punctuation-in-quote", "false")}


def test_each_style_prints_in_its_shipped_locale() -> None:
    """The shipped locale files are the reference: quotation marks, punctuation and labels as they say."""
    from generator.csl import LOCALES

    bib, _ = load_bibliography(FIXTURES / "references" / "refs.bib", "refs.bib")
    chapter = csl_item(bib.entries["thornton2008"])
    for style, lang in LOCALES.items():
        terms = locale_terms(lang)
        text = re.sub(r"</?span[^>]*>", "", format_html([chapter], style)[0])
        if style == "apa":
            continue  # APA prints chapter titles without quotation marks
        title = "Institutional Logics" if style.startswith("chicago") else "Institutional logics"
        quoted = (f"{terms['open']}{title}.{terms['close']}" if terms["inside"] == "true"
                  else f"{terms['open']}{title}{terms['close']},")
        assert quoted in text, (style, text)
    assert locale_terms("en-GB")["eds"] == "eds" and "(eds)" in format_html([chapter], "harvard-cite-them-right")[0]


def test_an_article_number_reaches_every_format(built_site: Path) -> None:
    """bradley2024 is article 9 of Urban Science 8(1): APA says 'Article 9'; RIS and the Highwire tags
    give it as the first page, where Zotero and Google Scholar look for it; BibTeX keeps the eid."""
    doc = Doc((built_site / "studies/bradley2024/index.html").read_text(encoding="utf-8"))
    assert "Urban Science, 8(1), Article 9." in doc.by_id["cite-apa"]
    assert "SP  - 9\n" in doc.by_id["ref-ris"] and "EP  -" not in doc.by_id["ref-ris"]
    assert ("citation_firstpage", "9") in doc.meta("citation_")
    assert "eid     = {9}," in doc.by_id["ref-bib"]
    assert json.loads(doc.by_id["ref-json"])[0]["number"] == "9"


def test_unconfirmed_reference_fields_are_named_for_readers(built_site: Path) -> None:
    page = Doc((built_site / "studies/zhao2024/index.html").read_text(encoding="utf-8")).text
    assert "Unconfirmed: volume, article number." in page
    page = Doc((built_site / "studies/salman2017/index.html").read_text(encoding="utf-8")).text
    assert "Unconfirmed: conference, conference's place, year." in page
    page = Doc((built_site / "studies/wenene2016/index.html").read_text(encoding="utf-8")).text
    assert ("Unconfirmed: author. This value is kept as printed in the source we took it from; "
            "no source we read confirmed it.") in page


@pytest.mark.parametrize("pages", ["12--34", "12-34", "12–34", "12 — 34", "12 -- 34"])
def test_a_page_range_with_any_dash_splits_into_first_and_last_page(pages: str) -> None:
    """check.py accepts a hyphen, an en dash or an em dash in pages; CSL-JSON gets one hyphen, where RIS, the
    Highwire tags and the styles split the range."""
    from generator.load import BibEntry

    entry = BibEntry("ek2019", "article", {"author": "Ek, Eva", "title": "A title", "journal": "J", "year": "2019",
                                           "volume": "3", "pages": pages}, 1, {})
    item = csl_item(entry)
    assert item["page"] == "12-34"
    (apa,) = format_html([item], "apa")
    assert "12–34" in apa  # the style's own dash


def test_every_reference_format_has_a_media_type_in_the_script() -> None:
    """The study page names its formats in Python (REFERENCE_FORMATS); atlas.js downloads each with the media
    type it holds for the extension. A format added on one side only fails here, not on a reader's click."""
    from generator.render_cite import REFERENCE_FORMATS

    script = (ROOT / "generator/assets/atlas.js").read_text(encoding="utf-8")
    table = re.search(r"var MEDIA_TYPES = \{(.*?)\};", script, re.S)
    assert table is not None
    types = dict(re.findall(r'(\w+): "([^"]+)"', table.group(1)))
    assert sorted(types) == sorted(ext for _, ext in REFERENCE_FORMATS)
    assert types == {"bib": "application/x-bibtex", "ris": "application/x-research-info-systems",
                     "json": "application/vnd.citationstyles.csl+json"}
