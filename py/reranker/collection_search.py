"""Find passages of a collection by the words they contain, so a person can mark relevant passages by hand.

Every passage containing every term (a "quoted phrase" is one term), case-, accent- and space-insensitive
(`Collection.find`), listed in collection order, never ranked: stage 1 is what is being judged, so the tool that
finds the passages it missed must not share its scoring. Each hit carries an excerpt around its first match and,
when a query ran, where stage 1 put it.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass

from .collection import Collection, Stage1
from .errors import InputError
from .limits import MAX_QUERY_CHARS
from .tokenize import fold

SHOWN = 50            # hits listed; the summary counts the rest
EXCERPT_CHARS = 240   # about three lines of the panel
_TERM = re.compile(r'"([^"]*)"?|(\S+)')


def search_terms(text: str) -> list[str]:
    """The terms of a search: "quoted phrases" and single words, folded, without repeats ([] when blank)."""
    terms: list[str] = []
    for match in _TERM.finditer(text):
        term = fold(" ".join((match.group(1) if match.group(1) is not None else match.group(2)).split()))
        if term and term not in terms:
            terms.append(term)
    return terms


def excerpt(text: str, term: str, width: int = EXCERPT_CHARS) -> str:
    """About `width` characters of `text` around the first match of the folded `term`, cut at spaces."""
    flat = " ".join(text.split())
    if len(flat) <= width:
        return flat
    at = flat.lower().find(term)
    if at < 0:  # accents differ: the folded text's offset is close enough for a window
        at = max(0, fold(flat).find(term))
    start = max(0, min(at - width // 3, len(flat) - width))
    end = start + width
    if start:
        start = flat.find(" ", start) + 1 or start
    if end < len(flat):
        space = flat.rfind(" ", start, end)
        end = space if space > start else end
    return ("\u2026" if start else "") + flat[start:end].strip() + ("\u2026" if end < len(flat) else "")


@dataclass(frozen=True, slots=True)
class Found:
    """The passages a search found: their ids (collection order) and the terms."""

    ids: list[int]
    terms: list[str]


def find_passages(collection: Collection, text: str) -> Found:
    """Ids of the passages containing every term of `text`; InputError when there is nothing to search."""
    if len(text) > MAX_QUERY_CHARS:
        raise InputError("search_too_long", f"Search for at most {MAX_QUERY_CHARS:,} characters.", "search")
    terms = search_terms(text)
    if not terms:
        raise InputError("search_empty", "Type a word or a \u201cquoted phrase\u201d to find passages.", "search")
    if not collection.ready or not collection.chunks:
        raise InputError("no_documents", "Add documents first: there is nothing to search yet.", "search")
    ids: list[int] | None = None
    for term in sorted(terms, key=len, reverse=True):  # the longest term first: usually the fewest hits
        hits = collection.find(term, limit=len(collection.chunks))
        found = set(hits)
        ids = hits if ids is None else [i for i in ids if i in found]
        if not ids:
            break
    return Found(ids or [], terms)


def where_in_stage1(rank: int | None, stage1: Stage1 | None) -> str:
    """Where the last stage 1 put a passage, as a phrase ("" before any query)."""
    if stage1 is None:
        return ""
    if rank is None:
        return "stage 1 never returns it for this query"
    if rank <= stage1.k:
        return f"stage 1 #{rank}: among the {stage1.k} candidates"
    return f"stage 1 #{rank}: not among the {stage1.k} candidates"


def found_json(collection: Collection, found: Found, stage1: Stage1 | None, shown: int = SHOWN) -> dict:
    """The page's payload: a summary sentence and the first `shown` hits {id, source, excerpt, rank, where}."""
    ranks: Mapping[int, tuple[int, float]] = stage1.rank_of() if stage1 is not None else {}
    items = []
    for i in found.ids[:shown]:
        chunk = collection.chunks[i]
        rank = ranks[i][0] if i in ranks else None
        items.append({"id": i, "source": chunk.source, "excerpt": excerpt(chunk.text, found.terms[0]),
                      "rank": rank, "where": where_in_stage1(rank, stage1)})
    n = len(found.ids)
    quoted = " ".join(f"\u201c{t}\u201d" for t in found.terms)
    if not n:
        summary = f"No passage contains {quoted}."
    else:
        summary = f"{n:,} passage{'s' if n != 1 else ''} contain{'s' if n == 1 else ''} {quoted}"
        summary += f"; the first {shown} are listed (add words to narrow it)." if n > shown else "."
    return {"summary": summary, "total": n, "items": items}
