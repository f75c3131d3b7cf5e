"""Documents mode: splitting into passages, the BM25 inverted index, fusion and the funnel (issue 24)."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reranker.bm25 import BM25Index, bm25_scores, index_terms
from reranker.chunking import check_budget, split_document
from reranker.documents import Document, DocumentReader
from reranker.errors import InputError
from reranker.limits import MAX_CANDIDATES, MAX_PASSAGE_TOKENS, MIN_CANDIDATES, MIN_PASSAGE_TOKENS
from reranker.retrieval import check_candidates, check_retriever, funnel, rrf, top_ids
from reranker.tokenize import estimate_tokens, tokenize

words = st.sampled_from("alpha beta gamma delta kernel package débian 2,000 3.11 max_length 東京 🙂 the a".split())
texts = st.lists(words, min_size=0, max_size=30).map(" ".join)


def doc_of(name, text):
    """The first document a reader makes of one file."""
    return DocumentReader().read_files([(name, text.encode())]).documents[0]


def test_short_document_is_one_passage_with_its_span():
    doc = doc_of("a.txt", "One paragraph.\n\nAnother paragraph.")
    (chunk,) = split_document(doc, 200, 0.15)
    assert (chunk.start, chunk.end, chunk.text, chunk.ordinal, chunk.headings) == (0, len(doc.text), doc.text, 0, ())
    assert chunk.source == "a.txt" and chunk.tokens == estimate_tokens(doc.text)


def test_passages_never_cross_a_heading_and_keep_the_heading_path():
    text = "# Guide\n\nIntro text.\n\n## Install\n\nRun it.\n\n### Debian\n\nUse apt.\n\n## Remove\n\nDelete it."
    chunks = split_document(doc_of("g.md", text), 200, 0.15)
    assert [c.headings for c in chunks] == [("Guide",), ("Guide", "Install"), ("Guide", "Install", "Debian"),
                                            ("Guide", "Remove")]
    assert chunks[1].text == "## Install\n\nRun it." and chunks[3].text == "## Remove\n\nDelete it."
    assert [c.ordinal for c in chunks] == [0, 1, 2, 3]


def test_a_section_with_only_its_heading_joins_the_next():
    chunks = split_document(doc_of("g.md", "# Chapter\n\n## Question\n\nAnswer."), 200, 0.15)
    assert len(chunks) == 1 and chunks[0].headings == ("Chapter", "Question") and chunks[0].text.startswith("# Chapter")


def test_html_headings_split_too():
    chunks = split_document(doc_of("p.html", "<h1>A</h1><p>one</p><h2>B</h2><p>two</p>"), 200, 0.15)
    assert [(c.headings, c.text) for c in chunks] == [(("A",), "A\n\none"), (("A", "B"), "B\n\ntwo")]


def test_paragraphs_are_packed_to_the_budget_with_overlap():
    paragraphs = [f"Paragraph {i} " + "word " * 5 for i in range(30)]
    doc = doc_of("p.txt", "\n\n".join(p.strip() for p in paragraphs))
    chunks = split_document(doc, 100, 0.3)
    assert len(chunks) > 2 and all(c.tokens <= 100 for c in chunks)
    for before, after in zip(chunks, chunks[1:]):
        assert after.start < before.end  # the next passage repeats the last paragraph of the one before
        assert doc.text[after.start:after.end] == after.text
    no_overlap = split_document(doc, 100, 0.0)
    assert all(a.end <= b.start for a, b in zip(no_overlap, no_overlap[1:]))


def test_a_paragraph_over_the_budget_is_windowed():
    doc = doc_of("long.txt", "word " * 2000)
    chunks = split_document(doc, 64, 0.25)
    assert len(chunks) > 10 and all(c.tokens <= 64 for c in chunks)
    assert all(b.start < a.end for a, b in zip(chunks, chunks[1:]))  # windows overlap
    assert chunks[0].start == 0 and chunks[-1].end == len(doc.text.rstrip())


def test_an_over_long_heading_is_split_like_a_paragraph():
    doc = doc_of("h.md", "# " + "title " * 300 + "\n\nbody")
    assert all(c.tokens <= 64 for c in split_document(doc, 64, 0.1))


def test_ids_continue_from_first_id_and_record_is_kept():
    doc = Document(3, "r.csv", "alpha\n\nbeta", "record", record="row 4")
    chunks = split_document(doc, 200, 0.1, first_id=10)
    assert [(c.id, c.doc, c.record) for c in chunks] == [(10, 3, "row 4")]
    assert chunks[0].to_dict()["record"] == "row 4"


@pytest.mark.parametrize("budget,overlap", [(MIN_PASSAGE_TOKENS - 1, 0.1), (MAX_PASSAGE_TOKENS + 1, 0.1),
                                            (200, -0.1), (200, 0.9), (200.5, 0.1)])
def test_bad_budget_or_overlap(budget, overlap):
    with pytest.raises(InputError) as info:
        check_budget(budget, overlap)
    assert info.value.field == "budget"


@given(st.lists(st.one_of(texts, st.sampled_from(["# Head", "## Sub", "", "```", "#"])), max_size=25),
       st.integers(MIN_PASSAGE_TOKENS, 120), st.sampled_from([0.0, 0.15, 0.5]))
@settings(max_examples=150, deadline=None)
def test_split_properties(lines, budget, overlap):
    text = "\n\n".join(lines).strip() or "x"
    doc = Document(0, "p.md", text, "markdown", tuple(DocumentReader()._documents("p.md", text, "markdown", None)[0][0]
                                                      .headings))
    chunks = split_document(doc, budget, overlap)
    covered = set()
    for chunk in chunks:
        assert chunk.text == text[chunk.start:chunk.end] and chunk.text.strip() == chunk.text and chunk.text
        assert chunk.tokens <= budget or len(chunk.text.split()) == 1  # one unsplittable piece may exceed
        covered.update(range(chunk.start, chunk.end))
    assert all(i in covered for i, ch in enumerate(text) if not ch.isspace())  # every visible character kept
    assert [c.start for c in chunks] == sorted(c.start for c in chunks)


# --- BM25 index ---------------------------------------------------------------------------------------

@given(st.lists(texts, min_size=1, max_size=15), texts, st.integers(1, 5))
@settings(max_examples=150, deadline=None)
def test_index_scores_equal_bm25_scores_in_any_slicing(corpus, query, slices):
    index = BM25Index()
    step = max(1, len(corpus) // slices)
    for start in range(0, len(corpus), step):
        assert list(index.add(corpus[start:start + step])) == list(range(start, min(len(corpus), start + step)))
    expected = bm25_scores(query, corpus)
    got = index.scores(query)
    assert all(math.isclose(expected[i], got.get(i, 0.0), rel_tol=0, abs_tol=0) for i in range(len(corpus)))
    ranked = index.search(query)
    assert [i for i, _ in ranked] == sorted(got, key=lambda i: (-got[i], i))
    assert index.search(query, 3) == ranked[:3]


@given(st.text(max_size=200))
@settings(max_examples=300, deadline=None)
def test_index_terms_equal_tokenize(text):
    assert index_terms(text) == tokenize(text)


# Text that is ASCII after folding but for punctuation and spaces takes index_terms' shortcut; CJK punctuation,
# So symbols, other scripts and digits must not.
mixed = st.lists(st.sampled_from(["word", "Max_Length", "__init__", "a__b_", "2,000", "3.11", "v1.2.3", "x_1,000",
                                  "\u201cquoted\u201d", "\u2014", "\u00a0", "\u2028", "\u30fb", "\u30a0", "\u3001",
                                  "\u00bf", "\u2603", "\u00b2", "\u0663", "\u00e9t\u00e9", "\u00df", "\u0301", "_", ",",
                                  " ", "\n", "-", "\u200d", "\u20ac", "\u00d7"]), max_size=20).map("".join)


@given(mixed)
@settings(max_examples=400, deadline=None)
def test_index_terms_shortcut_equals_tokenize(text):
    assert index_terms(text) == tokenize(text)


@pytest.mark.parametrize("text", ["Price 2,000 and 3.11, v1.2.3!", "snake_case here", "Crème brûlée", "a,b 1,23",
                                  "\u201cdon\u2019t\u201d max_len_", "\u30fbx\u3001y"])
def test_index_terms_examples(text):
    assert index_terms(text) == tokenize(text)


def test_index_search_breaks_ties_by_id_with_and_without_a_limit():
    index = BM25Index()
    index.add(["kernel package", "other words", "kernel package", "kernel", "kernel package", "package"] * 30)
    ranked = index.search("kernel package")
    scores = index.scores("kernel package")
    assert ranked == sorted(scores.items(), key=lambda item: (-item[1], item[0]))
    assert [i for i, _ in ranked[:3]] == [0, 2, 4]  # equal scores, lowest id first
    for limit in (1, 5, 37, len(ranked) - 1, len(ranked), len(ranked) + 5):
        assert index.search("kernel package", limit) == ranked[:limit]


def test_index_empty_and_unknown_terms():
    index = BM25Index()
    assert index.search("anything") == [] and len(index) == 0
    index.add(["kernel package", "", "another kernel"])
    assert index.search("zzz") == [] and [i for i, _ in index.search("kernel")] == [0, 2]
    with pytest.raises(ValueError):
        BM25Index(k1=-1)


# --- fusion, shortlist, funnel -------------------------------------------------------------------------

def test_rrf_sums_reciprocal_ranks_and_breaks_ties_by_best_rank_then_id():
    fused = rrf([[1, 2, 3], [3, 1, 4]], k=60)
    assert [i for i, _ in fused] == [1, 3, 2, 4]
    assert fused[0][1] == pytest.approx(1 / 61 + 1 / 62)
    assert [i for i, _ in rrf([[5, 6], [6, 5]])] == [5, 6]  # equal scores, equal best rank: by id
    assert rrf([[1, 1, 2]]) == [(1, 1 / 61), (2, 1 / 63)]  # a repeated id counts once
    assert rrf([[1, 2, 3]], limit=2) == rrf([[1, 2, 3]])[:2] and rrf([]) == []
    with pytest.raises(ValueError):
        rrf([[1]], k=0)


@given(st.lists(st.lists(st.integers(0, 30), max_size=20), max_size=4), st.integers(1, 100))
@settings(max_examples=150, deadline=None)
def test_rrf_properties(orders, k):
    fused = rrf(orders, k)
    ids = [i for i, _ in fused]
    assert len(ids) == len(set(ids)) == len({i for order in orders for i in order})
    assert all(a[1] >= b[1] for a, b in zip(fused, fused[1:]))
    assert rrf(orders, k, limit=5) == fused[:5]


def test_top_ids_and_candidates():
    assert top_ids([(4, 1.0), (2, 0.5), (9, 0.1)], 2) == [4, 2]
    assert check_candidates(MIN_CANDIDATES) == MIN_CANDIDATES and check_candidates(MAX_CANDIDATES) == MAX_CANDIDATES
    for bad in (MIN_CANDIDATES - 1, MAX_CANDIDATES + 1, True, 50.0):
        with pytest.raises(InputError) as info:
            check_candidates(bad)
        assert info.value.field == "candidates" and "between 10 and 200" in info.value.message
    assert check_retriever("hybrid") == "hybrid"
    with pytest.raises(InputError):
        check_retriever("dense")


def test_funnel_recall_and_the_ranks_of_what_stage1_missed():
    stage1 = [5, 1, 9, 3, 7, 2]  # 0, 4, 6, 8 never returned
    result = funnel(stage1, passages=10, k_candidates=3, k_sent=2, relevant=[1, 7, 8, 1])
    assert (result.passages, result.candidates, result.sent) == (10, 3, 2)
    assert (result.relevant, result.found, result.recall) == (3, 1, pytest.approx(1 / 3))
    assert [(m.id, m.rank) for m in result.missed] == [(7, 5), (8, None)]
    assert result.to_dict()["missed"] == [{"id": 7, "rank": 5}, {"id": 8, "rank": None}]


def test_funnel_without_labels_and_with_short_stage1():
    assert funnel([1, 2], 100, 50, 10, []).recall is None
    small = funnel([1, 2], 100, 50, 10, [2])
    assert (small.candidates, small.sent, small.recall, small.missed) == (2, 2, 1.0, ())


@given(st.permutations(list(range(20))), st.integers(1, 20), st.sets(st.integers(0, 19), max_size=6))
@settings(max_examples=100, deadline=None)
def test_funnel_properties(order, k, relevant):
    result = funnel(order, 20, k, 5, relevant)
    assert result.found + len(result.missed) == len(relevant)
    assert all(m.rank > k for m in result.missed)
    if relevant:
        assert result.recall == len(set(order[:k]) & relevant) / len(relevant)
