// PyScript's interpreter module (index.html's config points here instead of at pyodide.mjs). It starts the
// pinned Pyodide like pyodide.mjs would, with one difference: after the first start it keeps a snapshot of the
// started interpreter's memory in Cache Storage, and later visits restore that snapshot instead of booting
// Python again (booting is most of a warm start; bench/PAGE.md has the numbers). The snapshot is taken right
// after boot, before PyScript or the page run anything, and holds only the interpreter and the standard-library
// modules the page imports; the page's own py/ files are written and imported fresh on every visit.
// What happened is published as `globalThis.rerankerPythonStart` and the "reranker:python-start" event.
import { RUNTIME } from "./runtime.js";

const pyodide = await import(new URL(RUNTIME.pyodide, import.meta.url).href);

/** Pyodide's version: PyScript reads it from the interpreter module. */
export const version = pyodide.version;

const INDEX_URL = new URL(".", new URL(RUNTIME.pyodide, import.meta.url)).href;
const CACHE_NAME = "reranker-python-v1";
const LENGTH_HEADER = "x-snapshot-bytes";
/** Standard-library modules the page and PyScript import; importing them once before the snapshot saves that
 *  work on every restored start. Pure-Python modules only: nothing here may hold a JavaScript object. */
const PRELOAD = [
  "asyncio", "base64", "binascii", "bisect", "collections", "csv", "dataclasses", "functools", "html", "io",
  "itertools", "json", "math", "re", "time", "typing", "unicodedata", "zlib",
];
/** Cache key: a snapshot only fits the exact Pyodide build and preload list that made it. */
const SNAPSHOT_KEY = new URL(`/__python-snapshot/pyodide-${version}/${PRELOAD.join("+")}.bin`, location.href).href;

function publish(detail) {
  globalThis.rerankerPythonStart = detail;
  document.dispatchEvent(new CustomEvent("reranker:python-start", { detail }));
}

async function readSnapshot() {
  if (!globalThis.caches) return null;
  try {
    const response = await (await caches.open(CACHE_NAME)).match(SNAPSHOT_KEY);
    if (!response) return null;
    const bytes = new Uint8Array(await response.arrayBuffer());
    // Pyodide checks the snapshot's header and build id; a snapshot cut short would pass those and fail later.
    if (bytes.length !== Number(response.headers.get(LENGTH_HEADER))) throw new Error("the stored snapshot is incomplete");
    return bytes;
  } catch (error) {
    console.warn(`Python's start-up snapshot was not used (${error?.message || error}); booting Python instead.`);
    await forgetSnapshot();
    return null;
  }
}

async function forgetSnapshot() {
  try {
    await (await caches.open(CACHE_NAME)).delete(SNAPSHOT_KEY);
  } catch { /* nothing stored */ }
}

async function storeSnapshot(bytes) {
  try {
    const headers = { "content-type": "application/octet-stream", [LENGTH_HEADER]: String(bytes.length) };
    await (await caches.open(CACHE_NAME)).put(SNAPSHOT_KEY, new Response(bytes, { headers }));
  } catch (error) {
    console.warn(`Python's start-up snapshot was not stored (${error?.message || error}); the next visit boots Python again.`);
  }
}

/** A snapshotting Pyodide sees the window through a recording proxy (so the snapshot can name what Python held),
 *  and the window's getters (`document`, `location`, ...) throw "Illegal invocation" through it. Once the snapshot
 *  is taken, point Python's `js` module, and every module that imported it during boot, at the real window. */
function useRealGlobals(interpreter) {
  interpreter.registerJsModule("js", globalThis);
  interpreter.runPython(`
import sys
_proxied = sys.modules.pop("js", None)
import js as _real
for _module in list(sys.modules.values()):
    if _proxied is not None and getattr(_module, "js", None) is _proxied:
        _module.js = _real
del _proxied, _real, _module
`);
}

/** Start Pyodide for PyScript: from the stored snapshot when there is a usable one, else boot and store one. */
export async function loadPyodide(options = {}) {
  const started = performance.now();
  const base = { ...options, indexURL: INDEX_URL };
  const snapshot = await readSnapshot();
  if (snapshot) {
    try {
      const interpreter = await pyodide.loadPyodide({ ...base, _loadSnapshot: snapshot });
      publish({ source: "snapshot", ms: Math.round(performance.now() - started), bytes: snapshot.length });
      return interpreter;
    } catch (error) {
      console.warn(`Python's start-up snapshot could not be restored (${error?.message || error}); booting Python instead.`);
      await forgetSnapshot();
    }
  }
  const canStore = Boolean(globalThis.caches);
  const interpreter = await pyodide.loadPyodide({ ...base, _makeSnapshot: canStore });
  let bytes = 0;
  if (canStore) {
    try {
      interpreter.runPython(`import ${PRELOAD.join(", ")}`);
      const memory = interpreter.makeMemorySnapshot();
      bytes = memory.length;
      storeSnapshot(memory);  // not awaited: the page goes on while the browser writes it
    } catch (error) {
      console.warn(`Python's start-up snapshot could not be made (${error?.message || error}).`);
    }
    useRealGlobals(interpreter);
  }
  publish({ source: "boot", ms: Math.round(performance.now() - started), bytes });
  return interpreter;
}
