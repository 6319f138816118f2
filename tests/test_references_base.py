"""The atlas's own references, as the site prints them, in each style's conventions.

- APA: every title in sentence case, printed as stored (proper nouns kept);
- Chicago: every article, chapter and book title in title case; no period or comma after a
  closing quotation mark (American punctuation);
- Harvard (Cite Them Right): single quotation marks, punctuation outside them, no serial comma
  in lists of names.
Exemptions are listed with their reason.
"""

from __future__ import annotations

import html
import re

import pytest

from generator.check_bib import title_case_counts
from generator.csl import _LONG_PREPOSITIONS, STYLES, csl_item, format_all, plain_text
from generator.load import BibEntry, load_bibliography

from .helpers import ROOT

MINOR = frozenset("a an and as at but by for from in into nor of on onto or over so the to up via with yet".split()
                  + _LONG_PREPOSITIONS.split("|"))  # CMOS 8.159: articles, coordinating conjunctions, prepositions

# the stored entries by key, and each style's references (visible text) by key
Base = tuple[dict[str, BibEntry], dict[str, dict[str, str]]]


def visible(html_text: str) -> str:
    return html.unescape(re.sub(r"<(?!/?em>)[^>]+>", "", html_text))


@pytest.fixture(scope="module")
def base() -> Base:
    bib, diags = load_bibliography(ROOT / "references.bib", "references.bib")
    assert diags == []
    items = {key: csl_item(e) for key, e in bib.entries.items()}
    refs = format_all(list(items.values()), list(STYLES), {})
    return bib.entries, {style: {k: visible(v) for k, v in by_id.items()} for style, by_id in refs.items()}


def test_every_stored_title_is_in_sentence_case(base: Base) -> None:
    entries, _ = base
    for key, entry in entries.items():
        for field in ("title", "booktitle"):
            capitalised, _ = title_case_counts(entry.fields.get(field, ""))
            assert capitalised == 0, f"{key}.{field} has capitals outside braces: {entry.fields[field]}"


def test_apa_prints_titles_as_stored(base: Base) -> None:
    entries, refs = base
    for key, entry in entries.items():
        # APA sets a quotation inside a title in double quotes, and pandoc prints a typed apostrophe as ’
        unquoted = str.maketrans("", "", "‘’“”'\"")
        title = plain_text(csl_item(entry)["title"]).translate(unquoted)
        assert title in refs["apa"][key].translate(unquoted), key  # sentence case, proper nouns and acronyms kept


def _chicago_title(reference: str) -> str:
    quoted = re.search(r"“(.*?)[.?]?”", reference)
    if quoted:
        return quoted.group(1)
    book = re.search(r"<em>(.*?)</em>", reference)
    assert book is not None, reference  # a reference has a title, in quotation marks or in italics
    return book.group(1)  # a book


def test_chicago_titles_are_in_title_case(base: Base) -> None:
    _, refs = base
    wrong: dict[str, list[str]] = {}
    for key, reference in refs["chicago-author-date-17th-edition"].items():
        title = _chicago_title(reference)
        for part in re.split(r"(?:[:?!]|—|\.(?= ))\s*", title):
            words = [w.strip("‘’“”,()") for w in part.split()]
            words = [w for w in words if w and w[0].isalpha()]
            for i, word in enumerate(words):
                last = i == len(words) - 1
                minor = word.lower() in MINOR and i > 0 and not last
                if not minor and not word[0].isupper():
                    wrong.setdefault(key, []).append(word)
                if minor and word[0].isupper() and i > 0:  # CMOS 8.159: prepositions lowercase, whatever their length
                    wrong.setdefault(key, []).append(word)
                if last and word.lower() in MINOR and i > 0 and word[0].islower():
                    wrong.setdefault(key, []).append(word)
            for word in (w for w in words if "-" in w):  # CMOS 8.161: Co-production, Five-Nation
                first, rest = word.split("-", 1)
                if first.lower() in ("co", "re", "pre", "non", "anti", "neo") and rest[:1].isupper() and key != "pollitt2011":
                    wrong.setdefault(key, []).append(word)
    assert wrong == {}


def test_chicago_puts_periods_and_commas_inside_quotation_marks(base: Base) -> None:
    _, refs = base
    outside = {k for k, r in refs["chicago-author-date-17th-edition"].items() if re.search(r"[”’][.,]", r)}
    assert outside == set()
    # a title that ends in a quotation (simmons2012): the period goes inside both marks (CMOS 6.9)
    assert "‘Choice about Voice.’”" in refs["chicago-author-date-17th-edition"]["simmons2012"]


def test_a_title_that_ends_before_its_subtitle_keeps_its_last_word_capitalised(base: Base) -> None:
    # CMOS 8.159: the last word of a title and of a subtitle is capitalised, even a preposition
    assert "“Bringing Society Back In: Symbols, Practices" in refs_of(base, "chicago-author-date-17th-edition", "friedland1991")
    assert "Bringing society back in: Symbols, practices" in refs_of(base, "apa", "friedland1991")


def refs_of(base: Base, style: str, key: str) -> str:
    return base[1][style][key]


def test_subtitles_start_with_a_capital_in_apa_and_chicago_and_lowercase_in_harvard(base: Base) -> None:
    entries, refs = base
    seen = 0
    for key, entry in entries.items():
        stored = plain_text(csl_item(entry)["title"])
        m = re.search(r": ([A-Z][a-z]*)\b", stored)
        if not m or "{" + m.group(1) in entry.fields["title"]:
            continue  # no subtitle, or one that starts with a protected proper noun
        seen += 1
        word = m.group(1)
        assert f": {word}" in refs["apa"][key], key
        assert f": {word}" in refs["chicago-author-date-17th-edition"][key], key
        assert f": {word.lower()}" in refs["harvard-cite-them-right"][key], key  # Cite Them Right
    assert seen >= 40


def test_harvard_uses_single_quotation_marks_with_punctuation_outside(base: Base) -> None:
    entries, refs = base
    for key, reference in refs["harvard-cite-them-right"].items():
        if entries[key].entry_type in ("article", "incollection"):
            # the title in single quotes (greedy: an apostrophe, as in "users’ role", is not the closing quote)
            assert re.search(r"\(\d{4}\) ‘.+’, ", reference), reference
        assert not re.search(r"[.,]’", reference), reference  # British: punctuation outside the quotes
        title = re.search(r"\(\d{4}\) ‘.+’, ", reference)
        outside = reference.replace(title.group(0), "") if title else reference
        assert "“" not in outside, reference  # double quotes only nested inside the single-quoted title
        assert not re.search(r"\b[A-Z]\. [\w’-]+, and [A-Z]\.", reference), reference  # no serial comma in names


def test_article_numbers_print_as_articles_not_pages(base: Base) -> None:
    """An article number (biblatex eid) is 'Article N' in APA 7 and takes the pages' place in Chicago;
    Cite Them Right's style prints none, and never as a page ('p. 9')."""
    entries, refs = base
    numbered = {key: e.fields["eid"] for key, e in entries.items() if e.fields.get("eid")}
    assert len(numbered) >= 20
    for key, eid in numbered.items():
        assert f", Article {eid}." in refs["apa"][key], refs["apa"][key]
        assert f": {eid}." in refs["chicago-author-date-17th-edition"][key], key
        assert f"p. {eid}" not in refs["harvard-cite-them-right"][key], key
    # and no article keeps a single number in its pages (evidence check warns: bib-article-number)
    single = [k for k, e in entries.items() if e.entry_type == "article"
              and e.fields.get("pages") and not re.search(r"[-–]", e.fields["pages"])]
    assert single == []


def test_papers_given_at_conferences_print_as_presentations(base: Base) -> None:
    """An unpublished paper given at a conference (@unpublished with eventtitle) is APA's
    '[Paper presentation]. Conference, Place.', never a chapter of proceedings ('In ...')."""
    entries, refs = base
    given = {key: e for key, e in entries.items() if e.entry_type == "unpublished" and e.fields.get("eventtitle")}
    assert {"bovaird2015", "parisi2021", "salman2017"} <= set(given)
    for key, entry in given.items():
        event = plain_text(csl_item(entry)["event"])
        place = f", {csl_item(entry)['event-place']}" if entry.fields.get("venue") else ""
        assert f"[Paper presentation]. {event}{place}." in refs["apa"][key], refs["apa"][key]
        assert " In " not in refs["apa"][key]
        assert f"Paper presentation. {event}{place}." in refs["chicago-author-date-17th-edition"][key], key
        assert event in refs["harvard-cite-them-right"][key], key
