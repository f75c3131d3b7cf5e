"""Text of a PDF's pages through pypdf (pure Python; the page loads its pinned wheel when the first PDF arrives).

Encrypted, image-only and broken PDFs raise InputError with a sentence saying which and what to do instead.
"""

import importlib
import importlib.util
import io
import logging
import re
import sys
import tempfile
from pathlib import Path

from .errors import InputError

PDF_READER = "pypdf"
# Ligatures print-to-PDF keeps as one glyph ("ﬁ"): split so "ﬁsh" matches a query for "fish".
_LIGATURES = str.maketrans({"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl",
                            "\ufb05": "st", "\ufb06": "st"})
_BLANK_RUNS = re.compile(r"[ \t]*(?:\n[ \t]*){2,}|[ \t]+(?=\n)")
# A proportional font whose space measures at least half an em is a CID font's default width, not a real space
# (real ones are 0.2-0.35 em); pypdf would then need a wider gap than the word gaps to see a space.
_IMPLAUSIBLE_SPACE = 500
_PLAUSIBLE_SPACE = 250
_patched = False


def pdf_reader_available() -> bool:
    """True when pypdf can be imported (installed in CPython; in the page once its wheel is on sys.path)."""
    return importlib.util.find_spec(PDF_READER) is not None


def install_reader(wheel_name: str, data: bytes) -> bool:
    """Put the page's pypdf wheel (a pure-Python zip, imported as is) on sys.path; True when pypdf can be imported."""
    if not pdf_reader_available():
        path = Path(tempfile.gettempdir()) / Path(wheel_name).name
        path.write_bytes(data)
        sys.path.insert(0, str(path))
        importlib.invalidate_caches()
    return pdf_reader_available()


def _fix_space_widths() -> None:
    """Make pypdf see word gaps in PDFs whose fonts report no usable space width (XeTeX/xdvipdfmx output)."""
    global _patched
    if _patched:
        return
    from pypdf.generic._font import Font  # noqa: PLC0415 - pinned pypdf 7.1.1's font metrics

    original = Font.from_font_resource.__func__

    def from_font_resource(cls: type, resource: object) -> object:
        font = original(cls, resource)
        fixed_pitch = font.font_descriptor.flags & 1
        if font.space_width >= _IMPLAUSIBLE_SPACE and not fixed_pitch:
            font.space_width = _PLAUSIBLE_SPACE
        return font

    Font.from_font_resource = classmethod(from_font_resource)
    _patched = True


def _clean(text: str) -> str:
    """Ligatures split, trailing blanks and runs of blank lines removed."""
    text = text.translate(_LIGATURES).replace("\r\n", "\n").replace("\r", "\n")
    return _BLANK_RUNS.sub(lambda m: "\n\n" if "\n" in m.group(0) else "", text).strip()


def pdf_pages(name: str, data: bytes) -> list[str]:
    """The text of every page of a PDF, in order ("" for a page without text); InputError when it cannot be read."""
    if not pdf_reader_available():
        raise InputError("pdf_unavailable", f"{name} is a PDF, and the page's PDF reader is not loaded, so it was not "
                         "read: save it as text (or print it to a text file) and add that.", "files")
    import pypdf  # noqa: PLC0415 - loaded with the first PDF, never at start-up
    from pypdf.errors import PdfReadError  # noqa: PLC0415

    _fix_space_widths()
    logging.getLogger("pypdf").setLevel(logging.ERROR)  # its warnings would reach the console as noise
    broken = InputError("pdf_broken", f"{name} looks like a PDF but is damaged or not a PDF this page can read, "
                        "and was not read. Open it in a PDF viewer and save or print it again as PDF (or as "
                        "text), then add that.", "files")
    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not _open_encrypted(reader):
            raise InputError("pdf_encrypted", f"{name} is an encrypted (password-protected) PDF and was not read. "
                             "Open it with its password and save a copy without protection, or save it as text, "
                             "then add that.", "files")
        pages = [_clean(page.extract_text() or "") for page in reader.pages]
    except InputError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError, OSError, RecursionError,
            NotImplementedError, AssertionError, ZeroDivisionError):
        raise broken from None
    if not pages:
        raise broken
    if not any(pages):
        raise InputError("pdf_no_text", f"{name} is a PDF without a text layer (scanned pages or images only), so "
                         "there is no text to read. Run it through OCR, or save it as text, then add that.", "files")
    return pages


def _open_encrypted(reader: object) -> bool:
    """Decrypt with the empty password (PDFs locked only against editing); False when that is not enough."""
    try:
        return bool(reader.decrypt(""))  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - pypdf raises several kinds (e.g. AES needs a missing crypto library)
        return False
