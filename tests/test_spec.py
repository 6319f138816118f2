"""The field spec (generator/spec.py) is the one place the record format is written."""

from __future__ import annotations

import ast
import re
import tokenize
from pathlib import Path

import yaml

from generator import spec
from generator.codebook import Codebook, vocabulary_from_data
from generator.schema import record_schema

from .html_doc import Doc

ROOT = Path(__file__).resolve().parent.parent
NAMES = sorted({f.name for f in (*spec.RECORD_FIELDS, *spec.DERIVED_FIELDS)} | {spec.APPRAISAL} |
               {f.name.rsplit(".", 1)[1] for f in (*spec.CLAIM_FIELDS, *spec.APPRAISAL_FIELDS, *spec.SOURCE_FIELDS)})

# Where a field's name may still be written as a string, and why: these strings name something else
# that happens to share the word (the key of another file format, or a third-party data structure).
ALLOWED = {
    ("codebook.py", "countries"): "the traditions vocabulary's own key for its member countries",
    ("codebook.py", "traditions"): "the name of the traditions vocabulary file",
    ("check.py", "countries"): "the traditions vocabulary's own key, checked in the codebook",
    ("screening.py", "route"): "the screening log's own key (search or review), not the record field",
    ("schema.py", "route"): "the screening log's own key, in the screening log schema",
    ("worldmap.py", "countries"): "the object name inside the bundled TopoJSON world map",
    ("check.py", "note"): "the key of a release in evidence/changes.yaml",
    ("codebook.py", "reason"): "the traditions vocabulary's reason for countries left unassigned",
    ("csl.py", "url"): "the BibTeX field url, mapped to CSL-JSON's URL",
    ("exports.py", "url"): "the BibTeX field url",
    ("load.py", "url"): "the BibTeX field url, kept verbatim",
    ("render.py", "claim"): "the name of the template helper that looks a claim up",
    ("render_compare.py", "url"): "the study page's address in the explorer's index",
    ("schema.py", "url"): "a screening log candidate's key, in the screening log schema",
    ("schema.py", "note"): "a screening log candidate's key, in the screening log schema",
    ("schema.py", "reason"): "a screening log candidate's key, in the screening log schema",
    ("screening.py", "url"): "a screening log candidate's key",
    ("screening.py", "note"): "a screening log candidate's key",
    ("screening.py", "reason"): "a screening log candidate's key",
    ("site_cache.py", "url"): "the attribute of a MkDocs navigation item",
    ("search_cache.py", "url"): "the page address in a Pagefind fragment",
}


# Words shown to readers that happen to be a field's name (link text, a column's unit), not field names.
TEMPLATE_WORDS = {
    ("compare_index.md.j2", "claims"): "what a matrix counts, shown in a table cell",
    ("gap_map.md.j2", "sectors"): "link text",
    ("home.md.j2", "barriers"): "link text",
    ("home.md.j2", "enablers"): "link text",
}


def _shipped_codebook() -> Codebook:
    vocabularies = {}
    for path in sorted((ROOT / "evidence/codebook").glob("*.yaml")):
        vocabularies[path.stem] = vocabulary_from_data(path.stem, yaml.safe_load(path.read_text(encoding="utf-8")))
    return Codebook(vocabularies)


def test_no_module_writes_a_field_name_as_a_string() -> None:
    """No string literal of a module is a field's name (prose that mentions one is fine)."""
    found = []
    for path in sorted((ROOT / "generator").glob("*.py")):
        if path.name == "spec.py":
            continue
        with path.open("rb") as f:
            for tok in tokenize.tokenize(f.readline):
                if tok.type != tokenize.STRING:
                    continue
                try:
                    value = ast.literal_eval(tok.string)
                except ValueError:  # an f-string: its literal parts are prose or paths
                    continue
                if value in NAMES and (path.name, value) not in ALLOWED:
                    found.append(f"{path.name}:{tok.start[0]}: {tok.line.strip()}")
    assert found == []


def test_no_template_or_script_writes_a_field_name_as_a_string() -> None:
    found = []
    paths = [*sorted((ROOT / "generator/templates").glob("*.j2")), ROOT / "generator/assets/atlas.js"]
    for path in paths:
        text = path.read_text(encoding="utf-8")
        code = text if path.suffix == ".js" else " ".join(re.findall(r"\{\{.*?\}\}|\{%.*?%\}", text, re.S))
        for name in NAMES:
            if re.search(rf"""(["']){name}\1""", code) and (path.name, name) not in TEMPLATE_WORDS:
                found.append(f"{path.name}: '{name}'")
    assert found == []


def test_mkdocs_config_names_no_dimension() -> None:
    """The dimensions' nav entries come from the spec (atlas-nav); mkdocs.yml holds only the marker."""
    text = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    nav = text[text.index("\nnav:"):]
    sections = {f.section for f in spec.dimensions(_shipped_codebook()) if f.section}
    assert [s for s in sections if f" {s}/" in nav] == []
    assert nav.count("atlas:dimensions") == 1


def test_the_codebook_serves_only_declared_fields_and_every_required_vocabulary_ships() -> None:
    codebook = _shipped_codebook()
    assert set(spec.required_vocabularies()) <= set(codebook.vocabularies)
    for vocab in codebook.vocabularies.values():
        assert vocab.field is None or vocab.field in spec.known_field_paths() or "." not in vocab.field


def test_the_schema_lists_the_spec_fields_in_canonical_order() -> None:
    codebook = _shipped_codebook()
    schema = record_schema(codebook)
    assert list(schema["properties"]) == [f.name for f in spec.record_fields(codebook)]
    assert schema["required"] == [f.name for f in spec.record_fields(codebook) if f.required]
    claim = schema["properties"][spec.CLAIMS]["items"]
    assert list(claim["properties"]) == list(spec.claim_field_order())


def test_a_vocabulary_added_to_the_codebook_becomes_a_field_before_route() -> None:
    codebook = _shipped_codebook()
    added = vocabulary_from_data("programmes", {"title": "Programmes", "description": "d", "field": "programmes",
                                                "multiple": True, "required": True,
                                                "terms": [{"slug": "a", "label": "A", "definition": "d"}]})
    bigger = Codebook({**codebook.vocabularies, "programmes": added})
    names = [f.name for f in spec.record_fields(bigger)]
    assert names.index("programmes") == names.index(spec.ROUTE) - 1
    field = spec.by_name(bigger)["programmes"]
    assert (field.required, field.multiple, field.faceted, field.section) == (True, True, True, "programmes")
    assert "programmes" in [f.name for f in spec.dimensions(bigger)]


def test_vocabulary_fields_take_multiple_and_required_from_the_codebook() -> None:
    codebook = _shipped_codebook()
    by_field = codebook.by_field()
    for f in spec.record_fields(codebook):
        if f.vocabulary and f.name in by_field:
            assert (f.multiple, f.required) == (by_field[f.name].multiple, by_field[f.name].required), f.name


def _imports() -> dict[str, set[str]]:
    """generator module -> the generator modules it imports (at the top or inside a function)."""
    graph: dict[str, set[str]] = {}
    for path in sorted((ROOT / "generator").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        deps: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                if node.module:
                    deps.add(node.module.split(".")[0])
                else:
                    deps.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("generator."):
                deps.add(node.module.split(".")[1])
        graph[path.stem] = deps - {path.stem}
    return graph


def test_no_import_cycle_between_generator_modules() -> None:
    graph = _imports()
    cycles = []

    def visit(node: str, trail: list[str]) -> None:
        for dep in sorted(graph.get(node, ())):
            if dep in trail:
                cycles.append(" -> ".join([*trail[trail.index(dep):], dep]))
            elif dep in graph:
                visit(dep, [*trail, dep])

    for module in graph:
        visit(module, [module])
    assert sorted(set(cycles)) == []


def test_the_readme_names_the_required_fields_and_its_example_follows_the_canonical_order() -> None:
    """The README is documentation, not a source: it must say what the spec says."""
    codebook = _shipped_codebook()
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    required = re.search(r"Required: (.*?) \(lists may", text, re.S)
    assert required is not None
    assert re.findall(r"`(\w+)`", required.group(1)) == [f.name for f in spec.record_fields(codebook) if f.required]
    example = text[text.index("## Record format"):]
    example = example[example.index("```yaml") + 7:example.index("```", example.index("```yaml") + 7)]
    keys = re.findall(r"^(\w+):", example, re.M)
    assert keys == [f.name for f in spec.record_fields(codebook)]


def test_the_codebook_page_lists_every_vocabulary(built_site: Path) -> None:
    from generator.render_codebook import MARKER

    assert (ROOT / "content/codebook.md").read_text(encoding="utf-8").count(MARKER) == 1
    text = (built_site.parent / "build/docs/codebook.md").read_text(encoding="utf-8")
    assert MARKER not in text
    rows = [line for line in text.splitlines() if line.startswith("| ") and "Vocabulary" not in line]
    assert len(rows) == len(_shipped_codebook().vocabularies) + 1  # and countries, which has no file
    page = (built_site / "codebook/index.html").read_text(encoding="utf-8")
    hrefs = Doc(page).hrefs()
    assert all(f"../{f.section}/" in hrefs for f in spec.dimensions(_shipped_codebook()) if f.section)


def test_templates_only_format() -> None:
    """No template counts, sorts, pluralises or joins a path: the model and urls.py have done it."""
    forbidden = {
        "counts": r"\|\s*length|\|\s*count\b|\|\s*sum\b",
        "sorts": r"\|\s*sort\b|\|\s*dictsort\b|\|\s*groupby\b",
        "pluralises": r"""["']s["']\s+if\b|if\s+[\w.]+\s*==\s*1\s+else|\bplural\(""",
        "joins a path": r"""~\s*["'][^"']*(\.md|/)["']|["'][^"']*/["']\s*~""",
    }
    found = []
    for path in sorted((ROOT / "generator/templates").glob("*.j2")):
        code = " ".join(re.findall(r"\{\{.*?\}\}|\{%.*?%\}", path.read_text(encoding="utf-8"), re.S))
        found += [f"{path.name} {what}" for what, pattern in forbidden.items() if re.search(pattern, code)]
    assert found == []
