"""Split documents into passages: by headings and paragraphs, merged or split to a token budget with overlap.

A passage never crosses a heading (except a section holding nothing but its heading, which joins the next
one), packs whole paragraphs while they fit the budget, and a paragraph over the budget is cut into
overlapping windows (`reranker.windows`). Tokens are counted by `reranker.tokenize`'s conservative estimate.
"""

import re
from dataclasses import dataclass
from typing import NamedTuple

from .documents import Document
from .errors import InputError
from .limits import MAX_PASSAGE_OVERLAP, MAX_PASSAGE_TOKENS, MIN_PASSAGE_TOKENS
from .tokenize import estimate_tokens_raw, with_margin
from .windows import split_windows

_PARAGRAPH_BREAK = re.compile(r"\n[ \t\u00a0]*\n\s*")


@dataclass(frozen=True, slots=True)
class Chunk:
    """One passage of the collection: `id` its position in the collection, `ordinal` within its document,
    characters [start, end) of the document text, the heading path above it and its estimated tokens."""

    id: int
    doc: int
    source: str
    record: str
    ordinal: int
    start: int
    end: int
    headings: tuple[str, ...]
    text: str
    tokens: int

    def to_dict(self) -> dict:
        """JSON-able form."""
        return {"id": self.id, "doc": self.doc, "source": self.source, "record": self.record,
                "ordinal": self.ordinal, "start": self.start, "end": self.end, "headings": list(self.headings),
                "text": self.text, "tokens": self.tokens}


class _Unit(NamedTuple):
    """A paragraph (or a window of a long one): span, raw token estimate, section number, heading or not.

    A NamedTuple: made ~3 times per passage, and a frozen dataclass' __init__ cost 3x as much under Pyodide."""

    start: int
    end: int
    raw: int
    section: int
    heading: bool


def check_budget(budget: int, overlap: float) -> None:
    """InputError (field "budget") unless MIN <= budget <= MAX tokens and 0 <= overlap <= MAX share."""
    if not isinstance(budget, int) or not MIN_PASSAGE_TOKENS <= budget <= MAX_PASSAGE_TOKENS:
        raise InputError("bad_budget", f"A passage budget is between {MIN_PASSAGE_TOKENS} and "
                         f"{MAX_PASSAGE_TOKENS:,} tokens.", "budget")
    if not 0 <= overlap <= MAX_PASSAGE_OVERLAP:
        raise InputError("bad_overlap", f"The overlap is between 0 and {MAX_PASSAGE_OVERLAP:.0%} of a passage.",
                         "budget")


def split_document(doc: Document, budget: int, overlap: float, first_id: int = 0) -> list[Chunk]:
    """Passages of one document, numbered from `first_id`; each at most `budget` estimated tokens."""
    check_budget(budget, overlap)
    sections, paths = _sections(doc)
    units: list[_Unit] = []
    for number, (start, end, heading_end) in enumerate(sections):
        heading_raw = estimate_tokens_raw(doc.text[start:heading_end]) if heading_end > start else 0
        if heading_end > start and with_margin(heading_raw) <= budget:  # an over-long "heading" is a paragraph
            units.append(_Unit(start, heading_end, heading_raw, number, True))
            start = heading_end
        units.extend(_paragraph_units(doc.text, start, end, number, budget, overlap))
    chunks: list[Chunk] = []
    for group in _pack(units, budget, overlap):
        start, end = group[0].start, group[-1].end
        path = paths[group[-1].section]
        chunks.append(Chunk(first_id + len(chunks), doc.id, doc.source, doc.record, len(chunks), start, end, path,
                            doc.text[start:end], with_margin(sum(unit.raw for unit in group))))
    return chunks


def _sections(doc: Document) -> tuple[list[tuple[int, int, int]], list[tuple[str, ...]]]:
    """(start, end, end of its heading) per section and the heading path of each (outermost first)."""
    bounds: list[tuple[int, int, int]] = []
    paths: list[tuple[str, ...]] = []
    stack: list[tuple[int, str]] = []
    first = doc.headings[0].start if doc.headings else len(doc.text)
    if first > 0:
        bounds.append((0, first, 0))
        paths.append(())
    for i, heading in enumerate(doc.headings):
        end = doc.headings[i + 1].start if i + 1 < len(doc.headings) else len(doc.text)
        while stack and stack[-1][0] >= heading.level:
            stack.pop()
        stack.append((heading.level, heading.title))
        bounds.append((heading.start, end, heading.end))
        paths.append(tuple(title for _, title in stack if title))
    return bounds, paths


def _paragraph_units(text: str, start: int, end: int, section: int, budget: int, overlap: float) -> list[_Unit]:
    """Paragraphs of text[start:end] (blank-line separated, trimmed); one over the budget becomes windows."""
    units: list[_Unit] = []
    position = start
    for match in [*_PARAGRAPH_BREAK.finditer(text, start, end), None]:
        stop = match.start() if match else end
        segment = text[position:stop]
        paragraph = segment.strip()
        if paragraph:
            a = position + len(segment) - len(segment.lstrip())
            b = a + len(paragraph)
            raw = estimate_tokens_raw(paragraph)
            if with_margin(raw) <= budget:
                units.append(_Unit(a, b, raw, section, False))
            else:
                for window in split_windows(paragraph, budget, overlap=overlap):
                    piece = text[a + window.start:a + window.end]
                    units.append(_Unit(a + window.start, a + window.end, estimate_tokens_raw(piece), section, False))
        if match:
            position = match.end()
    return units


def _pack(units: list[_Unit], budget: int, overlap: float) -> list[list[_Unit]]:
    """Greedy packing into groups of at most `budget` tokens; a new section starts a new group (unless the
    group so far is only headings); a new group repeats trailing paragraphs worth <= overlap * budget."""
    groups: list[list[_Unit]] = []
    group: list[_Unit] = []
    raw = 0
    carry_budget = int(budget * overlap)
    for unit in units:
        new_section = group and unit.section != group[-1].section and not all(u.heading for u in group)
        if group and (new_section or with_margin(raw + unit.raw) > budget):
            groups.append(group)
            carried: list[_Unit] = []
            if not new_section:
                carried_raw = 0
                for previous in reversed(group[1:]):
                    if previous.heading or carried_raw + previous.raw > carry_budget:
                        break
                    carried.insert(0, previous)
                    carried_raw += previous.raw
                if carried and with_margin(carried_raw + unit.raw) > budget:
                    carried = []
            group = carried
            raw = sum(u.raw for u in group)
        group.append(unit)
        raw += unit.raw
    if group:
        groups.append(group)
    return groups
