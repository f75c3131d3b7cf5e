"""Score cache keyed by (model, query, window text), bounded so long sessions keep memory flat."""

from collections import OrderedDict


class ScoreCache:
    """LRU map (model id, query, text) -> raw model output; share one across sessions to skip re-scoring."""

    def __init__(self, max_entries: int = 50_000) -> None:
        self.max_entries = max_entries
        self._data: OrderedDict[tuple[str, str, str], float] = OrderedDict()

    def get(self, model: str, query: str, text: str) -> float | None:
        """Cached raw score or None."""
        key = (model, query, text)
        value = self._data.get(key)
        if value is not None:
            self._data.move_to_end(key)
        return value

    def put(self, model: str, query: str, text: str, raw: float) -> None:
        """Store a raw score, evicting the least recently used entry past the bound."""
        key = (model, query, text)
        self._data[key] = raw
        self._data.move_to_end(key)
        while len(self._data) > self.max_entries:
            self._data.popitem(last=False)

    def clear(self) -> None:
        """Forget everything."""
        self._data.clear()

    def __len__(self) -> int:
        return len(self._data)
