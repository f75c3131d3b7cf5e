"""PyScript glue: exposes the `reranker` package to the page's JavaScript as JSON-in / JSON-out calls.

Boundary: JavaScript (app/) only moves data (DOM, worker messages, clipboard); every ranking
decision (parsing, validation, order, ranks, deltas, sink/cut, metrics, export, share) is made here by
`reranker`. Each call takes and returns one JSON string, so no Python<->JS proxies are created per call:
the only proxies are the bound methods registered once at start-up.
"""

from __future__ import annotations

import base64
import json
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from reranker import (InputError, RankingSession, RerankerError, ScoreCache, calibration_for, parse_passages,
                      passage_budget, split_windows, view_json)
from reranker.bm25 import term_counts
from reranker.limits import MIN_WINDOW_TOKENS
from reranker.parse import ParseResult, Passage, clean_query

DEFAULT_THRESHOLD = 0.5
DEFAULT_TOP_K = 5
MIN_PASSAGES = 2
COLUMN_LABELS = {"original": "Original order", "bm25": "BM25 (lexical)", "biencoder": "Bi-encoder (vectors)",
                 "cross_encoder": "Cross-encoder"}


def _error(exc: Exception) -> dict:
    """Error payload the page shows next to `field` (query | passages | model | share | threshold | top_k)."""
    if isinstance(exc, RerankerError):
        return {"error": exc.to_dict()}
    return {"error": {"code": "internal", "field": "",
                      "message": f"The ranking code failed unexpectedly ({type(exc).__name__}: {exc})."}}


def _json_call(method: Callable[..., Any]) -> Callable[..., str]:
    """Wrap an API method: JSON string arguments in, JSON string out, errors as {"error": ...}."""
    def call(*args: str) -> str:
        try:
            result = method(*(json.loads(a) if isinstance(a, str) else a for a in args))
        except Exception as exc:  # the page must get a message, never a Python traceback
            result = _error(exc)
        return json.dumps(result, ensure_ascii=False, allow_nan=False)
    call.__name__ = method.__name__
    call.__doc__ = method.__doc__
    return call


def _labels_lookup(pairs: Sequence[Sequence[Any]] | None) -> dict[str, int]:
    """[[text, relevance], ...] from the page -> {text: relevance}."""
    out: dict[str, int] = {}
    for item in pairs or []:
        if len(item) == 2 and isinstance(item[0], str) and item[1] in (0, 1, 2):
            out[item[0]] = int(item[1])
    return out


class DocumentsGlue:
    """Documents mode: one collection for the page's lifetime, its last stage 1 and the runs started from it.

    The `reranker` collection modules load on first use (the mode's first file), never at the page's start."""

    def __init__(self) -> None:
        self.col: Any = None
        self.last: Any = None           # the last Stage1
        self.runs: dict[str, Any] = {}  # slot -> the Stage1 whose candidates that slot's session ranks

    def collection(self) -> Any:
        """The page's collection, made on first use."""
        if self.col is None:
            from reranker.collection import Collection  # noqa: PLC0415 - on first use, not at start-up
            self.col = Collection()
        return self.col

    def check(self, files: Sequence[Sequence[Any]]) -> dict:
        """Before reading: the (name, size) pairs to refuse (too large, too many); refusals join the notes."""
        from reranker.documents import check_files  # noqa: PLC0415
        col = self.collection()
        notes = check_files([(str(n), int(z)) for n, z in files], already=col.reader.files)
        col.notes.extend(notes)
        return {"refused": [note.name for note in notes], "notes": [note.to_dict() for note in notes]}

    def take(self, names: Sequence[str]) -> dict:
        """Before anything else: how many of the picked files fit under the file limit (the first ones); the rest
        are refused by name, without reading or measuring them, in one note."""
        from reranker.documents import past_limit_note, take_files  # noqa: PLC0415
        col = self.collection()
        count, notes = take_files([str(n) for n in names], already=col.reader.files)
        col.notes.extend(notes)
        return {"take": count, "notes": [past_limit_note(notes).to_dict()] if notes else []}

    def add_packed(self, files: Sequence[Sequence[Any]], data: str) -> dict:
        """Like `add`, for many files at once: [[name, size], ...] and the base64 of their bytes one after another."""
        raw = base64.b64decode(data)
        sizes = [int(size) for _, size in files]
        if sum(sizes) != len(raw):
            raise InputError("files_changed", "The files changed while they were read; pick them again.", "files")
        pieces, at = [], 0
        for (name, _), size in zip(files, sizes):
            pieces.append((str(name), raw[at:at + size]))
            at += size
        col = self.collection()
        report = col.add_files(pieces)
        return {**report.to_dict(), "status": col.status(notes=False)}

    def unreadable(self, files: Sequence[Sequence[str]]) -> dict:
        """Files the browser could not read ([[name, reason]]): a skipped note each, counted in the status."""
        from reranker.documents import FileNote  # noqa: PLC0415
        col = self.collection()
        notes = [FileNote(str(name), "unreadable", f"{name} could not be read ({reason}) and was left out.", True)
                 for name, reason in files]
        col.notes.extend(notes)
        return {"notes": [note.to_dict() for note in notes], "status": col.status(notes=False)}

    def add(self, files: Sequence[Sequence[str]]) -> dict:
        """Read [[name, base64 bytes], ...] into documents (split and indexed by `work`); the load report."""
        col = self.collection()
        report = col.add_files([(str(name), base64.b64decode(data)) for name, data in files])
        return {**report.to_dict(), "status": col.status(notes=False)}

    def pdf_reader(self, wheel_name: str, data: str) -> dict:
        """The PDF reader's wheel (base64) fetched by the page when the first PDF arrives: make pypdf importable."""
        from reranker.pdftext import install_reader  # noqa: PLC0415
        return {"ready": install_reader(str(wheel_name), base64.b64decode(data))}

    def add_text(self, text: str, name: str = "") -> dict:
        """A pasted text as one more document (split and indexed by `work`); a blank or oversized text changes
        nothing, and `refused` says why a text was left out (a duplicate, the file limit)."""
        from reranker.documents import check_pasted, pasted_name  # noqa: PLC0415
        text = str(text or "").encode("utf-8", "replace").decode("utf-8")  # a lone surrogate becomes "?"
        check_pasted(text)
        col = self.collection()
        report = col.add_text(text, pasted_name(str(name or ""), (doc.source for doc in col.documents)))
        refused = next((note.message for note in report.notes if note.skipped), "")
        return {**report.to_dict(), "status": col.status(notes=False), "refused": refused}

    def find(self, text: str) -> dict:
        """Passages containing every term of `text`, in collection order, with where the last stage 1 put each."""
        from reranker.collection_search import find_passages, found_json  # noqa: PLC0415
        col = self.collection()
        return found_json(col, find_passages(col, str(text or "")), self.last)

    def work(self, max_ms: float) -> dict:
        """Split and index for about `max_ms`; call again until `done`."""
        col = self.collection()
        return {**col.work(max_ms=float(max_ms)).to_dict(), "status": col.status(notes=False)}

    def budget(self, budget: int) -> dict:
        """A new passage budget: passages are rebuilt by the next `work` calls."""
        col = self.collection()
        col.set_budget(int(budget), col.overlap)
        self.last = None
        return col.status(notes=False)

    def texts(self, first: int, count: int) -> list[str]:
        """Passage texts [first, first + count): what the bi-encoder embeds for the vector retriever."""
        return [chunk.text for chunk in self.collection().chunks[int(first):int(first) + int(count)]]

    def keys(self, first: int, count: int) -> list[str]:
        """Content keys (sha256 of the text) of passages [first, first + count): the stored vectors' keys."""
        return self.collection().keys(int(first), int(count))

    def stage1(self, query: str, retriever: str, k: int, similarities: Sequence[float | None] | None = None) -> dict:
        """Stage 1 over every passage (with the bi-encoder's cosine per passage id for vectors / hybrid); its first
        K become the passages of the next run."""
        col = self.collection()
        vectors = None
        if similarities is not None:
            if len(similarities) != len(col.chunks):
                raise InputError("no_vectors", "The collection changed while its passages were embedded; search "
                                 "again.", "retriever")
            vectors = sorted(((i, float(s)) for i, s in enumerate(similarities) if s is not None),
                             key=lambda pair: (-pair[1], pair[0]))
        found = col.stage1(clean_query(str(query or "")), str(retriever), int(k), vectors)
        if not found.order:
            raise InputError("no_match", "No passage of the collection shares a word with the query; try other "
                             "words.", "query")
        self.last = found
        return found.to_dict()

    def passages(self, payload: Mapping) -> tuple[str, list[Passage], list[dict], dict]:
        """The last stage 1's candidates as a run's passages (index = stage-1 position) plus their collection facts."""
        if self.last is None:
            raise InputError("no_stage1", "Search the collection first.", "documents")
        remembered = _labels_lookup(payload.get("labels"))
        chunks = [self.col.chunks[i] for i in self.last.candidates]
        passages = [Passage(n, c.text, c.source, remembered.get(c.text), None) for n, c in enumerate(chunks)]
        extra = {"collection": {"ids": [c.id for c in chunks], "sources": [c.source for c in chunks],
                                "scores": self.last.scores[:len(chunks)]}}
        return clean_query(str(payload.get("query") or "")), passages, [], extra

    def resolve(self, relevant: Sequence[Mapping]) -> dict:
        """The ids and texts a demo query's labels name."""
        ids = self.collection().resolve(relevant)
        return {"ids": ids, "texts": [self.col.chunks[i].text for i in ids]}

    def funnel(self, sent: int, relevant: Sequence[int]) -> dict:
        """Funnel numbers and recall@K of the last stage 1; missed relevant passages with source and excerpt."""
        from reranker.retrieval import funnel  # noqa: PLC0415
        if self.last is None:
            return {"funnel": None}
        col = self.collection()
        valid = [int(i) for i in relevant if 0 <= int(i) < len(col.chunks)]
        out = funnel(self.last.order, len(col.chunks), self.last.k, int(sent), valid).to_dict()
        for item in out["missed"]:
            chunk = col.chunks[item["id"]]
            item["source"] = chunk.source
            item["text"] = chunk.text if len(chunk.text) <= 200 else chunk.text[:199] + "\u2026"
        return out

    def share(self, payload: Mapping) -> dict:
        """A Documents-mode link: the query and settings as address parameters (never the collection)."""
        from reranker.chunking import check_budget  # noqa: PLC0415
        from reranker.retrieval import check_candidates, check_retriever  # noqa: PLC0415
        query = clean_query(str(payload.get("query") or ""))
        if not query:
            raise InputError("query_empty", "Type a query to share.", "query")
        retriever, k = check_retriever(str(payload.get("retriever"))), check_candidates(int(payload.get("k") or 0))
        budget = int(payload.get("budget") or 0)
        check_budget(budget, self.col.overlap if self.col else 0.15)
        params = [["mode", "documents"], ["q", query], ["retriever", retriever], ["k", str(k)],
                  ["budget", str(budget)], ["threshold", str(payload.get("threshold", DEFAULT_THRESHOLD))],
                  ["topk", str(payload.get("topK") or DEFAULT_TOP_K)]]
        model = str(payload.get("model") or "")
        if model and model != str(payload.get("defaultModel") or ""):
            params.append(["model", model])
        return {"params": params, "note": "The link carries the query and settings; the documents stay on this "
                                          "device, so whoever opens it loads their own (or the demo)."}

    def export(self, session: RankingSession, stage1: Any, fmt: str) -> dict:
        """A documents run as json | markdown | csv: source, stage-1 rank/score, reranked rank/score."""
        from reranker import collection_export as ce  # noqa: PLC0415
        view = session.view()
        scores = {stage1.candidates[f.index]: f.score for f in view.facts if f.score is not None}
        relevant = [stage1.candidates[f.index] for f in view.facts if f.relevance == 2]
        rows = ce.collection_rows(self.col, stage1, scores, relevant)
        settings = {"retriever": stage1.retriever, "k": stage1.k, "budget": self.col.budget}
        writers = {"json": lambda: ce.rows_to_json(rows, session.query, settings),
                   "csv": lambda: ce.rows_to_csv(rows), "markdown": lambda: ce.rows_to_markdown(rows, session.query)}
        if fmt not in writers:
            raise InputError("bad_format", f"Unknown export format '{fmt}'.", "export")
        return {"format": fmt, "text": writers[fmt]()}


class PageGlue:
    """State of the page's ranking: one session per slot ("a" = main model, "b" = compared model)."""

    def __init__(self) -> None:
        self.cache = ScoreCache()
        self.sessions: dict[str, RankingSession] = {}
        self.docs = DocumentsGlue()
        self._last_parse: tuple[tuple[str, str], ParseResult] | None = None

    def _parse_cached(self, text: str, mode: str) -> ParseResult:
        """parse_passages of the textarea, remembered for the last (text, mode): the live count and Rerank parse
        the same unchanged text one after the other (ParseResult is immutable; errors are not remembered)."""
        key = (text, mode)
        if self._last_parse is not None and self._last_parse[0] == key:
            return self._last_parse[1]
        parsed = parse_passages(text, mode)
        self._last_parse = (key, parsed)
        return parsed

    # -- input ----------------------------------------------------------------------------------------

    def _parse(self, payload: Mapping) -> tuple[str, list[Passage], list[dict]]:
        """Validate query and passages; labels from JSON input win over labels the page remembers."""
        query = str(payload.get("query") or "")
        parsed = self._parse_cached(str(payload.get("passages") or ""), str(payload.get("mode") or "auto"))
        if parsed.query and not query.strip():
            query = parsed.query
        remembered = _labels_lookup(payload.get("labels"))
        passages = [Passage(p.index, p.text, p.source,
                            p.relevance if p.relevance is not None else remembered.get(p.text), p.duplicate_of)
                    for p in parsed.passages]
        notices = [n.to_dict() for n in parsed.notices if n.code != "single_passage"]
        if len(passages) < MIN_PASSAGES:
            single = next((n.message for n in parsed.notices if n.code == "single_passage"),
                          "Add at least two passages to rank.")
            raise InputError("too_few_passages", single, "passages")
        return query, passages, notices

    def inspect(self, payload: Mapping) -> dict:
        """Live counts for the input panel: passages, how many get split into windows, notices or the error.

        Also prepares what Rerank and the BM25 column need (windows, term counts; both remembered per text). With
        `budgetMs` it stops after that much work and answers {"pending": true}: the page calls again when idle,
        so pasting 2,000 passages never blocks the main thread in one piece."""
        # The budget counts from here: a first parse of a long text is part of the slice, not added to it.
        deadline = None if payload.get("budgetMs") is None else time.perf_counter() + float(payload["budgetMs"]) / 1000
        try:
            parsed = self._parse_cached(str(payload.get("passages") or ""), str(payload.get("mode") or "auto"))
        except InputError as exc:
            return {"count": 0, "windowed": 0, "mode": None, "notices": [], **_error(exc)}
        max_tokens = int((payload.get("model") or {}).get("max_length") or 512)
        budget = passage_budget(str(payload.get("query") or ""), max_tokens)
        windowed = 0
        for passage in parsed.passages:
            if deadline is not None and time.perf_counter() > deadline:
                return {"count": len(parsed.passages), "pending": True}
            term_counts(passage.text)
            if budget >= MIN_WINDOW_TOKENS and len(split_windows(passage.text, budget)) > 1:
                windowed += 1
        return {"count": len(parsed.passages), "windowed": windowed, "mode": parsed.mode, "pending": False,
                "notices": [n.to_dict() for n in parsed.notices], "labelled": sum(
                    1 for p in parsed.passages if p.relevance is not None)}

    # -- a run ----------------------------------------------------------------------------------------

    def start(self, payload: Mapping) -> dict:
        """New session for a slot: returns texts, the pairs the worker must score and the first view."""
        slot = str(payload.get("slot") or "a")
        model = payload.get("model") or {}
        if not model.get("id"):
            raise InputError("no_model", "Choose a model first.", "model")
        extra: dict = {}
        if payload.get("collection"):
            query, passages, notices, extra = self.docs.passages(payload)
        else:
            query, passages, notices = self._parse(payload)
            self.docs.runs.pop(slot, None)
        session = RankingSession(query, passages, str(model["id"]), int(model.get("max_length") or 512),
                                 calibration=calibration_for(model), cache=self.cache,
                                 threshold=payload.get("threshold", DEFAULT_THRESHOLD),
                                 top_k=payload.get("topK", DEFAULT_TOP_K))
        previous = self.sessions.get(slot)
        if previous is not None and not previous.done:
            previous.cancel()
        self.sessions[slot] = session
        if extra:
            self.docs.runs[slot] = self.docs.last
        pairs = session.pending_pairs()
        return {"slot": slot, "session": session.id, "query": session.query,
                "texts": [p.text for p in session.passages], "relevance": session.relevance,
                "pairs": pairs, "cached": session.pairs_total - len(pairs), "notices": notices,
                "view": view_json(session.view(), full=True), **extra}

    def add(self, slot: str, results: Sequence[Mapping]) -> dict:
        """Feed a batch of worker results ({key, logit, tokens}); returns the new order and the touched rows."""
        session = self.sessions[slot]
        session.add_scores(results)
        return view_json(session.view(), full=False)

    def cancel(self, slot: str) -> dict:
        """Stop a run: pending rows stay pending, later scores are only cached."""
        session = self.sessions.get(slot)
        return view_json(session.cancel(), full=True) if session else {"cancelled": True}

    def settings(self, slot: str, threshold: float | None, top_k: int | None) -> dict:
        """Change threshold and top-k cut: a new view, no re-scoring."""
        session = self.sessions[slot]
        session.set_view(threshold, top_k)
        return view_json(session.view(), full=False)

    def relevance(self, slot: str, index: int, relevance: int | None) -> dict:
        """Label a passage (metrics update); returns the view."""
        session = self.sessions[slot]
        session.set_relevance(int(index), relevance)
        return view_json(session.view(), full=False)

    # -- compare columns, export, share ---------------------------------------------------------------

    def compare(self, slot: str, k: int | None = None, biencoder: Sequence[float] | None = None) -> dict:
        """Compare columns (original, BM25, bi-encoder if scores are given, cross-encoder) with nDCG@k / MRR."""
        session = self.sessions[slot]
        k = int(k or session.top_k or DEFAULT_TOP_K)
        vectors_pending = biencoder is not None and (len(biencoder) != len(session.passages)
                                                     or any(x is None for x in biencoder))
        complete = None if biencoder is None or vectors_pending else [float(x) for x in biencoder]
        orders = session.orders(complete)
        metrics = session.metrics(k=k, biencoder_scores=complete) or {}
        done = session.done
        columns = []
        for name, order in orders.items():
            m = metrics.get(name)
            columns.append({"id": name, "label": COLUMN_LABELS.get(name, name), "order": order,
                            "metrics": {"ndcg": m["ndcg"], "mrr": m["mrr"]} if m else None,
                            "pending": name == "cross_encoder" and not done})
        if vectors_pending:  # the bi-encoder is still embedding: show its column as waiting, before ours
            columns.insert(len(columns) - 1, {"id": "biencoder", "label": COLUMN_LABELS["biencoder"], "order": [],
                                              "metrics": None, "pending": True})
        return {"k": k, "columns": columns, "relevance": session.relevance}

    def export(self, slot: str, fmt: str) -> dict:
        """Export the slot's session as json | markdown | csv text."""
        from reranker.export import to_csv, to_json, to_markdown  # noqa: PLC0415 - on first use, not at start-up

        session = self.sessions[slot]
        if slot in self.docs.runs:
            return self.docs.export(session, self.docs.runs[slot], fmt)
        writers = {"json": to_json, "markdown": to_markdown, "csv": to_csv}
        if fmt not in writers:
            raise InputError("bad_format", f"Unknown export format '{fmt}'.", "export")
        return {"format": fmt, "text": writers[fmt](session)}

    def share(self, payload: Mapping) -> dict:
        """Share string for the page state; a built-in preset left unchanged is shared as its short id."""
        from reranker.share import ShareState, encode_share, matches_preset  # noqa: PLC0415 - on first use
        query, passages, _ = self._parse(payload)
        model = str(payload.get("model") or "")
        default_model = str(payload.get("defaultModel") or "")
        threshold = payload.get("threshold", DEFAULT_THRESHOLD)
        # Links store "no top-k" for the page default, so an untouched preset shares as its short id.
        top_k = payload.get("topK", DEFAULT_TOP_K)
        top_k = None if top_k == DEFAULT_TOP_K else top_k
        labels = [p.relevance for p in passages]
        state = ShareState(query=clean_query(query), passages=[p.text for p in passages], model=model,
                           labels=labels if any(x is not None for x in labels) else [], threshold=threshold,
                           top_k=top_k, mode="lines")
        preset = payload.get("preset")
        if isinstance(preset, Mapping) and matches_preset(state, preset):
            state = ShareState(preset=str(preset["id"]), model="" if model == default_model else model,
                               threshold=threshold, top_k=top_k, passages=[], labels=[], query="")
        elif str(payload.get("mode") or "lines") in ("paragraphs", "json"):
            state.mode = str(payload.get("mode"))
        return {"code": encode_share(state)}

    def restore(self, code: str) -> dict:
        """Decode a share string into what the page fills in (textarea text via `format_passages`)."""
        from reranker.share import decode_share, format_passages  # noqa: PLC0415 - on first use
        state = decode_share(code)
        text, mode = format_passages(state.passages, state.mode) if state.passages else ("", state.mode)
        labels = [[t, r] for t, r in zip(state.passages, state.labels) if r is not None]
        return {"preset": state.preset, "query": state.query, "passages": text, "mode": mode,
                "model": state.model, "labels": labels, "threshold": state.threshold,
                "topK": DEFAULT_TOP_K if state.top_k is None else state.top_k}


API_METHODS = ("inspect", "start", "add", "cancel", "settings", "relevance", "compare", "export", "share",
               "restore")
DOCS_METHODS = ("take", "check", "unreadable", "add", "add_packed", "add_text", "pdf_reader", "work", "budget",
                "texts", "keys", "stage1", "resolve", "funnel", "find", "share")


def register(glue: PageGlue) -> None:
    """Publish the API on `window.rerankerGlue` once and tell the page that Python is ready."""
    import js  # noqa: PLC0415 - browser only
    from pyodide.ffi import create_proxy, to_js  # noqa: PLC0415 - browser only

    api = {name: create_proxy(_json_call(getattr(glue, name))) for name in API_METHODS}
    api.update({f"docs_{name}": create_proxy(_json_call(getattr(glue.docs, name))) for name in DOCS_METHODS})
    info = {"python": sys.version.split()[0], "implementation": sys.implementation.name,
            "pyodide": getattr(sys.modules.get("pyodide"), "__version__", ""),
            "defaults": {"threshold": DEFAULT_THRESHOLD, "topK": DEFAULT_TOP_K, "minPassages": MIN_PASSAGES}}
    api["info"] = json.dumps(info)
    js.window.rerankerGlue = to_js(api, dict_converter=js.Object.fromEntries)
    version = js.document.getElementById("python-version")
    if version is not None:
        version.textContent = info["python"]
    js.document.dispatchEvent(js.CustomEvent.new("reranker:glue-ready"))


if sys.platform == "emscripten":
    register(PageGlue())
