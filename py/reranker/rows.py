"""What a ranking session shows: a passage's own facts, a row (facts + place), and an update (every row at once).

A passage's `Facts` change only when that passage changes (scored, sunk, labelled, truncated); its place (rank,
move, in top-k) changes whenever another passage is re-placed. An `Update` stores facts and ranks and builds
`Row`s on demand, so one update costs the same for 2,000 passages as for 20.
"""

from dataclasses import dataclass, field

from .windows import Window


@dataclass(slots=True)
class Facts:
    """One passage's own display facts (never mutated; a change makes a new Facts)."""

    index: int                      # original 0-based position
    text: str
    state: str                      # "pending" | "scored"
    score: float | None             # calibrated 0-1
    raw: float | None               # model output before calibration (max over windows)
    sunk: bool                      # scored under the threshold
    relevance: int | None           # the user's label: 0, 1, 2 or None
    window: Window | None           # winning window when the passage was split, else None
    window_count: int
    duplicate_of: int | None
    truncated: bool                 # the real tokenizer reported the model saw a cut window


@dataclass(slots=True)
class Row(Facts):
    """One passage as shown: its facts plus its place. `rank` is 1-based; moves count + for up."""

    rank: int
    move: int                       # places moved since the previous update
    in_top_k: bool
    change_vs_original: int         # original position - current position


@dataclass(slots=True)
class Update:
    """Display state after one change: `order` (original indexes in display order), `ranks` and `facts` by index.

    `touched` lists the indexes whose own facts may have changed (what the page must redraw beyond the new order).
    `moves` and `changed` are derived from the two previous updates' ranks only when read.
    """

    session: str                    # id of the session this update belongs to
    order: list[int]
    ranks: list[int]
    facts: list[Facts]
    scored: int
    total: int
    done: bool
    cancelled: bool
    threshold: float | None
    top_k: int | None
    ignored: int                    # results whose key named no window of this session
    sunk_count: int
    touched: list[int]
    previous_ranks: list[int] = field(repr=False)   # ranks of the update before this one
    earlier_ranks: list[int] = field(repr=False)    # ranks of the update before that one
    marked: set[int] = field(repr=False)            # re-placed, re-flagged or crossing the cut in this update

    def row(self, index: int) -> Row:
        """Row of one original index."""
        f, rank = self.facts[index], self.ranks[index]
        return Row(f.index, f.text, f.state, f.score, f.raw, f.sunk, f.relevance, f.window, f.window_count,
                   f.duplicate_of, f.truncated, rank, self.previous_ranks[index] - rank,
                   self.top_k is not None and rank <= self.top_k, index + 1 - rank)

    @property
    def rows(self) -> list[Row]:
        """All rows in display order (builds n rows: per frame, send `touched` instead)."""
        return [self.row(p) for p in self.order]

    @property
    def moves(self) -> list[int]:
        """Places moved since the previous update, by original index (+ = up)."""
        return [before - now for before, now in zip(self.previous_ranks, self.ranks)]

    @property
    def changed(self) -> list[int]:
        """Indexes whose row differs from the previous update's: re-placed, re-flagged, or a move set or reset."""
        ranks, previous, earlier, marked = self.ranks, self.previous_ranks, self.earlier_ranks, self.marked
        return [p for p in range(len(ranks)) if ranks[p] != previous[p] or previous[p] != earlier[p] or p in marked]
