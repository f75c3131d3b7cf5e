"""Visible text of an HTML file: blocks separated by blank lines, headings recorded; nothing is ever executed.

Script, style, template and head contents are dropped; every other tag only decides where a block ends.
The result is plain text, so markup the author wrote as text (`&lt;script&gt;`) stays visible text.
"""

from dataclasses import dataclass
from html.parser import HTMLParser

from .text import collapse_whitespace

_DROP = frozenset({"script", "style", "template", "noscript", "head", "iframe", "object", "svg", "math",
                   "textarea", "select"})
_VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
                   "source", "track", "wbr"})
_BLOCK = frozenset({"address", "article", "aside", "blockquote", "body", "caption", "dd", "details", "dialog",
                    "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3",
                    "h4", "h5", "h6", "header", "hr", "html", "li", "main", "nav", "ol", "p", "pre", "section",
                    "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul"})
_CELLS = frozenset({"td", "th"})
_HEADINGS = {f"h{n}": n for n in range(1, 7)}


@dataclass(frozen=True, slots=True)
class Heading:
    """A heading of a document: characters [start, end) of its text, level 1-6, and its title."""

    start: int
    end: int
    level: int
    title: str


class _Extractor(HTMLParser):
    """Collects (text, heading level) blocks; a `<pre>` block keeps its line breaks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[tuple[str, int]] = []
        self.title = ""
        self._buffer: list[str | None] = []  # None marks a <br>
        self._drop: list[str] = []  # stack of open dropped elements (nested ones too)
        self._heading = 0
        self._pre = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        """Open a dropped element, or end the current block at a block element."""
        if tag == "title":
            self._in_title = True
        elif tag == "body" and "head" in self._drop:  # <head> left open: the body starts anyway
            self._drop.clear()
        if self._drop:
            if tag in _DROP and tag not in _VOID:
                self._drop.append(tag)
            return
        if tag in _DROP:
            self._drop.append(tag)
        elif tag == "br":
            self._buffer.append(None)
        elif tag in _CELLS:
            self._buffer.append(" ")
        elif tag in _BLOCK:
            self._flush()
            self._heading = _HEADINGS.get(tag, self._heading)
            self._pre += tag == "pre"

    def handle_endtag(self, tag: str) -> None:
        """Close a dropped element, or end the current block."""
        if tag == "title":
            self._in_title = False
        if self._drop:
            if tag == self._drop[-1] or (tag in self._drop and tag != "head"):
                while self._drop and self._drop.pop() != tag:
                    pass
            elif tag in ("head", "body", "html"):
                self._drop.clear()
            return
        if tag in _CELLS:
            self._buffer.append(" ")
        elif tag in _BLOCK:
            self._flush()
            if tag in _HEADINGS:
                self._heading = 0
            if tag == "pre":
                self._pre = max(0, self._pre - 1)

    def handle_data(self, data: str) -> None:
        """Text outside dropped elements goes into the current block."""
        if self._in_title and not self.title:
            self.title = collapse_whitespace(data)
        if not self._drop and not self._in_title:
            self._buffer.append(data)

    def close(self) -> None:
        """Flush the last block."""
        super().close()
        self._flush()

    def _flush(self) -> None:
        """End the current block: whitespace collapsed (line breaks kept inside <pre> and at <br>)."""
        raw = "".join("\n" if part is None else part for part in self._buffer)
        if self._pre:
            text = "\n".join(line.rstrip() for line in raw.strip("\n").split("\n")).strip()
        else:
            lines: list[list[str]] = [[]]
            for part in self._buffer:
                if part is None:
                    lines.append([])
                else:
                    lines[-1].append(part)
            text = "\n".join(filter(None, (collapse_whitespace("".join(line)) for line in lines)))
        self._buffer.clear()
        if text:
            self.blocks.append((text, self._heading))


def html_to_text(markup: str) -> tuple[str, list[Heading], str]:
    """(visible text with blocks separated by blank lines, its headings, the <title>) of an HTML document."""
    parser = _Extractor()
    parser.feed(markup)
    parser.close()
    parts: list[str] = []
    headings: list[Heading] = []
    position = 0
    for text, level in parser.blocks:
        if parts:
            position += 2
        if level:
            title = collapse_whitespace(text)
            headings.append(Heading(position, position + len(text), level, title))
        parts.append(text)
        position += len(text)
    return "\n\n".join(parts), headings, parser.title
