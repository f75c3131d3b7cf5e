"""Share strings: round trips, compression, presets, versioning and damaged input."""

import base64
import json
import re
import zlib

import pytest

from reranker import ShareError, ShareState, decode_share, encode_share, format_passages, matches_preset

URL_SAFE = re.compile(r"[A-Za-z0-9_.-]+")


def test_short_state_is_plain_and_round_trips():
    state = ShareState(query="tides", passages=["a", "b"], model="m", labels=[2, None], threshold=0.3, top_k=1)
    encoded = encode_share(state)
    assert encoded.startswith("1j.") and URL_SAFE.fullmatch(encoded)
    assert decode_share(encoded) == state


def test_long_state_is_compressed_and_much_shorter():
    passages = [f"passage number {i} about the moon and the tides" for i in range(200)]
    state = ShareState(query="what causes tides", passages=passages, model="m", mode="paragraphs")
    encoded = encode_share(state)
    assert encoded.startswith("1z.") and URL_SAFE.fullmatch(encoded)
    assert len(encoded) < len(json.dumps(passages)) / 4
    assert decode_share(encoded) == state


def test_an_unchanged_preset_shares_as_its_id():
    assert encode_share(ShareState(preset="rag-tides")) == "1p.rag-tides"
    assert decode_share("1p.rag-tides") == ShareState(preset="rag-tides")
    with_model = ShareState(preset="rag-tides", model="other", top_k=3)
    assert decode_share(encode_share(with_model)) == with_model


def test_matches_preset():
    preset = {"id": "x", "query": "q", "passages": [{"text": "a", "relevance": 2}, {"text": "b", "relevance": 0}]}
    assert matches_preset(ShareState(query="q", passages=["a", "b"], labels=[2, 0]), preset)
    assert not matches_preset(ShareState(query="q", passages=["a", "b"], labels=[2, 1]), preset)
    assert not matches_preset(ShareState(query="q", passages=["a", "c"], labels=[2, 0]), preset)


@pytest.mark.parametrize("text, code", [
    ("", "share_empty"),
    ("hello world", "share_damaged"),
    ("1j.", "share_damaged"),
    ("1j.!!!!", "share_damaged"),
    ("1j.eyJ2Ijox", "share_damaged"),                                    # cut short
    ("1z." + base64.urlsafe_b64encode(b"not zlib").decode(), "share_damaged"),
    ("1z." + base64.urlsafe_b64encode(zlib.compress(b'{"v":1,"q":"x"}')[:-6]).decode(), "share_damaged"),
    ("1j." + base64.urlsafe_b64encode(b"[1,2]").decode(), "share_bad_field"),
    ("1j." + base64.urlsafe_b64encode(b'{"v":1,"p":[1]}').decode(), "share_bad_field"),
    ("1j." + base64.urlsafe_b64encode(b'{"v":1,"p":["a"],"l":[1,2]}').decode(), "share_bad_field"),
    ("1j." + base64.urlsafe_b64encode(b'{"v":1,"t":7}').decode(), "share_bad_field"),
    ("1j." + base64.urlsafe_b64encode(b'{"v":1,"k":0}').decode(), "share_bad_field"),
    ("1j." + base64.urlsafe_b64encode(b'{"v":1,"f":"xml"}').decode(), "share_bad_field"),
    ("1j." + base64.urlsafe_b64encode(b'{"q":"no version"}').decode(), "share_bad_field"),
    ("1j." + base64.urlsafe_b64encode(b"\xff\xfe").decode(), "share_damaged"),
    ("1p.Not_Valid!", "share_bad_preset"),
    ("0j.abc", "share_damaged"),
    ("1x.abc", "share_damaged"),
])
def test_damaged_links_get_specific_errors(text, code):
    with pytest.raises(ShareError) as info:
        decode_share(text)
    assert info.value.code == code and info.value.field == "share"
    assert info.value.message.endswith(".")


@pytest.mark.parametrize("text", ["2z.abc", "17j.whatever", "9p.some-preset",
                                  "1j." + base64.urlsafe_b64encode(b'{"v":2,"q":"x"}').decode()])
def test_links_from_a_future_version_say_so(text):
    with pytest.raises(ShareError) as info:
        decode_share(text)
    assert info.value.code == "share_future_version" and "newer version" in info.value.message


def test_a_decompression_bomb_is_refused():
    bomb = zlib.compress(b'{"v":1,"q":"' + b"a" * 50_000_000 + b'"}', 9)
    with pytest.raises(ShareError) as info:
        decode_share("1z." + base64.urlsafe_b64encode(bomb).decode().rstrip("="))
    assert info.value.code == "share_too_large"


def test_format_passages_restores_textarea_content():
    assert format_passages(["a", "b"], "lines") == ("a\nb", "lines")
    assert format_passages(["a\nb", "c"], "paragraphs") == ("a\nb\n\nc", "paragraphs")
    text, mode = format_passages(["two\nlines", "x"], "lines")        # not representable as lines
    assert mode == "json" and json.loads(text) == ["two\nlines", "x"]
    text, mode = format_passages(["1. a", "2. b"], "lines")             # markers would be stripped again
    assert mode == "json"
