"""Export a session: JSON (re-importable as passages), Markdown table, CSV (RFC 4180)."""

import csv
import html
import io
import json

from .rows import Row
from .session import RankingSession

EXPORT_VERSION = 1
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def export_rows(session: RankingSession) -> list[dict]:
    """Per passage in display order: rank, position (1-based original), text, score, window..."""
    return [_row_record(row) for row in session.view().rows]


def _row_record(row: Row) -> dict:
    """One exported passage."""
    return {"rank": row.rank, "position": row.index + 1, "text": row.text, "score": row.score, "raw": row.raw,
            "state": row.state, "sunk": row.sunk, "relevance": row.relevance,
            "window": {"start": row.window.start, "end": row.window.end} if row.window else None}


def to_json(session: RankingSession, indent: int | None = 2) -> str:
    """JSON document {format, version, query, model, ..., passages: [...]}; paste it back to restore the input."""
    update = session.view()
    document = {"format": "reranker-export", "version": EXPORT_VERSION, "query": session.query,
                "model": session.model_id, "calibration": session.calibration, "threshold": update.threshold,
                "topK": update.top_k, "scored": update.scored, "total": update.total,
                "passages": export_rows(session)}
    return json.dumps(document, ensure_ascii=False, indent=indent)


def markdown_cell(text: str) -> str:
    """Escape text for a GitHub-flavoured Markdown table cell (pipes, backslashes, HTML, newlines)."""
    escaped = html.escape(text.replace("\\", "\\\\"), quote=False).replace("|", "\\|")
    return escaped.replace("\n", "<br>")


def to_markdown(session: RankingSession) -> str:
    """Markdown table in display order: rank, original position, score, label, passage."""
    lines = [f"**Query:** {markdown_cell(session.query)}  ", f"**Model:** {markdown_cell(session.model_id)}", "",
             "| Rank | Original | Score | Label | Passage |", "| ---: | ---: | ---: | :---: | --- |"]
    for row in session.view().rows:
        score = "pending" if row.score is None else f"{row.score:.3f}" + (" (sunk)" if row.sunk else "")
        label = "" if row.relevance is None else str(row.relevance)
        cell = markdown_cell(row.text)
        if row.window:  # mark the winning window with » « so the reader sees what was scored
            start, end = row.window.start, row.window.end
            cell = (markdown_cell(row.text[:start]) + "**»**" + markdown_cell(row.text[start:end]) + "**«**"
                    + markdown_cell(row.text[end:]))
        lines.append(f"| {row.rank} | {row.index + 1} | {score} | {label} | {cell} |")
    return "\n".join(lines) + "\n"


def to_csv(session: RankingSession, spreadsheet_safe: bool = True) -> str:
    """CSV (RFC 4180: CRLF, quotes doubled). `spreadsheet_safe` prefixes ' to cells starting with = + - @."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(["rank", "position", "score", "raw", "state", "sunk", "relevance", "window_start",
                     "window_end", "text"])
    for row in session.view().rows:
        text = row.text
        if spreadsheet_safe and text.startswith(_FORMULA_START):
            text = "'" + text
        writer.writerow([row.rank, row.index + 1, "" if row.score is None else repr(row.score),
                         "" if row.raw is None else repr(row.raw), row.state, "true" if row.sunk else "false",
                         "" if row.relevance is None else row.relevance,
                         row.window.start if row.window else "", row.window.end if row.window else "", text])
    return buffer.getvalue()
