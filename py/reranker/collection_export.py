"""Export of a Documents-mode run: each passage's source, stage-1 rank and score, reranked rank and score."""

import csv
import io
import json
from collections.abc import Iterable, Mapping

from .collection import Collection, Stage1
from .export import _FORMULA_START, EXPORT_VERSION, markdown_cell

COLUMNS = ("rerank_rank", "rerank_score", "stage1_rank", "stage1_score", "reached", "relevant", "id", "source",
           "record", "ordinal", "start", "end", "headings", "text")


def collection_rows(collection: Collection, stage1: Stage1, rerank: Mapping[int, float],
                    relevant: Iterable[int] = ()) -> list[dict]:
    """One row per stage-1 candidate (reranked order: scored best first, then unscored by stage-1 rank), then the
    relevant passages stage 1 did not pass on (`reached` false, no rerank fields)."""
    relevant_ids = set(relevant)
    ranks = stage1.rank_of()
    candidates = stage1.candidates
    scored = sorted((i for i in candidates if i in rerank), key=lambda i: (-rerank[i], ranks[i][0]))
    order = scored + [i for i in candidates if i not in rerank]
    rows = [_row(collection, i, ranks.get(i), position if i in rerank else None, rerank.get(i), True,
                 i in relevant_ids) for position, i in enumerate(order, 1)]
    shortlisted = set(candidates)
    missed = sorted((i for i in relevant_ids if i not in shortlisted and 0 <= i < len(collection.chunks)),
                    key=lambda i: (ranks[i][0] if i in ranks else len(ranks) + 1, i))
    rows += [_row(collection, i, ranks.get(i), None, None, False, True) for i in missed]
    return rows


def _row(collection: Collection, doc_id: int, stage1: tuple[int, float] | None, rank: int | None,
         score: float | None, reached: bool, relevant: bool) -> dict:
    """One exported passage."""
    chunk = collection.chunks[doc_id]
    return {"rerank_rank": rank, "rerank_score": score, "stage1_rank": stage1[0] if stage1 else None,
            "stage1_score": stage1[1] if stage1 else None, "reached": reached, "relevant": relevant,
            "id": doc_id, "source": chunk.source, "record": chunk.record, "ordinal": chunk.ordinal,
            "start": chunk.start, "end": chunk.end, "headings": list(chunk.headings), "text": chunk.text}


def rows_to_json(rows: list[dict], query: str, settings: Mapping[str, object], indent: int | None = 2) -> str:
    """JSON document {format, version, query, settings, passages: rows}."""
    document = {"format": "reranker-documents-export", "version": EXPORT_VERSION, "query": query,
                "settings": dict(settings), "passages": rows}
    return json.dumps(document, ensure_ascii=False, indent=indent)


def rows_to_csv(rows: list[dict], spreadsheet_safe: bool = True) -> str:
    """CSV (RFC 4180) with COLUMNS; headings joined by " > "; formula-like text cells prefixed with '."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(COLUMNS)
    for row in rows:
        cells = []
        for column in COLUMNS:
            value = row[column]
            if column == "headings":
                value = " > ".join(value)
            if isinstance(value, bool):
                value = "true" if value else "false"
            elif value is None:
                value = ""
            elif isinstance(value, float):
                value = repr(value)
            elif isinstance(value, str) and spreadsheet_safe and value.startswith(_FORMULA_START):
                value = "'" + value
            cells.append(value)
        writer.writerow(cells)
    return buffer.getvalue()


def rows_to_markdown(rows: list[dict], query: str) -> str:
    """Markdown table: reranked rank and score, stage-1 rank and score, source, passage."""
    lines = [f"**Query:** {markdown_cell(query)}", "",
             "| Rank | Score | Stage 1 | Stage-1 score | Source | Passage |",
             "| ---: | ---: | ---: | ---: | --- | --- |"]
    for row in rows:
        rank = "never reached the reranker" if not row["reached"] else (row["rerank_rank"] or "pending")
        score = "" if row["rerank_score"] is None else f"{row['rerank_score']:.3f}"
        stage1 = "" if row["stage1_rank"] is None else str(row["stage1_rank"])
        stage1_score = "" if row["stage1_score"] is None else f"{row['stage1_score']:.3f}"
        source = row["source"] + (f" ({row['record']})" if row["record"] else "")
        if row["headings"]:
            source += " \u203a " + row["headings"][-1]
        lines.append(f"| {rank} | {score} | {stage1} | {stage1_score} | {markdown_cell(source)} | "
                     f"{markdown_cell(row['text'])} |")
    return "\n".join(lines) + "\n"
