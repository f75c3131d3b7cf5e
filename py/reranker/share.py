"""Share links: versioned, URL-safe encoding of the page state; plain when short, zlib when long.

Formats (the leading digit is the version): `1p.<preset-id>` a built-in preset unchanged,
`1j.<base64url JSON>` short states, `1z.<base64url zlib JSON>` long ones.
"""

import base64
import binascii
import json
import re
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from .errors import ShareError
from .limits import MAX_PASSAGE_CHARS, MAX_PASSAGES, MAX_QUERY_CHARS, MAX_TOTAL_CHARS, SHARE_MAX_DECODED_BYTES
from .parse import MODES

SHARE_VERSION = 1
COMPRESS_FROM = 160  # JSON bytes: below this the plain form is used (readable, and zlib would not help)
_PRESET_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
_PREFIX = re.compile(r"(\d{1,4})([a-z])\.(.*)", re.DOTALL)


@dataclass
class ShareState:
    """Everything a link restores; `preset` set means "load that preset" (query/passages then empty)."""

    query: str = ""
    passages: list[str] = field(default_factory=list)
    model: str = ""
    labels: list[int | None] = field(default_factory=list)
    threshold: float | None = 0.5
    top_k: int | None = None
    mode: str = "lines"
    preset: str | None = None

    def to_dict(self) -> dict:
        """JSON-able form for the glue."""
        return {"query": self.query, "passages": list(self.passages), "model": self.model,
                "labels": list(self.labels), "threshold": self.threshold, "topK": self.top_k,
                "mode": self.mode, "preset": self.preset}


_DEFAULTS = ShareState()


def encode_share(state: ShareState) -> str:
    """URL-safe string for `state` (characters A-Z a-z 0-9 - _ .)."""
    payload = _to_payload(state)
    if state.preset is not None and set(payload) == {"v", "s"}:
        return f"{SHARE_VERSION}p.{state.preset}"
    raw = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    if len(raw) >= COMPRESS_FROM:
        packed = zlib.compress(raw, 9)
        if len(packed) < len(raw):
            return f"{SHARE_VERSION}z.{_b64encode(packed)}"
    return f"{SHARE_VERSION}j.{_b64encode(raw)}"


def decode_share(text: str) -> ShareState:
    """Parse a share string; any problem raises ShareError with a sentence for the user, never anything else."""
    try:
        return _decode(text)
    except ShareError:
        raise
    except Exception as exc:  # defensive: a damaged link must never surface as an unexpected exception
        raise ShareError("share_damaged", "This share link is damaged and cannot be opened "
                         f"({type(exc).__name__}).") from None


def matches_preset(state: ShareState, preset: Mapping) -> bool:
    """True when query, passages and labels equal a preset's (so the link can be just its id)."""
    items = preset.get("passages") or []
    texts = [item["text"] if isinstance(item, Mapping) else item for item in items]
    labels = [item.get("relevance") if isinstance(item, Mapping) else None for item in items]
    own_labels = list(state.labels) or [None] * len(state.passages)
    return state.query == preset.get("query") and list(state.passages) == texts and own_labels == labels


def _b64encode(data: bytes) -> str:
    """base64url without padding."""
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _b64decode(text: str) -> bytes:
    """Strict base64url decode (padding optional)."""
    if not re.fullmatch(r"[A-Za-z0-9_-]*={0,2}", text):
        raise ShareError("share_damaged", "This share link is damaged: it contains characters a share link "
                         "never has (was it cut or re-wrapped?).")
    try:
        text = text.rstrip("=")
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise ShareError("share_damaged", "This share link is damaged: it is cut short.") from None


def _to_payload(state: ShareState) -> dict:
    """Compact dict with only the fields that differ from the defaults."""
    payload: dict = {"v": SHARE_VERSION}
    if state.preset is not None:
        if not _PRESET_ID.fullmatch(state.preset):
            raise ValueError(f"Preset ids are lower-case letters, digits and dashes (got {state.preset!r}).")
        payload["s"] = state.preset
    if state.query:
        payload["q"] = state.query
    if state.passages:
        payload["p"] = list(state.passages)
    if any(label is not None for label in state.labels):
        if len(state.labels) != len(state.passages):
            raise ValueError("There must be one label (or None) per passage.")
        payload["l"] = list(state.labels)
    if state.model:
        payload["m"] = state.model
    if state.threshold != _DEFAULTS.threshold:
        payload["t"] = state.threshold
    if state.top_k != _DEFAULTS.top_k:
        payload["k"] = state.top_k
    if state.mode != _DEFAULTS.mode:
        payload["f"] = state.mode
    return payload


def _decode(text: str) -> ShareState:
    """Decode without the catch-all guard."""
    if not isinstance(text, str) or not text.strip():
        raise ShareError("share_empty", "The share link has no state in it.")
    match = _PREFIX.fullmatch(text.strip())
    if not match:
        raise ShareError("share_damaged", "This is not a share link from this page (unknown format).")
    version, kind, body = int(match.group(1)), match.group(2), match.group(3)
    if version > SHARE_VERSION:
        raise ShareError("share_future_version", f"This link was made by a newer version of the page (format "
                         f"{version}; this page reads up to {SHARE_VERSION}). Open it with the latest page.")
    if version < 1 or kind not in "pjz":
        raise ShareError("share_damaged", "This is not a share link from this page (unknown format).")
    if kind == "p":
        if not _PRESET_ID.fullmatch(body):
            raise ShareError("share_bad_preset", "This link names a preset with an invalid id.")
        return ShareState(preset=body)
    data = _b64decode(body)
    if kind == "z":
        data = _inflate(data)
    if len(data) > SHARE_MAX_DECODED_BYTES:
        raise ShareError("share_too_large", "This share link holds more text than the page accepts.")
    try:
        payload = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ShareError("share_damaged", "This share link is damaged: its content is not readable.") from None
    return _from_payload(payload)


def _inflate(data: bytes) -> bytes:
    """zlib-decompress with an output cap, so a crafted link cannot exhaust memory."""
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, SHARE_MAX_DECODED_BYTES + 1)
    except zlib.error:
        raise ShareError("share_damaged", "This share link is damaged: its compressed data is corrupt.") from None
    if len(out) > SHARE_MAX_DECODED_BYTES:
        raise ShareError("share_too_large", "This share link holds more text than the page accepts.")
    if not inflater.eof:
        raise ShareError("share_damaged", "This share link is damaged: it is cut short.")
    return out


def _bad(what: str) -> ShareError:
    """ShareError for a field with the wrong shape."""
    return ShareError("share_bad_field", f"This share link is damaged: {what}.")


def _from_payload(payload: object) -> ShareState:
    """Validate every field's type and range."""
    if not isinstance(payload, dict):
        raise _bad("its content is not a state object")
    version = payload.get("v")
    if isinstance(version, int) and not isinstance(version, bool) and version > SHARE_VERSION:
        raise ShareError("share_future_version", f"This link was made by a newer version of the page (format "
                         f"{version}; this page reads up to {SHARE_VERSION}). Open it with the latest page.")
    if version != SHARE_VERSION:
        raise _bad("its version marker is missing")
    query = payload.get("q", "")
    if not isinstance(query, str) or len(query) > MAX_QUERY_CHARS:
        raise _bad("the query is not text or too long")
    passages = payload.get("p", [])
    if not isinstance(passages, list) or not all(isinstance(p, str) for p in passages):
        raise _bad("the passages are not a list of text")
    if len(passages) > MAX_PASSAGES or any(len(p) > MAX_PASSAGE_CHARS for p in passages) \
            or sum(map(len, passages)) > MAX_TOTAL_CHARS:
        raise ShareError("share_too_large", "This share link holds more passages or text than the page accepts.")
    labels = payload.get("l", [])
    if not isinstance(labels, list) or (labels and len(labels) != len(passages)) \
            or not all(label in (0, 1, 2, None) and not isinstance(label, bool) for label in labels):
        raise _bad("the relevance labels do not match the passages")
    model = payload.get("m", "")
    if not isinstance(model, str) or len(model) > 200:
        raise _bad("the model id is not text")
    threshold = payload.get("t", _DEFAULTS.threshold)
    if threshold is not None and (isinstance(threshold, bool) or not isinstance(threshold, (int, float))
                                  or not 0 <= threshold <= 1):
        raise _bad("the threshold is not a number between 0 and 1")
    top_k = payload.get("k", _DEFAULTS.top_k)
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1):
        raise _bad("the top-k cut is not a positive whole number")
    mode = payload.get("f", _DEFAULTS.mode)
    if mode not in MODES:
        raise _bad("the passage format is unknown")
    preset = payload.get("s")
    if preset is not None and (not isinstance(preset, str) or not _PRESET_ID.fullmatch(preset)):
        raise ShareError("share_bad_preset", "This link names a preset with an invalid id.")
    return ShareState(query, passages, model, [int(x) if x is not None else None for x in labels],
                      None if threshold is None else float(threshold), top_k, mode, preset)


def format_passages(texts: Sequence[str], mode: str = "lines") -> tuple[str, str]:
    """Textarea content that parses back to exactly `texts`: (text, mode); falls back to JSON when needed."""
    from .errors import InputError
    from .parse import parse_passages

    if mode in ("lines", "paragraphs", "auto"):
        joiner = "\n" if mode == "lines" else "\n\n"
        candidate = joiner.join(texts)
        use = "lines" if mode == "lines" else "paragraphs"
        try:
            if parse_passages(candidate, use).texts == list(texts):
                return candidate, use
        except InputError:
            pass
    return json.dumps(list(texts), ensure_ascii=False, indent=1), "json"
