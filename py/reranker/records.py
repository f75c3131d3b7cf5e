"""Records of a .csv/.tsv/.json/.jsonl file: one text per row or object, from a named or detected text field."""

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass

from .errors import InputError

# Field names that usually hold the text, best first; otherwise the field with the longest texts wins.
PREFERRED_FIELDS = ("text", "passage", "content", "contents", "body", "document", "abstract", "description",
                    "summary", "answer", "message", "comment", "review")
_LABEL_FIELDS = ("title", "name", "id", "doc_id", "docid", "url")
_LIST_KEYS = ("documents", "docs", "passages", "records", "rows", "items", "data", "results")


@dataclass(frozen=True, slots=True)
class Record:
    """One row/object: `label` says which (its title or id if it has one, else "row N"), `text` its text."""

    label: str
    text: str


@dataclass(frozen=True, slots=True)
class RecordFile:
    """The records of one file, the field their text came from, and how many rows had no text / were broken."""

    records: list[Record]
    field: str
    empty: int = 0
    broken: int = 0


def read_records(name: str, text: str, kind: str, text_field: str | None = None) -> RecordFile:
    """Records of a file of `kind` "csv", "tsv", "json" or "jsonl"; InputError(field "files") if none can be used."""
    if kind in ("csv", "tsv"):
        rows, broken = _csv_rows(name, text, kind)
    elif kind == "jsonl":
        rows, broken = _jsonl_rows(text)
    else:
        rows, broken = _json_rows(name, text), 0
    if not rows:
        raise InputError("no_records", f"{name} has no rows or objects to read.", "files")
    field = choose_field(name, rows, text_field)
    records: list[Record] = []
    empty = 0
    for number, row in enumerate(rows, 1):
        value = row.get(field)
        body = value.strip() if isinstance(value, str) else ""
        if not body:
            empty += 1
            continue
        records.append(Record(_label(row, field, number), body))
    if not records:
        raise InputError("no_records", f"The \u201c{field}\u201d field of {name} is empty in every row.", "files")
    return RecordFile(records, field, empty, broken)


def choose_field(name: str, rows: Sequence[dict], text_field: str | None = None) -> str:
    """The named field (case-insensitive), else a usual text field name, else the field with the longest texts."""
    fields: dict[str, str] = {}
    for row in rows[:200]:
        for key in row:
            fields.setdefault(str(key).casefold(), key)
    if text_field:
        key = fields.get(text_field.strip().casefold())
        if key is None:
            listed = ", ".join(f"\u201c{k}\u201d" for k in list(fields.values())[:12]) or "none"
            raise InputError("no_text_field", f"{name} has no field \u201c{text_field}\u201d (its fields: {listed}).",
                             "files")
        return key
    lengths = {key: 0 for key in fields.values()}
    for row in rows[:200]:
        for key, value in row.items():
            if isinstance(value, str) and key in lengths and not _numeric(value):
                lengths[key] += len(value)
    textual = {key for key, total in lengths.items() if total}
    for preferred in PREFERRED_FIELDS:
        key = fields.get(preferred)
        if key in textual:
            return key
    if not textual:
        present = [fields[name] for name in PREFERRED_FIELDS if name in fields]
        if present:  # a "text" field that is empty everywhere: say so rather than "no field"
            return present[0]
        raise InputError("no_text_field", f"{name} has no field holding text; name the field to read.", "files")
    return max(textual, key=lambda key: lengths[key])


def _numeric(value: str) -> bool:
    """True for numbers (ids, scores), which are never the text field."""
    try:
        float(value)
    except ValueError:
        return False
    return True


def _label(row: dict, field: str, number: int) -> str:
    """A title/name/id of the row when it has one (short), else "row N"."""
    lowered = {str(key).casefold(): key for key in row}
    for candidate in _LABEL_FIELDS:
        key = lowered.get(candidate)
        value = row.get(key) if key is not None and key != field else None
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip():
            return f"row {number}: {str(value).strip()[:80]}"
    return f"row {number}"


def _csv_rows(name: str, text: str, kind: str) -> tuple[list[dict], int]:
    """Rows of a CSV/TSV file keyed by its header; the delimiter is sniffed for .csv (comma if unsure)."""
    dialect: type[csv.Dialect] | csv.Dialect = csv.excel_tab if kind == "tsv" else csv.excel
    if kind == "csv":
        try:
            dialect = csv.Sniffer().sniff(text[:8192], delimiters=",;\t|")
        except csv.Error:
            pass
    rows: list[dict] = []
    broken = 0
    try:
        reader = csv.reader(io.StringIO(text, newline=""), dialect)
        header = next(reader, None)
        if not header or not any(cell.strip() for cell in header):
            return [], 0
        keys = [cell.strip() or f"column {i + 1}" for i, cell in enumerate(header)]
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) > len(keys):
                broken += 1
            rows.append(dict(zip(keys, cells)))
    except csv.Error as error:
        raise InputError("bad_csv", f"{name} is not a CSV file this page can read ({error}).", "files") from None
    return rows, broken


def _jsonl_rows(text: str) -> tuple[list[dict], int]:
    """Objects (or strings) of a JSON Lines file; lines that are not JSON are counted, not fatal."""
    rows: list[dict] = []
    broken = 0
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError:
            broken += 1
            continue
        row = _as_row(value)
        if row is None:
            broken += 1
        else:
            rows.append(row)
    return rows, broken


def _json_rows(name: str, text: str) -> list[dict]:
    """Objects of a JSON array, or of the list under a usual key ("documents", "data", ...) of an object."""
    try:
        value = json.loads(text)
    except ValueError as error:
        raise InputError("bad_json", f"{name} is not valid JSON ({error.args[0] if error.args else error}).",
                         "files") from None
    if isinstance(value, dict):
        lists = [value[key] for key in _LIST_KEYS if isinstance(value.get(key), list)]
        lists += [item for item in value.values() if isinstance(item, list)]
        value = lists[0] if lists else [value]
    if not isinstance(value, list):
        raise InputError("bad_json", f"{name} holds no list of objects or texts.", "files")
    return [row for row in map(_as_row, value) if row is not None]


def _as_row(value: object) -> dict | None:
    """A JSON object as a row (nested values dropped); a bare string is a row with field "text"."""
    if isinstance(value, str):
        return {"text": value}
    if isinstance(value, dict):
        return {str(k): v for k, v in value.items() if isinstance(v, (str, int, float)) and not isinstance(v, bool)}
    return None
