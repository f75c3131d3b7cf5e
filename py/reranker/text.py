"""Small text-cleaning helpers shared by parsing and share decoding."""

import re
import unicodedata

_NEWLINES = re.compile(r"\r\n?")
_WHITESPACE_RUN = re.compile(r"\s+")


def normalize_newlines(text: str) -> str:
    """Turn CRLF and lone CR into LF."""
    return _NEWLINES.sub("\n", text)


def remove_control_chars(text: str) -> tuple[str, int]:
    """Drop C0/C1 control characters (NUL included) except tab and newline; lone surrogates become U+FFFD.

    Returns the cleaned text and how many characters were removed or replaced.
    """
    if text.isprintable():
        return text, 0
    out: list[str] = []
    removed = 0
    for ch in text:
        if ch in "\t\n":
            out.append(ch)
            continue
        category = unicodedata.category(ch)
        if category == "Cc":
            removed += 1
        elif category == "Cs":
            out.append("\ufffd")
            removed += 1
        else:
            out.append(ch)
    return "".join(out), removed


def collapse_whitespace(text: str) -> str:
    """Collapse every whitespace run to one space and trim the ends."""
    return _WHITESPACE_RUN.sub(" ", text).strip()
