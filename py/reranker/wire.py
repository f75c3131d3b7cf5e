"""The one JSON form of an update sent to the page (py/glue.py returns it; app/lane.js applies it).

View: {session, full, order, rows, scored, total, done, cutAfter, sunk, detail}
  session   id of the run; the page drops a view of an older run
  full      rows holds every passage (start, cancel, view) instead of only the touched ones (add, settings, relevance)
  order     every original index in display order, always complete
  rows      [row] in display order when full, else the passages whose own facts changed, by index
  scored, total, done   passages with a score, passages, all scored
  cutAfter  the top-k cut (null = none)
  sunk      how many scored passages are under the threshold
  detail    the `rerank:update` event's detail: {order, scored, total}
Row: {index, state, score, sunk, relevance, window}
  index 0-based original position; state "pending" | "scored"; score calibrated 0-1 or null; sunk true when
  scored under the threshold; relevance 0 | 1 | 2 | null; window {start, end} (characters of the winning window
  of a split passage) or null.
A row carries no text (the page keeps the texts from `start`) and nothing that follows from its place in `order`:
the view derives rank = position + 1 and change vs. the original = index - position, so a re-sort that shifts
1,000 rows sends only the few rows whose own facts changed.
"""

from .rows import Facts, Update


def row_json(facts: Facts) -> dict:
    """A row of the view: one passage's own facts, no text, no place."""
    window = facts.window
    return {"index": facts.index, "state": facts.state, "score": facts.score, "sunk": facts.sunk,
            "relevance": facts.relevance, "window": {"start": window.start, "end": window.end} if window else None}


def view_json(update: Update, full: bool) -> dict:
    """The view of an update: all rows when `full`, else only its `touched` rows (the order is always complete)."""
    facts = update.facts
    return {"session": update.session, "full": full, "order": list(update.order),
            "rows": [row_json(facts[i]) for i in (update.order if full else update.touched)],
            "scored": update.scored, "total": update.total, "done": update.done, "cutAfter": update.top_k,
            "sunk": update.sunk_count,
            "detail": {"order": list(update.order), "scored": update.scored, "total": update.total}}
