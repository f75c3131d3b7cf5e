"""Documents mode, reading files (issue 24): every format, and each bad-input case gets its own clear message."""

import codecs
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reranker.documents import DocumentReader, binary_reason, check_files, decode, kind_of, markdown_headings
from reranker.errors import InputError
from reranker.htmltext import html_to_text
from reranker.limits import MAX_FILE_BYTES, MAX_FILES
from reranker.records import choose_field, read_records


def read(name, data, text_field=None, reader=None):
    """One file through a (new) reader: (report, the file's note)."""
    reader = reader or DocumentReader()
    report = reader.read_files([(name, data if isinstance(data, bytes) else data.encode())], text_field)
    return report, report.notes[0]


def test_plain_text_file_is_one_document():
    report, note = read("notes.txt", "First paragraph.\n\nSecond one.\n")
    assert note.code == "read" and not note.skipped and report.files_read == 1
    (doc,) = report.documents
    assert doc.source == "notes.txt" and doc.kind == "text" and doc.text.startswith("First") and doc.headings == ()


def test_markdown_headings_are_found_outside_code_fences():
    text = "# Title\n\nIntro.\n\n## Install ##\n\nSteps.\n\n```\n# not a heading\n```\n\n### Deep\ntext"
    report, _ = read("guide.md", text)
    headings = report.documents[0].headings
    assert [(h.level, h.title) for h in headings] == [(1, "Title"), (2, "Install"), (3, "Deep")]
    assert all(text[h.start:h.end].lstrip().startswith("#") for h in headings)


def test_markdown_headings_helper_on_empty_heading():
    assert [(h.level, h.title) for h in markdown_headings("#\n\ntext")] == [(1, "")]


def test_markdown_headings_spans_at_the_start_on_consecutive_lines_and_at_the_end():
    text = "# One\n## Two ##\n   ### Three\n    #### indented code\n####### seven\n#no space\n###### Six\t\n##"
    found = [(h.start, h.end, h.level, h.title) for h in markdown_headings(text)]
    starts = [0, text.index("## Two"), text.index("   ### Three"), text.index("###### Six"), len(text) - 2]
    assert [f[0] for f in found] == starts
    assert [(level, title) for _, _, level, title in found] == [(1, "One"), (2, "Two"), (3, "Three"), (6, "Six"),
                                                                 (2, "")]
    assert [text[start:end] for start, end, _, _ in found] == ["# One", "## Two ##", "   ### Three", "###### Six\t",
                                                               "##"]


def test_html_visible_text_only_scripts_and_styles_dropped_markup_text_kept():
    page = ("<html><head><title>T</title><style>p{color:red}</style><script>alert('x')</script></head>"
            "<body><h1>Heading</h1><p>Hello &amp; <b>bold</b>\n world</p><p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"
            "<noscript>enable js</noscript><pre>a\n  b</pre><ul><li>one</li><li>two<br>three</li></ul></body></html>")
    report, note = read("page.html", page)
    doc = report.documents[0]
    assert note.code == "read" and doc.title == "T"
    assert "alert('x')" not in doc.text and "color:red" not in doc.text and "enable js" not in doc.text
    assert "<script>alert(1)</script>" in doc.text  # escaped markup is shown as text
    assert doc.text.split("\n\n") == ["Heading", "Hello & bold world", "<script>alert(1)</script>", "a\n  b", "one",
                                      "two\nthree"]
    (heading,) = doc.headings
    assert doc.text[heading.start:heading.end] == "Heading" and heading.level == 1


def test_html_unclosed_head_and_nested_dropped_elements():
    text, headings, title = html_to_text("<head><title>X</title><body><h2>A</h2><svg><svg>s</svg>t</svg>B")
    assert text == "A\n\nB" and title == "X" and headings[0].level == 2


def test_html_with_only_markup_has_no_text():
    _, note = read("empty.html", "<html><script>var a = 1;</script></html>")
    assert note.skipped and note.code == "empty_file"


def test_csv_text_column_detected_and_rows_become_documents():
    data = "id,title,body,score\n1,Alpha,The first long body text here,0.5\n2,Beta,Second body,0.2\n3,Gamma,,1\n"
    report, note = read("rows.csv", data)
    assert [d.text for d in report.documents] == ["The first long body text here", "Second body"]
    assert [d.record for d in report.documents] == ["row 1: Alpha", "row 2: Beta"]
    assert "\u201cbody\u201d field" in note.message and "1 row without text" in note.message


def test_csv_named_column_and_missing_column():
    data = "question;answer\nWhat?;Because.\n"
    report, _ = read("qa.csv", data, text_field="Question")
    assert [d.text for d in report.documents] == ["What?"]
    _, note = read("qa.csv", data, text_field="nope")
    assert note.skipped and note.code == "no_text_field" and "\u201cquestion\u201d" in note.message


def test_tsv_and_preferred_field_name():
    report, _ = read("t.tsv", "text\tnotes\nshort\ta much longer note that is not the text\n")
    assert [d.text for d in report.documents] == ["short"]


def test_json_array_object_with_list_and_strings():
    rows = [{"id": 7, "content": "alpha text"}, {"id": 8, "content": "beta text", "nested": {"x": 1}}]
    report, _ = read("a.json", json.dumps(rows))
    assert [(d.text, d.record) for d in report.documents] == [("alpha text", "row 1: 7"), ("beta text", "row 2: 8")]
    report, _ = read("b.json", json.dumps({"meta": 1, "documents": ["one", "two"]}))
    assert [d.text for d in report.documents] == ["one", "two"]


def test_jsonl_with_broken_lines_counted():
    data = '{"text": "a"}\nnot json\n{"text": "b"}\n[1, 2]\n\n'
    report, note = read("a.jsonl", data)
    assert [d.text for d in report.documents] == ["a", "b"] and "2 malformed rows" in note.message


@pytest.mark.parametrize("name,data,code", [
    ("bad.json", "{not json", "bad_json"),
    ("num.json", "42", "bad_json"),
    ("empty.json", "[]", "no_records"),
    ("nums.csv", "a,b\n1,2\n", "no_text_field"),
    ("blank.csv", "text\n\n", "no_records"),
    ("allempty.jsonl", '{"text": ""}\n', "no_records"),
])
def test_record_files_that_cannot_be_used(name, data, code):
    _, note = read(name, data)
    assert note.skipped and note.code == code and name in note.message


def test_choose_field_prefers_longest_text_when_no_usual_name():
    rows = [{"a": "x", "b": "a much longer value", "c": "123456789012345678901234567890"}]
    assert choose_field("f", rows) == "b"
    with pytest.raises(InputError):
        read_records("f.json", "[1, 2]", "json")


@pytest.mark.parametrize("data", [b"", b"   \n\t\n"])
def test_empty_file(data):
    report, note = read("empty.txt", data)
    assert note.skipped and note.code == "empty_file" and "empty.txt is empty" in note.message
    assert report.documents == [] and report.files_read == 0


@pytest.mark.parametrize("data,what", [
    (b"PK\x03\x04rest", "a ZIP archive"), (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\x7fELF\x02", "a program"), (b"abc\x00def", "not a text file"), (bytes(range(1, 32)) * 10, "not a text file"),
])
def test_binary_files_are_named_and_skipped(data, what):
    _, note = read("file.txt", data)
    assert note.skipped and note.code == "binary_file" and what in note.message


def test_a_damaged_pdf_is_named_and_skipped():
    _, note = read("file.txt", b"%PDF-1.7\n...")
    assert note.skipped and note.code == "pdf_broken" and "looks like a PDF but is damaged" in note.message


def test_binary_reason_accepts_utf16_with_bom_and_text_with_tabs():
    assert binary_reason(codecs.BOM_UTF16_LE + "hi".encode("utf-16-le")) is None
    assert binary_reason(b"col\tcol\r\nline\x0c\n") is None


def test_non_utf8_is_decoded_with_replacement_and_reported():
    report, note = read("latin1.txt", "caf\u00e9 cr\u00e8me".encode("latin-1"))
    assert note.code == "not_utf8" and not note.skipped and "2 characters" in note.message and "\ufffd" in note.message
    assert report.documents[0].text == "caf\ufffd cr\ufffdme"


def test_decode_boms_and_existing_replacement_characters():
    assert decode(codecs.BOM_UTF8 + "x".encode()) == ("x", 0)
    assert decode(codecs.BOM_UTF16_BE + "h\u00e9".encode("utf-16-be")) == ("h\u00e9", 0)
    assert decode("\ufffd ok".encode()) == ("\ufffd ok", 0)
    assert decode(b"\xff" + "\ufffd".encode()) == ("\ufffd\ufffd", 1)


def test_control_characters_removed_and_newlines_normalised():
    report, _ = read("a.txt", "a\r\nb\x07c\rd")
    assert report.documents[0].text == "a\nbc\nd"


def test_file_over_the_size_limit_states_the_limit():
    _, note = read("big.txt", b"a" * (MAX_FILE_BYTES + 1))
    assert note.skipped and note.code == "file_too_large" and f"{MAX_FILE_BYTES // 1_000_000} MB" in note.message


def test_check_files_before_reading_flags_size_and_count():
    files = [("big.txt", MAX_FILE_BYTES + 1)] + [(f"{i}.txt", 10) for i in range(MAX_FILES + 3)]
    notes = check_files(files)
    assert notes[0].code == "file_too_large"
    assert [n.name for n in notes[1:]] == [f"{i}.txt" for i in range(MAX_FILES, MAX_FILES + 3)]
    assert all(n.code == "too_many_files" and f"{MAX_FILES:,} files" in n.message for n in notes[1:])


def test_twenty_thousand_files_keep_the_first_ones_and_say_why():
    reader = DocumentReader()
    report = reader.read_files((f"f{i}.txt", f"text {i}".encode()) for i in range(20_000))
    assert report.files_read == MAX_FILES and len(report.documents) == MAX_FILES
    skipped = report.skipped
    assert report.summary() == f"Read {MAX_FILES:,} files, {20_000 - MAX_FILES:,} files skipped ({20_000 - MAX_FILES:,} " \
                               f"over the {MAX_FILES:,}-file limit)."
    assert len(skipped) == 20_000 - MAX_FILES and {n.code for n in skipped} == {"too_many_files"}
    later = reader.read_files([("more.txt", b"more")])
    assert later.notes[0].code == "too_many_files" and reader.files == MAX_FILES


def test_duplicates_by_content_are_counted_across_calls():
    reader = DocumentReader()
    first = reader.read_files([("a.txt", b"same"), ("b.txt", b"same"), ("c.txt", b"other")])
    assert first.duplicates == 1 and first.files_read == 2
    assert first.notes[1].code == "duplicate" and "same content as a.txt" in first.notes[1].message
    second = reader.read_files([("d.txt", b"same")])
    assert second.duplicates == 1 and second.documents == []
    assert first.summary() == "Read 2 files, 1 duplicate file left out."


def test_summary_with_records_and_skips():
    reader = DocumentReader()
    report = reader.read_files([("r.jsonl", b'{"text":"a"}\n{"text":"b"}'), ("x.bin", b"\x00\x01")])
    assert report.summary() == "Read 1 file (2 documents), 1 file skipped (1 not text)."
    assert report.to_dict()["filesRead"] == 1 and report.to_dict()["notes"][1]["code"] == "binary_file"


def test_a_skipped_file_loses_nothing_already_read():
    reader = DocumentReader()
    reader.read_files([("a.txt", b"alpha")])
    report = reader.read_files([("b.txt", b"\x00"), ("c.txt", b"gamma")])
    assert [d.id for d in report.documents] == [1] and reader.next_id == 2


def test_pasted_text_is_markdown():
    report = DocumentReader().read_text("# Head\n\nbody")
    doc = report.documents[0]
    assert doc.source == "pasted text.md" and doc.kind == "markdown" and doc.headings[0].title == "Head"


@pytest.mark.parametrize("name,kind", [("a.TXT", "text"), ("b.Markdown", "markdown"), ("c.htm", "html"),
                                       ("d.ndjson", "jsonl"), ("noext", "text"), ("e.py", "text")])
def test_kind_of(name, kind):
    assert kind_of(name) == kind


@given(st.binary(max_size=300))
@settings(max_examples=200, deadline=None)
def test_any_bytes_give_a_note_and_never_raise(data):
    report, note = read("any.txt", data)
    assert note.code in {"read", "not_utf8", "empty_file", "binary_file", "pdf_broken", "pdf_no_text",
                         "pdf_encrypted"} and note.message
    assert note.skipped == (not report.documents)


@given(st.text(max_size=300))
@settings(max_examples=200, deadline=None)
def test_any_html_extracts_without_raising_and_headings_point_into_text(markup):
    text, headings, _ = html_to_text(markup)
    for heading in headings:
        assert text[heading.start:heading.end].strip() == text[heading.start:heading.end]
        assert 1 <= heading.level <= 6


@given(st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=200))
@settings(max_examples=200, deadline=None)
def test_read_text_is_cleaned_like_pasted_passages(text):
    from reranker.text import normalize_newlines, remove_control_chars

    report = DocumentReader().read_files([("t.txt", text.encode("utf-8"))])
    expected, _ = remove_control_chars(normalize_newlines(text))
    if report.documents:
        assert report.documents[0].text == expected
    else:
        assert not expected.strip() or report.notes[0].code == "binary_file"
