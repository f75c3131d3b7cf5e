"""Documents mode's other ways in, in real Chromium: files dropped on the panel (a synthetic DataTransfer dispatched
on the drop zone) load exactly like picked files; a pasted text becomes a document that a query retrieves; the
collection search marks a passage stage 1 never returned, which then shows in "never reached the reranker" with
its K. Every refusal says why in the page and keeps what was typed."""

from __future__ import annotations

from typing import Any

from harness.page import wait_for_done
from test_documents import doc_rows, load_demo, open_documents, wait_indexed

# Fires dragenter, dragover and drop (or only the first `steps`) on `target` with a DataTransfer holding `files`
# ({name, text, type}), `folders` (names the drop reports as directories, as a real folder drop does) and `text`.
DROP_JS = """(spec) => {
  window.__folders = new Set(spec.folders || []);
  if (!window.__entryPatched) {
    // A script cannot put a real folder in a DataTransfer; its item answers webkitGetAsEntry() like one instead.
    const real = DataTransferItem.prototype.webkitGetAsEntry;
    DataTransferItem.prototype.webkitGetAsEntry = function () {
      const file = this.getAsFile();
      return file && window.__folders.has(file.name) ? {isDirectory: true, isFile: false, name: file.name}
                                                     : real.call(this);
    };
    window.__entryPatched = true;
  }
  const transfer = new DataTransfer();
  for (const f of spec.files || []) transfer.items.add(new File([f.text], f.name, {type: f.type || 'text/plain'}));
  for (const name of spec.folders || []) transfer.items.add(new File([], name));
  if (spec.text) transfer.setData('text/plain', spec.text);
  const target = document.querySelector(spec.target || '#documents-drop');
  const zone = document.getElementById('documents-drop');
  const out = {};
  for (const type of (spec.steps || ['dragenter', 'dragover', 'drop'])) {
    const event = new DragEvent(type, {dataTransfer: transfer, bubbles: true, cancelable: true});
    out[type] = !target.dispatchEvent(event);  // true: the page took it (preventDefault)
    out[type + 'State'] = zone.dataset.drag || '';
  }
  return out;
}"""

NOTES = "Tide tables list the times of high water.\n\nThe moon pulls the oceans into two bulges."


def drop(page: Any, **spec: Any) -> dict[str, Any]:
    """Dispatch a synthetic drag and drop; which events the page cancelled and the zone's drag state after each."""
    return page.evaluate(DROP_JS, spec)


def note_codes(page: Any) -> list[str]:
    return page.evaluate("() => [...document.querySelectorAll('.documents-note')].map(li => li.dataset.code)")


def test_dropped_files_load_exactly_like_picked_files(page: Any, base_url: str) -> None:
    """Dragging files over the zone shows it; dropping them reads them through the file input's path, with the
    same notes for binary, empty and duplicate files; leaving the zone clears the state."""
    open_documents(page, base_url)
    over = drop(page, files=[{"name": "notes.md", "text": NOTES}], steps=["dragenter", "dragover"])
    assert over == {"dragenter": True, "dragenterState": "over", "dragover": True, "dragoverState": "over"}
    left = page.evaluate("() => { const zone = document.getElementById('documents-drop');"
                         " zone.dispatchEvent(new DragEvent('dragleave', {bubbles: true, relatedTarget: null}));"
                         " return zone.dataset.drag || ''; }")
    assert left == ""
    result = drop(page, files=[
        {"name": "notes.md", "text": NOTES},
        {"name": "copy.md", "text": NOTES},
        {"name": "photo.png", "text": "\x00\x01\x02\x03" * 64, "type": "image/png"},
        {"name": "empty.txt", "text": ""},
    ])
    assert result["drop"] and result["dropState"] == ""
    status = wait_indexed(page)
    assert status.startswith("1 file,") and "1 duplicate" in status, status
    assert "photo.png" in status and "empty.txt" in status, status
    assert {"duplicate", "binary_file", "empty_file"} <= set(note_codes(page))
    passages = int(page.get_attribute('#funnel [data-stat="passages"]', "data-value"))
    assert passages >= 1
    # Picking more files afterwards adds to what was dropped: one collection, one path.
    page.set_input_files("#documents-files", [{"name": "more.txt", "mimeType": "text/plain",
                                               "buffer": b"Harbour gates close at low tide."}])
    page.wait_for_function("() => document.querySelector('#documents-status .documents-summary')"
                           ".textContent.startsWith('2 files')")
    wait_indexed(page)
    assert int(page.get_attribute('#funnel [data-stat="passages"]', "data-value")) > passages


def test_dropping_a_folder_or_text_says_why_and_keeps_the_collection(page: Any, base_url: str) -> None:
    """A folder is not read (its name is given); dropped text or links are explained; nothing loaded is lost."""
    open_documents(page, base_url)
    drop(page, files=[{"name": "notes.md", "text": NOTES}])
    wait_indexed(page)
    summary = page.inner_text("#documents-status .documents-summary")
    drop(page, folders=["chapters"])
    page.wait_for_function("() => document.getElementById('documents-error').textContent.includes('chapters')")
    assert "is a folder and was not read" in page.inner_text("#documents-error")
    assert page.inner_text("#documents-status .documents-summary") == summary
    # A folder dropped with files: the files are read, the folder is named.
    drop(page, files=[{"name": "tides.txt", "text": "Spring tides follow the full moon."}], folders=["old", "new"])
    page.wait_for_function("() => document.querySelector('#documents-status .documents-summary')"
                           ".textContent.startsWith('2 files')")
    page.wait_for_function("() => document.getElementById('documents-error').textContent.includes('2 folders')")
    assert "“old”, “new”" in page.inner_text("#documents-error")
    text = drop(page, text="some dragged words")
    assert text["drop"] and text["dragoverState"] == ""
    assert "Only files can be dropped here, and that was text" in page.inner_text("#documents-error")
    # Text dragged over the paste box is the box's to take: the panel leaves that drop alone.
    into_box = drop(page, text="words for the box", target="#documents-text", steps=["dragover"])
    assert into_box["dragover"] is False
    assert page.inner_text("#documents-status .documents-summary").startswith("2 files")


def test_a_pasted_text_is_split_indexed_and_retrieved(page: Any, base_url: str) -> None:
    """"Add as document" goes through Python's add_text and the same split + index; a query then reaches it."""
    open_documents(page, base_url)
    assert "5.0 MB" in page.inner_text("#documents-text-hint")
    text = ("# Harbour\n\nThe harbour gate closes two hours before low water.\n\n"
            "# Lighthouse\n\nThe lighthouse keeper logs every passing ship in a blue ledger.")
    page.fill("#documents-text", text)
    page.fill("#documents-text-name", "harbour notes")
    page.click("#documents-text-add")
    page.wait_for_function("() => document.querySelector('#documents-status .documents-summary')"
                           ".textContent.startsWith('1 file')")
    status = wait_indexed(page)
    assert " 2 passages" in status, status
    assert page.input_value("#documents-text") == "" and page.input_value("#documents-text-name") == ""
    assert page.inner_text("#documents-text-error") == ""
    page.fill("#candidates", "10")
    page.fill("#query", "who records the ships in a ledger")
    page.click("#rerank")
    wait_for_done(page)
    rows = doc_rows(page)
    assert rows and rows[0]["source"] == "harbour notes.md", rows
    assert "blue ledger" in rows[0]["text"]
    # The same text again is a duplicate: refused with the reader's message, the box keeps it.
    page.fill("#documents-text", text)
    page.click("#documents-text-add")
    page.wait_for_function("() => document.getElementById('documents-text-error').textContent.includes('same content')")
    assert page.input_value("#documents-text") == text
    assert page.get_attribute("#documents-text", "aria-invalid") == "true"


def test_refused_pastes_say_why_and_keep_the_text(page: Any, base_url: str) -> None:
    """An empty box, a text over the size limit, and a paste that would pass it: a message each, the text stays."""
    open_documents(page, base_url)
    page.fill("#documents-text", "  \n ")
    page.click("#documents-text-add")
    page.wait_for_function("() => document.getElementById('documents-text-error').textContent.includes('no text')")
    assert page.input_value("#documents-text") == "  \n "
    # 2.6 million characters, over 5 MB in UTF-8: Python refuses it and the box keeps every character.
    size = page.evaluate("() => { const line = 'é'.repeat(99) + '\\n';"
                         " document.getElementById('documents-text').value = line.repeat(26_000);"
                         " return document.getElementById('documents-text').value.length; }")
    page.fill("#documents-text-name", "big")
    page.click("#documents-text-add")
    page.wait_for_function("() => document.getElementById('documents-text-error').textContent.includes('5.2 MB')")
    assert "at most 5 MB" in page.inner_text("#documents-text-error")
    assert page.evaluate("() => document.getElementById('documents-text').value.length") == size
    assert page.input_value("#documents-text-name") == "big"
    assert page.inner_text("#documents-status .documents-summary") == "No documents loaded."
    # A paste that alone has more characters than the limit's bytes never reaches the box.
    page.fill("#documents-text", "kept")
    pasted = page.evaluate("() => { const data = new DataTransfer(); data.setData('text/plain', 'x'.repeat(5_000_001));"
                           " const box = document.getElementById('documents-text');"
                           " return !box.dispatchEvent(new ClipboardEvent('paste', {clipboardData: data,"
                           " bubbles: true, cancelable: true})); }")
    assert pasted is True
    assert "Nothing was pasted" in page.inner_text("#documents-text-error")
    assert page.input_value("#documents-text") == "kept"


def test_search_marks_a_passage_stage1_never_returned(page: Any, base_url: str) -> None:
    """Find the answer to the "pay" query by its words, mark it: it joins the relevant set, recall@K counts it
    and it is listed as never having reached the reranker, with the K that would have reached it. Marks and
    ticks in the ranking are one set."""
    open_documents(page, base_url)
    load_demo(page)
    page.fill("#candidates", "10")
    page.fill("#query", "Do I have to pay to use Debian?")
    page.click("#rerank")
    wait_for_done(page)
    assert not page.is_visible("#missed-area")
    page.fill("#collection-search", '"no consortium membership" payment')
    page.press("#collection-search", "Enter")
    found = page.locator("#collection-found li.found-passage")
    found.first.wait_for()
    assert found.count() == 1 and "1 passage contains" in page.inner_text("#collection-found-status")
    hit = found.first
    assert hit.get_attribute("data-source") == "basic-defs.en.html"
    rank = hit.get_attribute("data-rank")
    assert rank and int(rank) > 10, rank
    assert f"stage 1 #{rank}: not among the 10 candidates" in hit.inner_text()
    hit_id = hit.get_attribute("data-id")
    hit.locator("input.found-box").check()
    page.wait_for_selector(f'#missed li[data-source="basic-defs.en.html"][data-id="{hit_id}"]')
    missed = page.locator(f'#missed li[data-id="{hit_id}"]')
    assert missed.get_attribute("data-rank") == rank and f"K = {rank}" in missed.inner_text()
    assert "0 of 1" in page.inner_text("#recall")
    # A tick in the ranking joins the same set, and the search list shows it ticked when it lists that passage.
    first = doc_rows(page)[0]
    page.locator("#results > li.passage .relevance-box").first.check()
    page.wait_for_function("() => document.getElementById('recall').textContent.includes('1 of 2')")
    words = " ".join([w for w in first["text"].split() if w.isalnum()][:6])
    page.fill("#collection-search", words)
    page.click("#collection-search-go")
    listed = page.locator(f'#collection-found li[data-id="{first["index"]}"]')
    listed.wait_for()
    assert listed.locator("input.found-box").is_checked()
    assert "among the 10 candidates" in listed.inner_text()
    # Unmarking in the search list unticks the ranking's row too.
    listed.locator("input.found-box").uncheck()
    page.wait_for_function("() => document.getElementById('recall').textContent.includes('0 of 1')")
    page.wait_for_function("(i) => document.querySelector(`#results > li.passage[data-index=\"${i}\"]`)"
                           ".dataset.relevance === '0'", arg=first["index"])
    # And unmarking the missed passage empties "never reached the reranker".
    page.fill("#collection-search", '"no consortium membership"')
    page.press("#collection-search", "Enter")
    page.locator(f'#collection-found li[data-id="{hit_id}"] input.found-box:checked').wait_for()
    page.locator(f'#collection-found li[data-id="{hit_id}"] input.found-box').uncheck()
    page.wait_for_function("() => document.querySelectorAll('#missed li').length === 0")
    assert not page.is_visible("#missed-area")


def test_search_refusals_and_searching_before_any_query(page: Any, base_url: str) -> None:
    """A blank search and a search of an empty collection say why; before any query the hits carry no stage-1
    place, and a mark waits for the next query's funnel."""
    open_documents(page, base_url)
    page.fill("#collection-search", "tides")
    page.press("#collection-search", "Enter")
    page.wait_for_function("() => document.getElementById('collection-search-error')"
                           ".textContent.includes('Add documents')")
    assert page.get_attribute("#collection-search", "aria-invalid") == "true"
    load_demo(page)
    page.fill("#collection-search", '  ""  ')
    page.press("#collection-search", "Enter")
    page.wait_for_function("() => document.getElementById('collection-search-error')"
                           ".textContent.includes('Type a word')")
    page.fill("#collection-search", "zzqxv")
    page.press("#collection-search", "Enter")
    page.wait_for_function("() => document.getElementById('collection-found-status')"
                           ".textContent.startsWith('No passage')")
    assert not page.is_visible("#collection-found")
    page.fill("#collection-search", "package")
    page.press("#collection-search", "Enter")
    page.wait_for_function("() => document.getElementById('collection-found-status')"
                           ".textContent.includes('are listed')")
    assert page.locator("#collection-found li.found-passage").count() == 50
    first = page.locator("#collection-found li.found-passage").first
    assert first.get_attribute("data-rank") == "" and " — " not in first.locator(".passage-source").inner_text()
    assert page.locator("#collection-found script, #collection-found img").count() == 0
