"""A collection of documents for the Documents mode: read files, split and index them in slices, run stage 1.

Typical use from the page glue::

    col = Collection(budget=200, overlap=0.15)
    report = col.add_files([(name, data), ...])       # LoadReport: documents, a note per file, summary()
    while not col.work(max_ms=30).done: ...           # split + index in slices (yield to the page between)
    result = col.stage1(query, "bm25", k=50)          # Stage1: order (ids), scores, candidates (first K)
    col.chunks[i]                                     # Chunk: source, ordinal, span, heading path, text
"""

import hashlib
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from .bm25 import BM25Index
from .chunking import Chunk, check_budget, split_document
from .documents import Document, DocumentReader, FileNote, LoadReport, skip_counts, skip_reasons
from .errors import InputError
from .limits import DEFAULT_PASSAGE_OVERLAP, DEFAULT_PASSAGE_TOKENS, MAX_COLLECTION_PASSAGES
from .parse import normalize_query
from .retrieval import check_candidates, check_retriever, rrf
from .tokenize import fold


@dataclass(frozen=True, slots=True)
class Progress:
    """Splitting + indexing progress: documents done of total, passages so far, documents left unsplit."""

    documents_done: int
    documents_total: int
    passages: int
    over_limit: int
    done: bool
    ms: float

    def to_dict(self) -> dict:
        """JSON-able form."""
        return {"documentsDone": self.documents_done, "documentsTotal": self.documents_total,
                "passages": self.passages, "overLimit": self.over_limit, "done": self.done, "ms": self.ms}


@dataclass(frozen=True, slots=True)
class Stage1:
    """Stage 1 of one query: the full order it produced (ids, best first) with scores, and its first K."""

    retriever: str
    order: list[int]
    scores: list[float]
    k: int
    ms: float

    @property
    def candidates(self) -> list[int]:
        """The ids that go to the reranker."""
        return self.order[:self.k]

    def rank_of(self) -> dict[int, tuple[int, float]]:
        """id -> (stage-1 rank from 1, stage-1 score)."""
        return {doc_id: (rank, score) for rank, (doc_id, score) in enumerate(zip(self.order, self.scores), 1)}

    def to_dict(self) -> dict:
        """The `rerank:stage1` payload: {order, k, retriever, ms} plus the candidates' scores."""
        return {"order": self.order[:self.k], "k": self.k, "retriever": self.retriever, "ms": self.ms,
                "scores": self.scores[:self.k], "matched": len(self.order)}


def content_key(text: str) -> str:
    """sha256 of the UTF-8 text, hex: the same passage text has the same key in every collection."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Collection:
    """Documents, their passages (`chunks`, id = position) and a BM25 index over every passage."""

    def __init__(self, budget: int = DEFAULT_PASSAGE_TOKENS, overlap: float = DEFAULT_PASSAGE_OVERLAP,
                 k1: float = 1.2, b: float = 0.75) -> None:
        check_budget(budget, overlap)
        self.budget, self.overlap = budget, overlap
        self.k1, self.b = k1, b
        self.reader = DocumentReader()
        self.documents: list[Document] = []
        self.notes: list[FileNote] = []
        self.duplicates = 0
        self._skips: dict[str, int] = {}  # skip reasons of notes[:_skips_upto], counted once (notes only grow)
        self._skips_upto = 0
        self._reset_passages()

    def _reset_passages(self) -> None:
        """Forget passages and index (documents stay); the next `work` splits from the first document."""
        self.chunks: list[Chunk] = []
        self.index = BM25Index(self.k1, self.b)
        self._split_upto = 0
        self.over_limit = 0
        self._folded: list[str] | None = None

    def add_files(self, files: Iterable[tuple[str, bytes]], text_field: str | None = None) -> LoadReport:
        """Read files into documents (not yet split): a note per file; skipped files change nothing."""
        report = self.reader.read_files(files, text_field)
        self._take(report)
        return report

    def add_text(self, text: str, name: str = "pasted text") -> LoadReport:
        """A pasted text as one more document."""
        report = self.reader.read_text(text, name)
        self._take(report)
        return report

    def _take(self, report: LoadReport) -> None:
        """Keep a report's documents and notes."""
        self.documents.extend(report.documents)
        self.notes.extend(report.notes)
        self.duplicates += report.duplicates

    def set_budget(self, budget: int, overlap: float | None = None) -> None:
        """A new passage budget: passages and index are rebuilt by the next `work` calls."""
        overlap = self.overlap if overlap is None else overlap
        check_budget(budget, overlap)
        if (budget, overlap) != (self.budget, self.overlap):
            self.budget, self.overlap = budget, overlap
            self._reset_passages()

    @property
    def ready(self) -> bool:
        """True when every document is split and indexed."""
        return self._split_upto >= len(self.documents)

    def work(self, max_ms: float | None = 30.0, max_documents: int | None = None) -> Progress:
        """Split and index documents until `max_ms` has passed or `max_documents` were done (None = no limit)."""
        started = time.perf_counter()
        deadline = None if max_ms is None else started + max_ms / 1000
        done_here = 0
        while self._split_upto < len(self.documents):
            doc = self.documents[self._split_upto]
            self._split_upto += 1
            done_here += 1
            chunks = split_document(doc, self.budget, self.overlap, len(self.chunks))
            if len(self.chunks) + len(chunks) > MAX_COLLECTION_PASSAGES:
                self.over_limit += 1
            else:
                self.chunks.extend(chunks)
                self.index.add([chunk.text for chunk in chunks])
                self._folded = None
            if (max_documents is not None and done_here >= max_documents) or (
                    deadline is not None and time.perf_counter() >= deadline):
                break
        return self.progress((time.perf_counter() - started) * 1000)

    def build(self) -> Progress:
        """Split and index everything that is left, in one go."""
        return self.work(max_ms=None)

    def progress(self, ms: float = 0.0) -> Progress:
        """Where splitting and indexing stand."""
        return Progress(self._split_upto, len(self.documents), len(self.chunks), self.over_limit, self.ready, ms)

    def search(self, query: str, limit: int | None = None) -> list[tuple[int, float]]:
        """BM25 (id, score) of the passages matching the query, best first."""
        return self.index.search(normalize_query(query), limit)

    def stage1(self, query: str, retriever: str = "bm25", k: int = 50,
               vectors: Sequence[tuple[int, float]] | None = None) -> Stage1:
        """Stage 1: BM25, the vector order computed elsewhere ((id, similarity) best first), or their fusion."""
        started = time.perf_counter()
        check_retriever(retriever)
        check_candidates(k)
        if not self.ready:
            raise InputError("not_indexed", "The collection is still being indexed; search once it is ready.",
                             "documents")
        if not self.chunks:
            raise InputError("no_documents", "Add documents first: the collection has no passages.", "documents")
        if retriever != "bm25" and vectors is None:
            raise InputError("no_vectors", "The passages have no vectors yet; wait for vector indexing or use BM25.",
                             "retriever")
        if retriever == "vectors":
            ranked = list(vectors or [])
        else:
            ranked = self.search(query)
            if retriever == "hybrid":
                ranked = rrf([[i for i, _ in ranked], [i for i, _ in vectors or []]])
        ms = (time.perf_counter() - started) * 1000
        return Stage1(retriever, [i for i, _ in ranked], [s for _, s in ranked], k, ms)

    def keys(self, first: int = 0, count: int | None = None) -> list[str]:
        """Content keys of passages [first, first + count): sha256 of the text (hex), for a vector cache that
        survives reloads and re-splits (an unchanged passage keeps its key)."""
        stop = len(self.chunks) if count is None else min(len(self.chunks), first + count)
        return [content_key(chunk.text) for chunk in self.chunks[first:stop]]

    def find(self, text: str, limit: int = 200) -> list[int]:
        """Ids of passages containing `text` (case- and accent-folded), for marking relevant passages."""
        needle = fold(" ".join(text.split()))
        if not needle:
            return []
        if self._folded is None:
            self._folded = [fold(" ".join(chunk.text.split())) for chunk in self.chunks]
        return [i for i, folded in enumerate(self._folded) if needle in folded][:limit]

    def resolve(self, relevant: Iterable[Mapping[str, str]]) -> list[int]:
        """Ids of the passages a label names: each {source, anchor} marks every passage of that file containing
        the anchor text (labels of the demo collection survive a change of budget this way)."""
        ids: list[int] = []
        for label in relevant:
            source = label.get("source", "")
            ids.extend(i for i in self.find(label.get("anchor", ""), limit=len(self.chunks))
                       if not source or self.chunks[i].source == source)
        return sorted(set(ids))

    def status(self, notes: bool = True) -> dict:
        """Counts for `#documents-status`: files, documents, passages, duplicates, skipped notes (only their number
        when `notes` is False: a 20,000-file drop has 15,000), and a sentence."""
        skip_counts(self.notes[self._skips_upto:], self._skips)
        self._skips_upto = len(self.notes)
        skipped: list[dict] | int = sum(self._skips.values()) + self.duplicates
        if notes:
            skipped = [note.to_dict() for note in self.notes if note.skipped]
        files = self.reader.files
        text = f"{files:,} file{'s' if files != 1 else ''}, {len(self.chunks):,} passage" \
               f"{'s' if len(self.chunks) != 1 else ''}"
        if self.duplicates:
            text += f"; {self.duplicates:,} duplicate{'s' if self.duplicates != 1 else ''} left out"
        reasons = skip_reasons((), self._skips)
        if reasons:
            text += "; " + reasons
        if self.over_limit:
            text += (f"; {self.over_limit:,} document{'s' if self.over_limit != 1 else ''} not split (the limit is "
                     f"{MAX_COLLECTION_PASSAGES:,} passages)")
        return {"files": files, "documents": len(self.documents), "passages": len(self.chunks),
                "duplicates": self.duplicates, "skipped": skipped, "overLimit": self.over_limit,
                "ready": self.ready, "budget": self.budget, "overlap": self.overlap, "summary": text + "."}
