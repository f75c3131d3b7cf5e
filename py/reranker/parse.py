"""Turn pasted text into passages: lines, paragraphs or JSON; markers stripped; duplicates flagged."""

import json
import re
from dataclasses import dataclass, field

from .errors import InputError
from .limits import MAX_PASSAGE_CHARS, MAX_PASSAGES, MAX_QUERY_CHARS, MAX_TOTAL_CHARS
from .text import collapse_whitespace, normalize_newlines, remove_control_chars

MODES = ("auto", "lines", "paragraphs", "json")

_NUMBERED = re.compile(r"^(?:\(\d{1,4}\)|\[\d{1,4}\]|\d{1,4}[.)]|#\d{1,4}[.):]?)[ \t]+")
_BULLET = re.compile(r"^[-*+\u2022\u00b7\u2023\u25e6\u2043\u2013\u2014][ \t]+")
_BLANK_LINE = re.compile(r"\n[ \t\u00a0]*\n")


@dataclass(frozen=True, slots=True)
class Passage:
    """One passage: `index` is its 0-based original position; `source` says where it came from."""

    index: int
    text: str
    source: str = ""
    relevance: int | None = None
    duplicate_of: int | None = None

    def to_dict(self) -> dict:
        """JSON-able form."""
        return {"index": self.index, "text": self.text, "source": self.source,
                "relevance": self.relevance, "duplicate_of": self.duplicate_of}


@dataclass(frozen=True, slots=True)
class Notice:
    """A non-fatal remark about the input (control characters removed, duplicates, one passage...)."""

    code: str
    message: str

    def to_dict(self) -> dict:
        """JSON-able form."""
        return {"code": self.code, "message": self.message}


@dataclass(frozen=True, slots=True)
class ParseResult:
    """Parsed passages, the mode actually used, notices, and a query if the JSON carried one."""

    passages: list[Passage]
    mode: str
    notices: list[Notice] = field(default_factory=list)
    query: str | None = None

    @property
    def texts(self) -> list[str]:
        """Passage texts in original order."""
        return [p.text for p in self.passages]

    @property
    def relevance(self) -> list[int | None]:
        """Labels in original order (None = unlabelled)."""
        return [p.relevance for p in self.passages]

    def to_dict(self) -> dict:
        """JSON-able form."""
        return {"passages": [p.to_dict() for p in self.passages], "mode": self.mode,
                "notices": [n.to_dict() for n in self.notices], "query": self.query}


def clean_query(query: str) -> str:
    """The query as a run uses it: newlines normalised, control characters dropped, whitespace collapsed."""
    cleaned, _ = remove_control_chars(normalize_newlines(query or ""))
    return collapse_whitespace(cleaned)


def normalize_query(query: str) -> str:
    """`clean_query`, then raise InputError if nothing usable remains or it is too long."""
    cleaned = clean_query(query)
    if not cleaned:
        raise InputError("query_empty", "Type a query: the passages are ranked by how well they answer it.", "query")
    if len(cleaned) > MAX_QUERY_CHARS:
        raise InputError("query_too_long",
                         f"The query is {len(cleaned):,} characters long; the limit is {MAX_QUERY_CHARS:,}. "
                         "Shorten it to the question itself.", "query")
    return cleaned


def parse_passages(text: str, mode: str = "auto") -> ParseResult:
    """Parse pasted passages. `mode`: auto (JSON if it parses as such, else lines) | lines | paragraphs | json.

    Raises InputError with a specific message; notices carry non-fatal remarks."""
    if mode not in MODES:
        raise InputError("bad_mode", f"Unknown passage format '{mode}'; use one of {', '.join(MODES)}.", "passages")
    text = text or ""
    if len(text) > MAX_TOTAL_CHARS:
        raise InputError("total_too_long",
                         f"The passages are {len(text):,} characters in total; the limit is {MAX_TOTAL_CHARS:,}. "
                         "Paste fewer or shorter passages.", "passages")
    text = normalize_newlines(text)
    notices: list[Notice] = []
    query: str | None = None
    if mode in ("auto", "json"):
        parsed = _try_json(text, strict=(mode == "json"), notices=notices)
        if parsed is not None:
            raw, query = parsed
            return _finish(raw, "json", notices, query, strip_markers=False)
        if mode == "auto" and _looks_like_paragraphs(text):
            notices.append(Notice("looks_like_paragraphs", "Blank lines separate blocks of several lines: "
                                  "switch to paragraphs to keep each block as one passage."))
        mode = "lines" if mode == "auto" else mode
    raw = _split_paragraphs(text) if mode == "paragraphs" else _split_lines(text)
    return _finish(raw, mode, notices, query, strip_markers=True)


# --- splitting --------------------------------------------------------------------------------------

_Raw = tuple[str, str, int | None]  # (text, source, relevance)


def _split_lines(text: str) -> list[_Raw]:
    """One passage per non-empty line; source is the 1-based line number."""
    return [(line, f"line {number}", None) for number, line in enumerate(text.split("\n"), start=1)]


def _split_paragraphs(text: str) -> list[_Raw]:
    """Blank-line separated blocks; source is the block's first line number."""
    out: list[_Raw] = []
    position = 0
    for match in list(_BLANK_LINE.finditer(text)) + [None]:
        end = match.start() if match else len(text)
        block = text[position:end]
        stripped_lead = len(block) - len(block.lstrip())
        line = text.count("\n", 0, position + stripped_lead) + 1
        out.append((block, f"line {line}", None))
        if match:
            position = match.end()
    return out


def _looks_like_paragraphs(text: str) -> bool:
    """True when blank lines separate blocks and at least one block has several lines (a hint only: auto
    mode stays one passage per line, the predictable default; the page offers the paragraphs toggle)."""
    blocks = [b.strip() for b in _BLANK_LINE.split(text) if b.strip()]
    return len(blocks) >= 2 and any("\n" in b for b in blocks)


def _try_json(text: str, strict: bool, notices: list[Notice]) -> tuple[list[_Raw], str | None] | None:
    """Parse a JSON array (or an exported {query, passages} object); None if auto mode and not JSON."""
    stripped = text.strip()
    if not stripped.startswith(("[", "{")):
        if strict:
            raise InputError("json_not_array", "JSON mode expects an array such as [\"first passage\", ...].",
                             "passages")
        return None
    try:
        data = json.loads(stripped)
    except (ValueError, RecursionError) as exc:
        where = f" (line {exc.lineno}, column {exc.colno})" if isinstance(exc, json.JSONDecodeError) else ""
        if strict:
            raise InputError("json_invalid", f"The passages are not valid JSON{where}: {_reason(exc)}.",
                             "passages") from None
        if stripped.startswith("[") and stripped.endswith("]") and "\n" not in stripped:
            notices.append(Notice("json_ignored", f"This looks like JSON but is not valid{where}; "
                                                  "each line is treated as a passage."))
        return None
    query = None
    if isinstance(data, dict):
        if not isinstance(data.get("passages"), list):
            if strict:
                raise InputError("json_not_array", "The JSON must be an array of passages, or an object with a "
                                 "\"passages\" array.", "passages")
            return None
        query = data.get("query") if isinstance(data.get("query"), str) else None
        data = data["passages"]
    if not isinstance(data, list):
        if strict:
            raise InputError("json_not_array", "The JSON must be an array of passages.", "passages")
        return None
    return _json_items(data), query


def _reason(exc: Exception) -> str:
    """Short reason text from a JSON error."""
    return exc.msg if isinstance(exc, json.JSONDecodeError) else "it is nested too deeply"


def _json_items(data: list) -> list[_Raw]:
    """Validate items: strings or {text, relevance|relevant, position?}; order by `position` when all have one."""
    items: list[tuple[str, str, int | None]] = []
    positions: list[int | None] = []
    for number, item in enumerate(data, start=1):
        source = f"item {number}"
        if isinstance(item, str):
            items.append((item, source, None))
            positions.append(None)
            continue
        if not isinstance(item, dict):
            raise InputError("json_item_type", f"Item {number} of the JSON array is neither a string nor an "
                             "object with a \"text\" field.", "passages")
        if not isinstance(item.get("text"), str):
            raise InputError("json_item_text", f"Item {number} of the JSON array has no \"text\" string.",
                             "passages")
        items.append((item["text"], source, _label(item, number)))
        position = item.get("position")
        positions.append(position if isinstance(position, int) and not isinstance(position, bool) else None)
    if items and all(p is not None for p in positions) and len(set(positions)) == len(positions):
        order = sorted(range(len(items)), key=lambda i: positions[i])
        items = [items[i] for i in order]
    return items


def _label(item: dict, number: int) -> int | None:
    """Read `relevance` (0, 1 or 2) or `relevant` (true/false) from a JSON object."""
    if "relevance" in item and item["relevance"] is not None:
        value = item["relevance"]
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, (int, float)) and value == int(value) and 0 <= value <= 2:
            return int(value)
        raise InputError("json_relevance", f"Item {number}: \"relevance\" must be 0, 1 or 2 "
                         f"(got {json.dumps(value)[:40]}).", "passages")
    if "relevant" in item and item["relevant"] is not None:
        value = item["relevant"]
        if isinstance(value, bool) or value in (0, 1):
            return int(value)
        raise InputError("json_relevance", f"Item {number}: \"relevant\" must be true or false "
                         f"(got {json.dumps(value)[:40]}).", "passages")
    return None


# --- cleaning, limits, duplicates ---------------------------------------------------------------------

def _finish(raw: list[_Raw], mode: str, notices: list[Notice], query: str | None,
            strip_markers: bool) -> ParseResult:
    """Clean, trim, drop empties, strip markers, enforce limits and flag duplicates."""
    cleaned: list[_Raw] = []
    control_removed = 0
    control_first = ""
    for text, source, relevance in raw:
        text, removed = remove_control_chars(text)
        if removed:
            control_removed += removed
            control_first = control_first or source
        text = text.strip()
        if text:
            cleaned.append((text, source, relevance))
    if control_removed:
        notices.append(Notice("control_chars", f"Removed {control_removed:,} invisible control character"
                              f"{'s' if control_removed != 1 else ''} (such as NUL), first at {control_first}."))
    if strip_markers:
        cleaned = _strip_markers(cleaned)
    if not cleaned:
        raise InputError("no_passages", "Paste at least one passage (one per line, blank-line separated "
                         "paragraphs, or a JSON array).", "passages")
    if len(cleaned) > MAX_PASSAGES:
        raise InputError("too_many_passages", f"There are {len(cleaned):,} passages; the limit is "
                         f"{MAX_PASSAGES:,}. Remove {len(cleaned) - MAX_PASSAGES:,} or split them into "
                         "several runs.", "passages")
    for number, (text, source, _) in enumerate(cleaned, start=1):
        if len(text) > MAX_PASSAGE_CHARS:
            raise InputError("passage_too_long", f"Passage {number} ({source}) is {len(text):,} characters "
                             f"long; the limit is {MAX_PASSAGE_CHARS:,}. Split it into smaller passages.",
                             "passages")
    passages = _with_duplicates(cleaned, notices)
    if len(passages) == 1:
        notices.append(Notice("single_passage", "Only one passage: there is nothing to reorder. "
                              "Add at least one more to compare."))
    return ParseResult(passages, mode, notices, query)


def _strip_markers(items: list[_Raw]) -> list[_Raw]:
    """Strip list markers when at least half the passages (and two or more) carry the same kind."""
    for pattern in (_NUMBERED, _BULLET):
        hits = sum(1 for text, _, _ in items if pattern.match(text))
        if hits >= 2 and hits * 2 >= len(items):
            stripped = []
            for text, source, relevance in items:
                rest = pattern.sub("", text, count=1).strip()
                stripped.append((rest or text, source, relevance))
            items = stripped
    return items


def _with_duplicates(items: list[_Raw], notices: list[Notice]) -> list[Passage]:
    """Build passages; an exact repeat points at its first occurrence via `duplicate_of`."""
    first_seen: dict[str, int] = {}
    passages: list[Passage] = []
    duplicates = 0
    example = ""
    for index, (text, source, relevance) in enumerate(items):
        original = first_seen.setdefault(text, index)
        duplicate_of = original if original != index else None
        if duplicate_of is not None:
            duplicates += 1
            example = example or f"passage {index + 1} repeats passage {original + 1}"
        passages.append(Passage(index, text, source, relevance, duplicate_of))
    if duplicates:
        notices.append(Notice("duplicates", f"{duplicates:,} passage{'s are' if duplicates != 1 else ' is'} an "
                              f"exact duplicate of an earlier one ({example}); duplicates share one score."))
    return passages
