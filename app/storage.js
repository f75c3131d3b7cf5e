// "Clear stored data": lists what this site keeps in the browser (Cache Storage, localStorage, IndexedDB: among
// them Documents mode's passage vectors), asks before removing it, removes it, and says exactly what went. Nothing
// typed is ever stored, so nothing typed can be lost here. Wired by index.html on its own, independent of page.js
// (it shares only app/format.js and the vectors' database name from app/vector-store.js).

import { formatBytes } from "./format.js";
import { VECTOR_DB } from "./vector-store.js";

const $ = (id) => document.getElementById(id);

function plural(n, one, many = `${one}s`) {
  return `${n} ${n === 1 ? one : many}`;
}

/** Byte size of a cached response: its body size, or Content-Length when the body cannot be read. */
async function responseBytes(response) {
  if (!response) return 0;
  try {
    return (await response.blob()).size;
  } catch {
    return Number(response.headers.get("content-length")) || 0;
  }
}

function idbRequest(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

/** Open an existing IndexedDB database (never creating or upgrading one); null if it cannot be opened soon. */
function openExisting(name) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), 5000);  // e.g. a deletion queued by another tab
    const open = indexedDB.open(name);
    open.onupgradeneeded = () => open.transaction.abort();
    open.onsuccess = () => { clearTimeout(timer); resolve(open.result); };
    open.onerror = () => { clearTimeout(timer); resolve(null); };
  });
}

/** Apply `action(store)` to every object store of database `name`; return the sum of what the actions return. */
async function eachStore(name, mode, action) {
  const db = await openExisting(name);
  if (!db) return 0;
  try {
    let total = 0;
    for (const store of db.objectStoreNames) total += await idbRequest(action(db.transaction(store, mode).objectStore(store))) ?? 0;
    return total;
  } catch {
    return 0;
  } finally {
    db.close();
  }
}

/** Number of records in every object store of an existing IndexedDB database (0 if it cannot be read). */
function idbRecordCount(name) {
  return eachStore(name, "readonly", (store) => store.count());
}

/** Everything this site keeps in the browser: caches (entries, bytes), localStorage keys, IndexedDB databases. */
export async function inventory() {
  const found = { caches: [], local: [], databases: [] };
  if (globalThis.caches) {
    for (const name of await caches.keys()) {
      const cache = await caches.open(name);
      const requests = await cache.keys();
      let bytes = 0;
      for (const request of requests) bytes += await responseBytes(await cache.match(request));
      found.caches.push({ name, entries: requests.length, bytes });
    }
  }
  try {
    for (let i = 0; i < localStorage.length; i += 1) found.local.push(localStorage.key(i));
  } catch { /* storage blocked: nothing readable, nothing to clear */ }
  if (globalThis.indexedDB?.databases) {
    for (const { name } of await indexedDB.databases()) {
      const records = await idbRecordCount(name);
      if (records) found.databases.push({ name, records });
    }
  }
  return found;
}

function isEmpty(found) {
  return !found.caches.length && !found.local.length && !found.databases.length;
}

/** One sentence per kind of storage, e.g. "Cache Storage: 6 files, 23.1 MB (reranker-models-v1)". */
export function describe(found) {
  const parts = [];
  if (found.caches.length) {
    const entries = found.caches.reduce((n, c) => n + c.entries, 0);
    const bytes = found.caches.reduce((n, c) => n + c.bytes, 0);
    parts.push(`Cache Storage: ${plural(entries, "file")}, ${formatBytes(bytes)} (${found.caches.map((c) => c.name).join(", ")})`);
  }
  if (found.local.length) parts.push(`localStorage: ${plural(found.local.length, "key")} (${found.local.join(", ")})`);
  if (found.databases.length) {
    const records = found.databases.reduce((n, d) => n + d.records, 0);
    parts.push(`IndexedDB: ${plural(records, "record")} in ${plural(found.databases.length, "database")} (${found.databases.map((d) => d.name).join(", ")})`);
  }
  return parts;
}

/** Remove what `found` lists; return what happened to each part. */
export async function clearAll(found) {
  const result = { caches: [], local: [], databases: [] };
  for (const c of found.caches) {
    if (await caches.delete(c.name)) result.caches.push(c);
  }
  for (const key of found.local) {
    try { localStorage.removeItem(key); result.local.push(key); } catch { /* storage blocked */ }
  }
  // IndexedDB: PyScript keeps its databases open while the page runs, and deleting an open database would
  // stall every later use of it in this tab until a reload, so their records are deleted instead.
  for (const d of found.databases) {
    await eachStore(d.name, "readwrite", (store) => store.clear());
    const left = await idbRecordCount(d.name);
    if (left < d.records) result.databases.push({ ...d, records: d.records - left });
  }
  return result;
}

/** The status sentence after clearing: exactly what was removed. */
export function report(result) {
  const removed = describe(result);
  let text = removed.length ? `Removed ${removed.join("; ")}.` : "Nothing was removed.";
  const names = result.caches.map((c) => c.name);
  if (names.includes("reranker-models-v1")) text += " The next model load downloads the model again.";
  if (names.includes("reranker-python-v1")) text += " The next visit downloads Python's start-up snapshot again.";
  if (result.databases.some((d) => d.name === VECTOR_DB)) text += " The next vector search embeds the passages again.";
  return text;
}

function wire() {
  const button = $("clear-data");
  const confirmBox = $("clear-confirm");
  const question = $("clear-question");
  const yes = $("clear-yes");
  const no = $("clear-no");
  const status = $("clear-status");
  if (!button || !confirmBox) return;
  let pending = null;

  const closeConfirm = (focusButton) => {
    confirmBox.hidden = true;
    button.setAttribute("aria-expanded", "false");
    pending = null;
    if (focusButton) button.focus();
  };

  button.addEventListener("click", async () => {
    button.disabled = true;
    status.textContent = "Looking at what this site keeps…";
    try {
      const found = await inventory();
      if (isEmpty(found)) {
        status.textContent = "Nothing is stored on this device for this site.";
        return;
      }
      pending = found;
      question.textContent = `Remove ${describe(found).join("; ")}?`;
      status.textContent = "";
      confirmBox.hidden = false;
      button.setAttribute("aria-expanded", "true");
      yes.focus();
    } catch (err) {
      status.textContent = `Could not read the stored data: ${err?.message || err}`;
    } finally {
      button.disabled = false;
    }
  });

  yes.addEventListener("click", async () => {
    if (!pending) return;
    const found = pending;
    yes.disabled = true;
    no.disabled = true;
    status.textContent = "Clearing…";
    try {
      const result = await clearAll(found);
      let text = report(result);
      // A model that is downloading right now (in a worker) may cache its files again at once: say so.
      const again = (await inventory()).caches.reduce((n, c) => n + c.entries, 0);
      if (again) text += ` A model loading right now has cached ${plural(again, "file")} again.`;
      status.textContent = text;
      document.dispatchEvent(new CustomEvent("rerank:storage-cleared", { detail: result }));
    } catch (err) {
      status.textContent = `Clearing stopped: ${err?.message || err}`;
    } finally {
      yes.disabled = false;
      no.disabled = false;
      closeConfirm(true);
    }
  });

  no.addEventListener("click", () => {
    closeConfirm(true);
    status.textContent = "Nothing was removed.";
  });
  confirmBox.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      closeConfirm(true);
      status.textContent = "Nothing was removed.";
    }
  });
}

wire();
