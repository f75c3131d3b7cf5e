"""Privacy is enforced, not promised: a whole scoring session stays on 127.0.0.1, the typed text never
enters the URL (unless Share is pressed, and even then only the share box), the device keeps only the
model cache, the build's Python start-up snapshot and the theme choice, and "Clear stored data" removes them (the
page then downloads the model again)."""

from __future__ import annotations

import re
from typing import Any

from harness import wait_for_phase
from harness.faults import fresh_guard, fulfil_with
from harness.page import (PYTHON_SNAPSHOT_KEPT_JS, RUN_TIMEOUT_MS, assert_final_order, load_preset, open_page,
                          rows, run, wait_for_done)
from harness.paths import ROOT
from test_documents import open_documents, wait_indexed

SECRET = "Confidential-Zebra-4711"

STORAGE_JS = """async () => {
  const local = Object.fromEntries(Object.keys(localStorage).map((k) => [k, localStorage.getItem(k)]));
  const session = Object.fromEntries(Object.keys(sessionStorage).map((k) => [k, sessionStorage.getItem(k)]));
  const caches_ = {};
  for (const name of await caches.keys()) {
    caches_[name] = (await (await caches.open(name)).keys()).map((r) => r.url);
  }
  // IndexedDB: every database, store, key and value (binary decoded as UTF-8) so typed text would show up.
  const idb = {};
  const text = (v) => JSON.stringify(v, (k, x) => ArrayBuffer.isView(x) ? new TextDecoder().decode(x)
    : x instanceof ArrayBuffer ? new TextDecoder().decode(new Uint8Array(x)) : x);
  for (const {name} of await indexedDB.databases()) {
    const db = await new Promise((ok, fail) => { const r = indexedDB.open(name); r.onsuccess = () => ok(r.result);
                                                 r.onerror = () => fail(r.error); });
    idb[name] = [];
    for (const store of db.objectStoreNames) {
      const all = await new Promise((ok) => { const r = db.transaction(store).objectStore(store).getAll();
                                               r.onsuccess = () => ok(r.result); r.onerror = () => ok([]); });
      idb[name].push(store + ": " + text(all).slice(0, 100000));
    }
    db.close();
  }
  return {local, session, caches: caches_, idb, cookie: document.cookie};
}"""


def test_full_session_stays_on_this_machine_and_out_of_the_url(page: Any, base_url: str, guarded_context: Any) -> None:
    """Preset -> typed secret -> Rerank -> done: zero requests off 127.0.0.1, no text in the URL or storage."""
    open_page(page, base_url)
    history = page.evaluate("() => history.length")
    data = load_preset(page, "rag-tides")
    page.click("#query")
    page.keyboard.press("End")
    page.keyboard.type(f" {SECRET}")
    page.fill("#passages", page.input_value("#passages") + f"\nA passage mentioning {SECRET} in passing.")
    assert page.url == base_url, f"typing changed the URL: {page.url}"
    run(page)
    final = rows(page)
    assert_final_order(final)
    assert len(final) == len(data["passages"]) + 1
    assert page.url == base_url, f"a run changed the URL: {page.url}"
    assert page.evaluate("() => history.length") == history, "the run pushed history entries"

    # What the device keeps: the model cache (model files only) and nothing typed.
    stored = page.evaluate(STORAGE_JS)
    assert set(stored["local"]) <= {"reranker-theme"}, stored["local"]
    assert stored["session"] == {} and stored["cookie"] == "", stored
    # PyScript's own IndexedDB stores (its filesystem mount map and its package cache, named after the folder of
    # the interpreter module, app/pyodide-boot.js, and Pyodide's version), never the typed text.
    assert all(re.fullmatch(r"IDBMap/(@pyscript\.fs|.*/app@[\d.]+)", name) for name in stored["idb"]), \
        list(stored["idb"])
    assert set(stored["caches"]) <= {"reranker-models-v1", "reranker-python-v1"}, stored["caches"]
    for url in stored["caches"].get("reranker-models-v1", []):
        assert url.startswith(base_url + "models/"), f"non-model entry in the model cache: {url}"
    # Python's start-up snapshot: the file build.py made (named by its integrity hash), nothing of this session.
    for url in stored["caches"].get("reranker-python-v1", []):
        assert url.startswith(base_url + "__python-snapshot/sha384-"), f"unexpected entry in the Python cache: {url}"
    assert SECRET not in repr(stored), "the typed text was stored on the device"

    # Share puts the state into the share box only; the page's own URL stays clean.
    page.click("#share")
    page.wait_for_function("() => document.querySelector('#share-url').value.includes('?s=')")
    assert page.url == base_url

    assert guarded_context.external_requests == []


LEAK_WORKER = """
fetch("https://huggingface.co/from-worker?leak=1", {mode: "no-cors"})
  .then(() => postMessage("loaded"), () => postMessage("blocked"));
"""


def test_guard_reports_a_request_leaving_the_machine(browser: Any, base_url: str) -> None:
    """The harness guard sees (and blocks) page and worker traffic to another host that the CSP would allow.

    The guard's own checking function is called directly, so this test inspects the guard instead of failing."""
    guard = fresh_guard(browser)
    try:
        page = guard.context.new_page()
        page.route(base_url + "leak-worker.js", fulfil_with(LEAK_WORKER, content_type="text/javascript"))
        page.goto(base_url)
        wait_for_phase(page, ("loading", "ready"), timeout=RUN_TIMEOUT_MS)
        assert guard.problems(allow_console_errors=True) == [], "the page itself must be clean"
        outcome = page.evaluate("""async () => {
          const fromPage = await fetch("https://huggingface.co/from-page?leak=1", {mode: "no-cors"})
            .then(() => "loaded", () => "blocked");
          const fromWorker = await new Promise((resolve) => {
            const w = new Worker("leak-worker.js");
            w.onmessage = (e) => resolve(e.data);
            w.onerror = (e) => resolve("worker error " + e.message);
          });
          return {fromPage, fromWorker};
        }""")
        assert outcome == {"fromPage": "blocked", "fromWorker": "blocked"}, outcome
        problems = guard.problems(allow_console_errors=True)
        assert "request left 127.0.0.1: https://huggingface.co/from-page?leak=1" in problems, problems
        assert "request left 127.0.0.1: https://huggingface.co/from-worker?leak=1" in problems, problems
    finally:
        guard.context.close()


def is_onnx(url: str) -> bool:
    """A model weights file (URLs may carry a ?rev= query)."""
    return ".onnx" in url.split("?")[0]


def model_downloads(page: Any, base_url: str) -> list[str]:
    """Start recording every finished request (page and worker) for a file under /models/; return the list."""
    seen: list[str] = []

    def note(request: Any) -> None:
        if request.url.startswith(base_url + "models/"):
            seen.append(request.url.removeprefix(base_url))

    page.context.on("requestfinished", note)
    return seen


def test_clear_stored_data_removes_cache_and_theme_and_the_page_downloads_the_model_again(
        page: Any, base_url: str) -> None:
    """After a run the model sits in Cache Storage (a reload downloads nothing); the footer's "Clear stored data"
    asks first, then empties Cache Storage and the theme key and says what went; the reload after it downloads
    the model again and scoring works."""
    downloads = model_downloads(page, base_url)
    open_page(page, base_url)
    page.click("#theme-toggle")  # stores the theme choice
    load_preset(page, "rag-tides")
    run(page)
    assert any(is_onnx(url) for url in downloads), downloads
    page.wait_for_function(PYTHON_SNAPSHOT_KEPT_JS)  # written in the background: the listings below must include it
    stored = page.evaluate(STORAGE_JS)
    assert stored["local"] == {"reranker-theme": "dark"}, stored["local"]
    cached = sum(stored["caches"].values(), [])
    assert any(is_onnx(url) for url in cached), stored["caches"]

    # Control: with the cache in place a reload fetches no model file.
    downloads.clear()
    page.reload()
    wait_for_phase(page, "ready", timeout=RUN_TIMEOUT_MS)
    assert [url for url in downloads if is_onnx(url)] == [], downloads

    # The control is reachable by keyboard and asks before removing anything; "Keep it" keeps everything.
    page.focus("#clear-data")
    page.keyboard.press("Enter")
    page.wait_for_selector("#clear-confirm:not([hidden])")
    question = page.inner_text("#clear-question")
    listed = re.search(rf"Cache Storage: {len(cached)} files, [\d.]+ MB \(([^)]*)\)", question)
    assert listed and set(listed.group(1).split(", ")) == set(stored["caches"]), question
    assert "localStorage: 1 key (reranker-theme)" in question, question
    assert page.evaluate("() => document.activeElement.id") == "clear-yes"
    page.keyboard.press("Escape")
    page.wait_for_selector("#clear-confirm", state="hidden")
    assert page.evaluate("() => document.activeElement.id") == "clear-data"
    assert page.evaluate(STORAGE_JS)["caches"] == stored["caches"], "Escape must not remove anything"

    page.keyboard.press("Enter")
    page.wait_for_selector("#clear-confirm:not([hidden])")
    page.keyboard.press("Enter")  # focus is on "Clear it"
    page.wait_for_function("() => /^Removed /.test(document.querySelector('#clear-status').textContent)")
    message = page.inner_text("#clear-status")
    megabytes = float(re.search(r"Cache Storage: \d+ files, ([\d.]+) MB", message).group(1))
    onnx_bytes = (ROOT / "dist" / next(u for u in cached if is_onnx(u)).removeprefix(base_url).split("?")[0]).stat().st_size
    assert megabytes >= onnx_bytes / 1e6 - 0.1, (message, onnx_bytes)
    assert "localStorage: 1 key (reranker-theme)" in message, message
    assert "downloads the model again" in message, message
    assert "downloads Python's start-up snapshot again" in message, message
    after = page.evaluate(STORAGE_JS)
    assert sum(after["caches"].values(), []) == [] and after["local"] == {}, after
    # PyScript's bookkeeping databases (held open by Python in this tab) are emptied, not deleted.
    assert all(store.endswith(": []") for stores in after["idb"].values() for store in stores), after["idb"]

    # The tab keeps working with the model it has in memory...
    load_preset(page, "rag-tides")  # nothing typed survives a reload: it is never stored
    page.fill("#query", "when is high tide?")
    run(page)
    assert_final_order(rows(page))
    # ...and a reload downloads the model again, caches it again, and scores.
    downloads.clear()
    page.reload()
    wait_for_phase(page, "ready", timeout=RUN_TIMEOUT_MS)
    assert page.evaluate("() => document.documentElement.dataset.theme") == "light", "the theme choice was kept"
    assert page.evaluate("() => globalThis.rerankerPythonStart.cached") is False, "a removed snapshot was read back"
    assert any(is_onnx(url) for url in downloads), downloads
    load_preset(page, "rag-tides")
    run(page)
    assert_final_order(rows(page))
    refilled = page.evaluate(STORAGE_JS)
    assert any(is_onnx(url) for url in sum(refilled["caches"].values(), [])), refilled["caches"]


def test_documents_mode_keeps_vectors_but_never_the_files_text(page: Any, base_url: str,
                                                               guarded_context: Any) -> None:
    """A picked file with a secret, vector stage 1, rerank: no request off 127.0.0.1, nothing in the URL, and the
    device keeps the passages' vectors under content hashes, never their text or the file's name."""
    open_documents(page, base_url)
    page.select_option("#retriever", "vectors")
    secret_file = f"{SECRET}-notes.md"
    body = (f"# Harbour\n\nThe harbour gate at {SECRET} closes two hours before low tide.\n\n"
            "# Moorings\n\nVisitors moor on the outer pontoon and pay at the office.\n")
    page.set_input_files("#documents-files", [{"name": secret_file, "mimeType": "text/markdown",
                                               "buffer": body.encode("utf-8")}])
    wait_indexed(page)
    page.wait_for_function("() => document.getElementById('vectors-progress').dataset.state === 'done'")
    page.fill("#query", "when does the harbour gate close?")
    page.click("#rerank")
    wait_for_done(page)
    assert page.get_attribute("#results > li.passage", "data-source") == secret_file
    assert page.url == base_url + "?mode=documents", f"a run changed the URL: {page.url}"

    stored = page.evaluate(STORAGE_JS)
    assert set(stored["local"]) <= {"reranker-theme"}, stored["local"]
    assert "reranker-vectors" in stored["idb"], list(stored["idb"])
    assert all(re.fullmatch(r"IDBMap/(@pyscript\.fs|.*/app@[\d.]+)|reranker-vectors", name) for name in stored["idb"])
    assert SECRET not in repr(stored), "the file's text or name was stored on the device"
    assert guarded_context.external_requests == []
