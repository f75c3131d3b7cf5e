"""Read dropped files into documents: text, Markdown, HTML (visible text only), CSV/JSON/JSONL records, PDF pages.

Every file that cannot be used is skipped with a sentence saying why (binary, empty, too large, a duplicate,
no text field...); nothing that was already read is lost. Text that is not UTF-8 is decoded with
replacement characters and reported.
"""

import codecs
import math
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from .errors import InputError
from .htmltext import Heading, html_to_text
from .limits import MAX_FILE_BYTES, MAX_FILES
from .pdftext import pdf_pages
from .records import read_records
from .text import normalize_newlines, remove_control_chars

KINDS = {"txt": "text", "text": "text", "log": "text", "rst": "text", "md": "markdown", "markdown": "markdown",
         "html": "html", "htm": "html", "xhtml": "html", "csv": "csv", "tsv": "tsv", "json": "json",
         "jsonl": "jsonl", "ndjson": "jsonl"}
# Formats recognised by their first bytes, so the message can say what the file is.
_MAGIC = ((b"%PDF-", "a PDF"), (b"PK\x03\x04", "a ZIP archive (Word, OpenDocument and EPUB files are ZIPs)"),
          (b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"),
          (b"\x1f\x8b", "gzip-compressed"), (b"\xd0\xcf\x11\xe0", "an old Microsoft Office document"),
          (b"\x7fELF", "a program"), (b"MZ", "a program"))
_CONTROL_BYTES = bytes(sorted(set(range(0x20)) - {0x09, 0x0A, 0x0C, 0x0D, 0x1B} | {0x7F}))
# Characters remove_control_chars drops or replaces (Cc but tab/newline, Cs): most files have none.
_NEEDS_CLEANING = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_SNIFF_BYTES = 8192
# An ATX heading line, matched from the newline before it (the text is read with one prepended): a pattern
# opening with a literal is searched by a fast scan, where "^" with re.M tries every position.
_ATX = re.compile(r"\n {0,3}(#{1,6})(?:[ \t]+(.+?)[ \t]*#*[ \t]*|[ \t]*)$", re.M)
_FENCE = re.compile(r"^ {0,3}(```|~~~)", re.M)


@dataclass(frozen=True, slots=True)
class Document:
    """One readable unit: a whole file, or one row/object of a CSV/JSON file (`record` says which)."""

    id: int
    source: str
    text: str
    kind: str
    headings: tuple[Heading, ...] = ()
    record: str = ""
    title: str = ""

    def to_dict(self) -> dict:
        """JSON-able summary (without the text)."""
        return {"id": self.id, "source": self.source, "record": self.record, "kind": self.kind,
                "title": self.title, "chars": len(self.text), "headings": len(self.headings)}


@dataclass(frozen=True, slots=True)
class FileNote:
    """What happened to one file: `code` is "read" or why it was skipped/changed; `message` a sentence."""

    name: str
    code: str
    message: str
    skipped: bool

    def to_dict(self) -> dict:
        """JSON-able form."""
        return {"name": self.name, "code": self.code, "message": self.message, "skipped": self.skipped}


@dataclass
class LoadReport:
    """Outcome of one `DocumentReader.read_files` call: documents added, notes per file, counts."""

    documents: list[Document] = field(default_factory=list)
    notes: list[FileNote] = field(default_factory=list)
    files_read: int = 0
    duplicates: int = 0

    @property
    def skipped(self) -> list[FileNote]:
        """Notes of the files that were not read."""
        return [note for note in self.notes if note.skipped]

    def summary(self) -> str:
        """One sentence for the status line: files and documents read, duplicates and skipped files."""
        parts = [f"Read {_count(self.files_read, 'file')}"]
        if any(doc.record for doc in self.documents):
            parts[0] += f" ({_count(len(self.documents), 'document')})"
        if self.duplicates:
            parts.append(f"{_count(self.duplicates, 'duplicate file')} left out")
        reasons = skip_reasons(self.skipped)
        if reasons:
            parts.append(reasons)
        return ", ".join(parts) + "."

    def to_dict(self) -> dict:
        """JSON-able form (documents as summaries)."""
        return {"documents": [d.to_dict() for d in self.documents], "notes": [n.to_dict() for n in self.notes],
                "filesRead": self.files_read, "duplicates": self.duplicates, "summary": self.summary()}


_REASONS = {"too_many_files": f"over the {MAX_FILES:,}-file limit", "binary_file": "not text",
            "empty_file": "empty", "file_too_large": f"over {MAX_FILE_BYTES / 1e6:,.0f} MB",
            "pdf_broken": "damaged PDF", "pdf_encrypted": "encrypted PDF", "pdf_no_text": "PDF without text",
            "pdf_unavailable": "PDF reader not loaded"}


def skip_counts(notes: Iterable[FileNote], counts: dict[str, int] | None = None) -> dict[str, int]:
    """Skipped notes other than duplicates counted by reason ("not text": 2, ...), added to `counts` if given."""
    counts = {} if counts is None else counts
    for note in notes:
        if note.skipped and note.code != "duplicate":
            reason = _REASONS.get(note.code, "unreadable")
            counts[reason] = counts.get(reason, 0) + 1
    return counts


def skip_reasons(notes: Iterable[FileNote], counts: dict[str, int] | None = None) -> str:
    """"3 files skipped (2 not text, 1 empty)" for the skipped notes other than duplicates ("" if none), or for
    `counts` from `skip_counts`."""
    counts = skip_counts(notes) if counts is None else counts
    if not counts:
        return ""
    detail = ", ".join(f"{n:,} {reason}" for reason, n in sorted(counts.items(), key=lambda item: -item[1]))
    return f"{_count(sum(counts.values()), 'file')} skipped ({detail})"


def _count(n: int, noun: str) -> str:
    """"1 file", "2,000 files"."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def kind_of(name: str) -> str:
    """The reader for a file name by its extension; unknown extensions are read as plain text."""
    _, dot, extension = name.rpartition(".")
    return KINDS.get(extension.lower(), "text") if dot else "text"


def check_files(files: Iterable[tuple[str, int]], already: int = 0) -> list[FileNote]:
    """Before reading: one note per (name, size) that will be refused (too large, past the file limit)."""
    notes: list[FileNote] = []
    count = already
    for name, size in files:
        if size > MAX_FILE_BYTES:
            notes.append(_too_large(name, size))
            continue
        count += 1
        if count > MAX_FILES:
            notes.append(FileNote(name, "too_many_files", f"{name} was not read: a collection holds at most "
                                  f"{MAX_FILES:,} files.", True))
    return notes


def check_pasted(text: str) -> None:
    """Before a pasted text is read: InputError (field "paste") when it is blank or over the file size limit."""
    if not text.strip():
        raise InputError("paste_empty", "There is no text to add: paste or type it in the box first.", "paste")
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_FILE_BYTES:
        raise InputError("paste_too_large", f"The text is {math.ceil(size / 1e5) / 10:,.1f} MB; a pasted text, like a file, can be "
                         f"at most {MAX_FILE_BYTES / 1e6:,.0f} MB. Nothing was added and your text is still in the "
                         "box: add it in parts.", "paste")


def pasted_name(name: str, taken: Iterable[str]) -> str:
    """A pasted text's document name: the given name (else "pasted text"), ".md" unless it names a known kind
    (so Markdown headings split it), numbered when a document already has that name."""
    base = " ".join(name.replace("/", " ").replace("\\", " ").split())[:100]
    stem, dot, extension = base.rpartition(".")
    if not dot or extension.lower() not in KINDS:
        stem, extension = base, "md"
    stem = stem.strip() or "pasted text"
    names = set(taken)
    candidate, n = f"{stem}.{extension}", 2
    while candidate in names:
        candidate, n = f"{stem} ({n}).{extension}", n + 1
    return candidate


def take_files(names: Sequence[str], already: int = 0) -> tuple[int, list[FileNote]]:
    """How many of `names` fit under the file limit after `already` files, and a note for each one past it."""
    room = max(0, MAX_FILES - already)
    why = f" was not read: a collection holds at most {MAX_FILES:,} files."
    notes = [FileNote(name, "too_many_files", name + why, True) for name in names[room:]]
    return min(room, len(names)), notes


def past_limit_note(notes: Sequence[FileNote]) -> FileNote:
    """One note for many files refused by the file limit (a 20,000-file drop gets one sentence, not 15,000)."""
    first, count = notes[0].name, len(notes)
    if count == 1:
        return notes[0]
    return FileNote(first, "too_many_files", f"{count:,} files were not read, from {first} on: a collection holds "
                    f"at most {MAX_FILES:,} files.", True)


def _too_large(name: str, size: int) -> FileNote:
    """The size-limit note."""
    return FileNote(name, "file_too_large", f"{name} is {size / 1e6:,.1f} MB; files over "
                    f"{MAX_FILE_BYTES / 1e6:,.0f} MB are not read.", True)


def binary_reason(data: bytes) -> str | None:
    """Why `data` is not text ("a PDF", "binary"...), or None when it looks like text."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return None
    for magic, what in _MAGIC:
        if data.startswith(magic):
            return what
    head = data[:_SNIFF_BYTES]
    if b"\x00" in head:
        return "binary"
    control = len(head) - len(head.translate(None, _CONTROL_BYTES))
    return "binary" if control > 2 and control / len(head) > 0.05 else None  # a stray bell in a note is still text


def decode(data: bytes) -> tuple[str, int]:
    """Text of the bytes (UTF-8, or UTF-16/UTF-8 by BOM) and how many bytes had to be replaced by U+FFFD."""
    for bom, codec in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                       (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            break
    else:
        codec = "utf-8"
    try:
        return data.decode(codec), 0
    except UnicodeDecodeError:
        text = data.decode(codec, errors="replace")
        return text, text.count("\ufffd") - data.decode(codec, errors="ignore").count("\ufffd")


def markdown_headings(text: str) -> list[Heading]:
    """ATX headings (`# Title` ... `###### Title`) of Markdown text, ignoring fenced code blocks."""
    if "#" not in text:
        return []
    fences = [m.start() for m in _FENCE.finditer(text)] if "```" in text or "~~~" in text else []
    headings: list[Heading] = []
    for match in _ATX.finditer("\n" + text):  # match.start() is the heading's offset in `text`
        if sum(1 for f in fences if f < match.start()) % 2:
            continue  # inside a ``` block
        title = (match.group(2) or "").strip()
        headings.append(Heading(match.start(), match.end() - 1, len(match.group(1)), title))
    return headings


class DocumentReader:
    """Reads files into documents, remembering content hashes (duplicates) and the file count across calls."""

    def __init__(self) -> None:
        self.hashes: dict[str, str] = {}  # sha256 of the bytes -> name of the first file with them
        self.next_id = 0
        self.files = 0

    def read_files(self, files: Iterable[tuple[str, bytes]], text_field: str | None = None) -> LoadReport:
        """Read (name, bytes) pairs; every file gets a note, usable ones add documents."""
        report = LoadReport()
        for name, data in files:
            try:
                docs, note = self._read_one(name, data, text_field)
            except InputError as error:
                report.notes.append(FileNote(name, error.code, error.message, True))
                report.duplicates += error.code == "duplicate"
                continue
            report.documents.extend(docs)
            report.notes.append(note)
            report.files_read += 1
        return report

    def read_text(self, text: str, name: str = "pasted text") -> LoadReport:
        """A pasted text as one document (Markdown headings are recognised)."""
        return self.read_files([(name if "." in name else name + ".md", text.encode("utf-8"))])

    def _read_one(self, name: str, data: bytes, text_field: str | None) -> tuple[list[Document], FileNote]:
        """Documents of one file and its note; InputError when it is skipped."""
        if len(data) > MAX_FILE_BYTES:
            note = _too_large(name, len(data))
            raise InputError(note.code, note.message, "files")
        if self.files >= MAX_FILES:
            raise InputError("too_many_files", f"{name} was not read: a collection holds at most {MAX_FILES:,} "
                             "files.", "files")
        if not data.strip():
            raise InputError("empty_file", f"{name} is empty.", "files")
        what = binary_reason(data)
        if what and what != "a PDF":
            raise InputError("binary_file", f"{name} is {what}, not text, and was not read."
                             if what != "binary" else f"{name} is not a text file and was not read.", "files")
        digest = hashlib.sha256(data).hexdigest()
        if digest in self.hashes:
            raise InputError("duplicate", f"{name} has the same content as {self.hashes[digest]} and was left out.",
                             "files")
        replaced = 0
        if what:
            docs, remark = self._pdf_documents(name, data)
        else:
            text, replaced = decode(data)
            text = normalize_newlines(text)
            if _NEEDS_CLEANING.search(text):
                text, _ = remove_control_chars(text)
            docs, remark = self._documents(name, text, kind_of(name), text_field)
        if not docs:
            raise InputError("empty_file", f"{name} has no text.", "files")
        self.hashes[digest] = name
        self.files += 1
        if replaced:
            message = (f"{name} is not valid UTF-8: {_count(replaced, 'character')} could not be read and show as "
                       "\ufffd." + remark)
            return docs, FileNote(name, "not_utf8", message, False)
        return docs, FileNote(name, "read", f"{name} was read.{remark}", False)

    def _documents(self, name: str, text: str, kind: str, text_field: str | None) -> tuple[list[Document], str]:
        """Documents of decoded text by kind (records give one document per row), and a remark for the note."""
        if kind in ("csv", "tsv", "json", "jsonl"):
            table = read_records(name, text, kind, text_field)
            docs = [self._new(name, record.text, "record", record=record.label) for record in table.records]
            remark = f" {_count(len(docs), 'row')} from the \u201c{table.field}\u201d field"
            if table.empty:
                remark += f"; {_count(table.empty, 'row')} without text left out"
            if table.broken:
                remark += f"; {_count(table.broken, 'malformed row')}"
            return docs, remark + "."
        if kind == "html":
            body, headings, title = html_to_text(text)
            return ([self._new(name, body, kind, tuple(headings), title=title)] if body.strip() else []), ""
        if not text.strip():
            return [], ""
        headings = tuple(markdown_headings(text)) if kind == "markdown" else ()
        return [self._new(name, text, kind, headings)], ""

    def _pdf_documents(self, name: str, data: bytes) -> tuple[list[Document], str]:
        """One document per PDF page with text (its record says "page N"), and a remark counting the pages."""
        pages = pdf_pages(name, data)
        docs = []
        for number, page in enumerate(pages, 1):
            if page:
                if _NEEDS_CLEANING.search(page):
                    page, _ = remove_control_chars(page)
                docs.append(self._new(name, page, "pdf", record=f"page {number}"))
        remark = f" {_count(len(docs), 'page')} of text"
        if len(docs) < len(pages):
            remark += f"; {_count(len(pages) - len(docs), 'page')} without text (images only) left out"
        return docs, remark + "."

    def _new(self, name: str, text: str, kind: str, headings: tuple[Heading, ...] = (), record: str = "",
             title: str = "") -> Document:
        """A document with the next id."""
        doc = Document(self.next_id, name, text, kind, headings, record, title)
        self.next_id += 1
        return doc
