"""Built pages read as a browser reads them, for assertions: elements with their attributes, the text of
elements by id, script contents and the visible text. The site's HTML is minified (site_minify.py), so
tests never match raw markup such as `href="..."`: quoting and entity choices are the minifier's."""

from __future__ import annotations

from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Doc(HTMLParser):
    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.scripts: list[tuple[dict[str, str], str]] = []
        self.by_id: dict[str, str] = {}
        self._stack: list[tuple[str, str | None, list[str]]] = []  # (tag, id, text parts)
        self._parts: list[str] = []
        self.feed(page)
        self.close()
        self.text = " ".join(" ".join(self._parts).split())

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.elements.append((tag, a))
        if tag not in VOID:
            self._stack.append((tag, a.get("id"), []))

    def handle_endtag(self, tag: str) -> None:
        while self._stack:
            name, ident, parts = self._stack.pop()
            text = "".join(parts)
            if ident is not None:
                self.by_id[ident] = text
            if name == "script":
                self.scripts.append((next(a for t, a in reversed(self.elements) if t == "script"), text))
            if self._stack:
                self._stack[-1][2].append(text)
            if name == tag:
                break

    def handle_data(self, data: str) -> None:
        if self._stack:
            self._stack[-1][2].append(data)
        if not self._stack or self._stack[-1][0] not in ("script", "style"):
            self._parts.append(data)

    def attrs(self, tag: str, **match: str) -> list[dict[str, str]]:
        """The attributes of every `tag` element whose attributes include `match` (data_name -> data-name)."""
        want = {k.replace("_", "-"): v for k, v in match.items()}
        return [a for t, a in self.elements if t == tag and all(a.get(k) == v for k, v in want.items())]

    def hrefs(self) -> list[str]:
        return [a["href"] for t, a in self.elements if t == "a" and "href" in a]

    def meta(self, prefix: str = "") -> list[tuple[str, str]]:
        return [(a["name"], a.get("content", "")) for t, a in self.elements
                if t == "meta" and a.get("name", "").startswith(prefix)]

    def script(self, type_: str) -> list[str]:
        return [text for a, text in self.scripts if a.get("type") == type_]
