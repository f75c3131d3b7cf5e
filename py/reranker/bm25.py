"""Okapi BM25: scores over pasted passages (the lexical baseline column) and an inverted index for collections."""

import heapq
import math
import re
import unicodedata
from array import array
from collections import Counter, defaultdict
from collections.abc import Sequence
from functools import lru_cache, partial
from operator import itemgetter

from .tokenize import _CJK, fold, tokenize


@lru_cache(maxsize=4096)  # twice the passage limit: a new query re-scores the same passages without re-tokenizing
def term_counts(text: str) -> Counter[str]:
    """Term frequencies of one passage (shared by every query: read it, never change it)."""
    return Counter(tokenize(text))


def bm25_scores(query: str, texts: Sequence[str], k1: float = 1.2, b: float = 0.75) -> list[float]:
    """Okapi BM25 score of each text for the query; idf = ln(1 + (N - df + 0.5) / (df + 0.5)), never negative.

    Each distinct query term counts once (a repeated word in the query does not double its weight).
    """
    if k1 < 0 or not 0 <= b <= 1:
        raise ValueError(f"BM25 needs k1 >= 0 and 0 <= b <= 1 (got k1={k1}, b={b}).")
    docs = [term_counts(text) for text in texts]
    lengths = [sum(doc.values()) for doc in docs]
    n_docs = len(docs)
    if n_docs == 0:
        return []
    avg_length = sum(lengths) / n_docs or 1.0
    terms = list(dict.fromkeys(tokenize(query)))
    df = {term: sum(1 for doc in docs if term in doc) for term in terms}
    idf = {term: math.log(1 + (n_docs - df[term] + 0.5) / (df[term] + 0.5)) for term in terms}
    scores: list[float] = []
    for doc, length in zip(docs, lengths):
        norm = k1 * (1 - b + b * length / avg_length)
        score = 0.0
        for term in terms:
            tf = doc.get(term, 0)
            if tf:
                score += idf[term] * tf * (k1 + 1) / (tf + norm)
        scores.append(score)
    return scores


def order_by_scores(scores: Sequence[float]) -> list[int]:
    """Indexes sorted by descending score; ties keep the original order."""
    return sorted(range(len(scores)), key=lambda i: (-scores[i], i))


def bm25_order(query: str, texts: Sequence[str], k1: float = 1.2, b: float = 0.75) -> list[int]:
    """Original indexes in BM25 order (best first, ties by original position)."""
    return order_by_scores(bm25_scores(query, texts, k1, b))


_TF_BITS = 20  # a posting packs (passage id << 20) | term frequency into one int of an array('q')
_TF_MASK = (1 << _TF_BITS) - 1
_ASCII_TERMS = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)+|[a-z0-9]+(?:_+[a-z0-9]+)*")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_CJK_CHAR = re.compile(f"[{_CJK}]")


def index_terms(text: str) -> list[str]:
    """`tokenize(text)`, with a single findall when the folded text is ASCII but for punctuation and spaces.

    For such text tokenize's word, number and symbol rules reduce to this one pattern (no CJK, no So symbol,
    non-ASCII punctuation splits words like ASCII punctuation); anything else takes tokenize itself, so the
    terms are always identical.
    """
    folded = fold(text)
    if not folded.isascii() and not _punctuation_only(folded):
        return tokenize(text)
    terms = _ASCII_TERMS.findall(folded)
    if "," in folded:
        terms = [term.replace(",", "") for term in terms]
    if "_" in folded:  # a snake_case identifier, then its parts (as tokenize yields them)
        terms = [piece for term in terms for piece in ([term, *filter(None, term.split("_"))] if "_" in term
                                                         else (term,))]
    return terms


def _punctuation_only(folded: str) -> bool:
    """True when every non-ASCII character is punctuation or a space outside the CJK ranges (curly quotes,
    dashes, no-break spaces): tokenize drops those."""
    return all(unicodedata.category(ch)[0] in "PZ" and not _CJK_CHAR.match(ch)
               for ch in set(_NON_ASCII.findall(folded)))


class BM25Index:
    """An inverted index (term -> postings of passage id and term frequency) built once, queried many times.

    `add` can be called repeatedly with slices of the collection (ids continue from the last one), so a page
    can index in short tasks. Scores equal `bm25_scores` over the same texts (a term frequency is capped at
    about a million, far beyond any passage).
    """

    def __init__(self, k1: float = 1.2, b: float = 0.75) -> None:
        if k1 < 0 or not 0 <= b <= 1:
            raise ValueError(f"BM25 needs k1 >= 0 and 0 <= b <= 1 (got k1={k1}, b={b}).")
        self.k1, self.b = k1, b
        self.postings: defaultdict[str, array] = defaultdict(partial(array, "q"))
        self.lengths: list[int] = []
        self._total_length = 0
        self._norms: list[float] | None = None

    def __len__(self) -> int:
        return len(self.lengths)

    def add(self, texts: Sequence[str]) -> range:
        """Index more passages; returns their ids."""
        first = len(self.lengths)
        postings = self.postings
        for doc_id, text in enumerate(texts, first):
            terms = index_terms(text)
            counts = Counter(terms)
            length = len(terms)
            base = doc_id << _TF_BITS
            if length <= _TF_MASK:  # no frequency can reach the cap: the common, faster loop
                for term, tf in counts.items():
                    postings[term].append(base | tf)
            else:
                for term, tf in counts.items():
                    postings[term].append(base | min(tf, _TF_MASK))
            self.lengths.append(length)
            self._total_length += length
        self._norms = None
        return range(first, len(self.lengths))

    def _length_norms(self) -> list[float]:
        """k1 * (1 - b + b * length / average length) per passage, recomputed after an `add`."""
        if self._norms is None:
            n_docs = len(self.lengths)
            avg = (self._total_length / n_docs if n_docs else 0.0) or 1.0
            k1, b = self.k1, self.b
            self._norms = [k1 * (1 - b + b * length / avg) for length in self.lengths]
        return self._norms

    def scores(self, query: str) -> dict[int, float]:
        """BM25 score of every passage sharing a term with the query (absent ids score 0)."""
        n_docs = len(self.lengths)
        norms = self._length_norms()
        k1_plus = self.k1 + 1
        totals: dict[int, float] = {}
        get = totals.get
        for term in dict.fromkeys(tokenize(query)):
            entry = self.postings.get(term)
            if entry is None:
                continue
            idf = math.log(1 + (n_docs - len(entry) + 0.5) / (len(entry) + 0.5))
            for posting in entry:
                doc_id, tf = posting >> _TF_BITS, posting & _TF_MASK
                totals[doc_id] = get(doc_id, 0.0) + idf * tf * k1_plus / (tf + norms[doc_id])
        return totals

    def search(self, query: str, limit: int | None = None) -> list[tuple[int, float]]:
        """(id, score) of the passages matching the query, best first (ties by id), at most `limit`."""
        totals = self.scores(query)
        if limit is None or limit >= len(totals):
            ranked = sorted(totals.items())  # by id, then a stable sort by score: no Python key per item
            ranked.sort(key=itemgetter(1), reverse=True)
            return ranked
        return heapq.nsmallest(limit, totals.items(), key=lambda item: (-item[1], item[0]))
