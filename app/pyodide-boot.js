// PyScript's interpreter module (index.html's config points here instead of at pyodide.mjs). It starts the
// pinned Pyodide like pyodide.mjs would, but from a memory snapshot of an already booted interpreter that
// build.py made with the same Pyodide (RUNTIME.pythonSnapshot): restoring it skips booting Python, which is
// most of the page's start (bench/PAGE.md). The snapshot holds the interpreter, standard-library modules and
// the imported `reranker` package (PyScript still writes the py/ files on every visit). Any problem with it (download,
// integrity, size, Pyodide refusing it) falls back to booting, which is what pyodide.mjs alone would do.
// What happened is published as `globalThis.rerankerPythonStart` (the loading strip reads it).
import { RUNTIME } from "./runtime.js";

const PYODIDE_URL = new URL(RUNTIME.pyodide, import.meta.url);
const INDEX_URL = new URL(".", PYODIDE_URL).href;
// After the first visit the decompressed snapshot is kept in Cache Storage: later visits skip the HTTP
// revalidation and ~0.4 s of decompressing. One entry, named by the build's integrity hash.
const CACHE_NAME = "reranker-python-v1";

function cacheKey(entry) {
  return new URL(`/__python-snapshot/${encodeURIComponent(entry.integrity)}`, location.href).href;
}

/** The decompressed snapshot this build stored on an earlier visit, or null. */
async function cachedSnapshot(entry) {
  try {
    const response = await (await caches.open(CACHE_NAME)).match(cacheKey(entry));
    const memory = response && new Uint8Array(await response.arrayBuffer());
    return memory?.length === entry.bytes ? memory : null;
  } catch {
    return null;  // no Cache Storage here (e.g. not a secure context): download it
  }
}

/** Keep `memory` for the next visit, replacing any snapshot of an earlier build. */
async function keepSnapshot(entry, memory) {
  try {
    await forgetSnapshot();  // one snapshot at a time: drop an earlier build's
    const cache = await caches.open(CACHE_NAME);
    await cache.put(cacheKey(entry), new Response(memory, { headers: { "content-type": "application/octet-stream" } }));
  } catch (error) {
    console.warn(`Python's start-up snapshot was not kept for the next visit (${error?.message || error}).`);
  }
}

async function forgetSnapshot() {
  try {
    await caches.delete(CACHE_NAME);
  } catch { /* nothing kept */ }
}

/** The snapshot's memory image ({memory, cached}), read while Pyodide's module loads; rejects with a reason. */
async function fetchSnapshot(entry) {
  const cached = await cachedSnapshot(entry);
  if (cached) return { memory: cached, cached: true };
  const response = await fetch(new URL(entry.url, import.meta.url), { integrity: entry.integrity });
  if (!response.ok) throw new Error(`the snapshot download failed (HTTP ${response.status})`);
  const memory = await new Response(response.body.pipeThrough(new DecompressionStream("gzip"))).arrayBuffer();
  if (memory.byteLength !== entry.bytes) throw new Error("the snapshot is incomplete");
  return { memory: new Uint8Array(memory), cached: false };
}

const snapshot = fetchSnapshot(RUNTIME.pythonSnapshot);
snapshot.catch(() => {});  // reported by loadPyodide, which falls back to booting
const pyodide = await import(PYODIDE_URL.href);

/** Pyodide's version: PyScript reads it from the interpreter module. */
export const version = pyodide.version;

function publish(detail) {
  globalThis.rerankerPythonStart = detail;
}

/** Start Pyodide for PyScript: restore the build's snapshot, or boot when it cannot be used. */
export async function loadPyodide(options = {}) {
  const started = performance.now();
  const base = { ...options, indexURL: INDEX_URL };
  let reason;
  try {
    const { memory, cached } = await snapshot;
    const interpreter = await pyodide.loadPyodide({ ...base, _loadSnapshot: memory });
    // The snapshot froze the state of `random` (Pyodide imports it while booting): every visit would draw the same.
    interpreter.runPython("import random; random.seed()");
    if (!cached) keepSnapshot(RUNTIME.pythonSnapshot, memory);  // not awaited: the browser writes it meanwhile
    publish({ source: "snapshot", cached, ms: Math.round(performance.now() - started), bytes: memory.length });
    return interpreter;
  } catch (error) {
    reason = error?.message || String(error);
    console.warn(`Python's start-up snapshot was not used (${reason}); booting Python instead.`);
    forgetSnapshot();  // a kept copy that failed is dropped: the next visit downloads the build's file again
  }
  const interpreter = await pyodide.loadPyodide(base);
  publish({ source: "boot", ms: Math.round(performance.now() - started), reason });
  return interpreter;
}
