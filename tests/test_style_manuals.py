"""Formatted references checked against the examples that the style manuals print, not against ourselves.

The works are encoded in tests/fixtures/manual/references.bib (with the page each example was
read on). An example is compared with the atlas's output character for character, italics
included (<em>); links and spans carry no typography and are dropped. Where the atlas knowingly
prints something else, the difference is listed in DEVIATIONS with its reason, and the test
checks the output against the example with exactly those differences applied.
"""

from __future__ import annotations

import html
import re

import pytest

from generator.csl import csl_item, format_html
from generator.load import load_bibliography

from .helpers import FIXTURES

APA, CHICAGO, HARVARD = "apa", "chicago-author-date-17th-edition", "harvard-cite-them-right"

# key -> (style, the example as printed, the page it was read on)
EXAMPLES: dict[str, tuple[str, str, str]] = {
    "grady2019": (APA, "Grady, J. S., Her, M., Moreno, G., Perez, C., & Yelinek, J. (2019). Emotions in storybooks: "
                  "A comparison of storybooks that represent ethnic and racial groups in the United States. "
                  "<em>Psychology of Popular Media Culture</em>, <em>8</em>(3), 207–217. "
                  "https://doi.org/10.1037/ppm0000185",
                  "https://guides.lib.odu.edu/c.php?g=502740&p=3899488"),
    "stacks2019": (APA, "Stacks, D. W., Salwen, M. B., & Eichhorn, K. C. (Eds.). (2019). <em>An integrated approach "
                   "to communication theory and research</em> (3rd ed.). Routledge.",
                   "https://bond.libguides.com/apa-referencing/book-chapter"),
    "aron2019": (APA, "Aron, L., Botella, M., & Lubart, T. (2019). Culinary arts: Talent and their development. "
                 "In R. F. Subotnik, P. Olszewski-Kubilius, & F. C. Worrell (Eds.), <em>The psychology of high "
                 "performance: Developing human potential into domain-specific talent</em> (pp. 345–359). "
                 "American Psychological Association.",
                 "https://tama.dlsud.edu.ph/aeaservices/Index.aspx?MenuID=4389"),
    "greenberg2008": (CHICAGO, "Greenberg, Joel, ed. 2008. <em>Of Prairie, Woods, and Water: Two Centuries of "
                      "Chicago Nature Writing</em>. Chicago: University of Chicago Press.",
                      "https://www.scribd.com/document/202786275/Author-Date-Reference"),
    "akaogi2007": (CHICAGO, 'Akaogi, M. 2007. "Phase Transitions of Minerals in the Transition Zone and Upper Part '
                   'of the Lower Mantle." In <em>Advances in High-Pressure Mineralogy</em>, edited by Eiji Ohtani, '
                   "1–13. Boulder: Geological Society of America. https://doi.org/10.1130/2007.2421(01).",
                   "https://www.grafiati.com/en/info/chicago-17-author-date/examples/"),
    "esher2014": (CHICAGO, 'Esher, Louise. 2014. "Autonomous Morphology and Extramorphological Coherence." '
                  "<em>Morphology</em> 24 (4): 325–50. https://doi.org/10.1007/s11525-014-9246-8.",
                  "https://grafiati.com/en/info/chicago-17-author-date/journal-article"),
    "chen2023": (HARVARD, "Chen, Y. (2023) 'Addressing uncertainties through improved reserve product design', "
                 "<em>IEEE Transactions on Power Systems</em>, 38(4), pp. 3911–3923. "
                 "Available at: https://doi.org/10.1109/TPWRS.2022.3200697",
                 "https://library.rgu.ac.uk/harvard-referencing-templates/journal-articles"),
    "hedley2023": (HARVARD, "Hedley, C. and Shaw, N. (2023) <em>Plant medicine: a collection of the teachings of "
                   "herbalists Christopher Hedley & Non Shaw</em>. London: Aeon Books.",
                   "https://lincolncollege-uk.libguides.com/citethemright/references"),
    "black2019": (HARVARD, "Black, R.M. (2019) 'Culture, diversity and culturally effective care' in B.A. Boyt "
                  "Schnell and G. Gillen (eds) <em>Willard and Spackman's occupational therapy</em>. 13th edn. "
                  "London: Wolters Kluwer, pp. 223-239.",
                  "https://libguides.sgul.ac.uk/Harvard/books"),
}

# key -> [(as printed, as the atlas prints it, why)]
STRAIGHT_QUOTES = "the web page shows the manual's typographic quotation marks and apostrophes as straight ones"
DEVIATIONS: dict[str, list[tuple[str, str, str]]] = {
    "akaogi2007": [('"Phase', "“Phase", STRAIGHT_QUOTES), ('Mantle."', "Mantle.”", STRAIGHT_QUOTES)],
    "esher2014": [('"Autonomous', "“Autonomous", STRAIGHT_QUOTES), ('Coherence."', "Coherence.”", STRAIGHT_QUOTES)],
    "chen2023": [("'Addressing", "‘Addressing", STRAIGHT_QUOTES), ("design',", "design’,", STRAIGHT_QUOTES),
                 ("3200697", "3200697.",
                  "the CSL style (harvard-cite-them-right.csl) ends every reference with a full stop, after a DOI too")],
    "black2019": [("'Culture", "‘Culture", STRAIGHT_QUOTES), ("Spackman's", "Spackman’s", STRAIGHT_QUOTES),
                  ("care' in", "care’, in",
                   "this guide leaves out the comma that other Cite Them Right guides print before 'in'"),
                  ("223-239", "223–239", "Cite Them Right sets page ranges with an en dash, as in the chen2023 example")],
}


def visible(html_text: str) -> str:
    """The text a reader sees, with its italics: links and spans dropped, entities decoded."""
    return html.unescape(re.sub(r"</?(?:span|a)\b[^>]*>", "", html_text))


@pytest.fixture(scope="module")
def formatted() -> dict[str, str]:
    bib, diags = load_bibliography(FIXTURES / "manual" / "references.bib", "references.bib")
    assert diags == []
    assert sorted(bib.entries) == sorted(EXAMPLES)
    return {key: visible(format_html([csl_item(bib.entries[key])], style)[0])
            for key, (style, _, _) in EXAMPLES.items()}


@pytest.mark.parametrize("key", list(EXAMPLES))
def test_reference_matches_the_printed_example(key: str, formatted: dict[str, str]) -> None:
    _, printed, _ = EXAMPLES[key]
    expected = printed
    for before, after, _ in DEVIATIONS.get(key, []):
        assert before in expected, f"deviation {before!r} no longer applies to {key}"
        expected = expected.replace(before, after, 1)
    assert formatted[key] == expected


def test_every_example_names_its_source_in_the_fixture() -> None:
    text = (FIXTURES / "manual" / "references.bib").read_text(encoding="utf-8")
    for key, (_, _, url) in EXAMPLES.items():
        comment = text.split(f"{{{key},")[0].rsplit("@", 1)[0].rsplit("}\n", 1)[-1]  # the lines just above
        assert url in comment, key


def test_the_three_kinds_of_work_are_covered_per_style() -> None:
    bib, _ = load_bibliography(FIXTURES / "manual" / "references.bib", "references.bib")
    kinds = {(style, bib.entries[key].entry_type) for key, (style, _, _) in EXAMPLES.items()}
    for style in (APA, CHICAGO):
        assert {(style, "article"), (style, "book"), (style, "incollection")} <= kinds
    assert {(HARVARD, "article"), (HARVARD, "book"), (HARVARD, "incollection")} <= kinds
