// Stored passage embeddings (IndexedDB `reranker-vectors`, object store `vectors`): one Float32Array per key,
// where the key is "<model id>@<model sha256> <passage content hash>", so an unchanged passage keeps its vector
// across reloads, files and passage budgets, and another model never reads it. "Clear stored data"
// (app/storage.js) lists and clears it like every database of the site. When IndexedDB is unavailable
// (blocked storage), reads find nothing and writes are dropped: vectors then live for the page's lifetime only.

export const VECTOR_DB = "reranker-vectors";
const STORE = "vectors";

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function done(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new Error("aborted"));
  });
}

export class VectorStore {
  constructor(name = VECTOR_DB) {
    this.name = name;
    this.db = null;      // Promise of the open database (null = not opened yet), resolving null when unavailable
    this.failure = "";   // why vectors cannot be stored, once known
  }

  /** The open database, opened (and created) on first use; null when IndexedDB cannot be used. */
  open() {
    if (this.db) return this.db;
    this.db = new Promise((resolve) => {
      if (!globalThis.indexedDB) { this.failure = "this browser has no IndexedDB"; resolve(null); return; }
      const open = indexedDB.open(this.name, 1);
      open.onupgradeneeded = () => open.result.createObjectStore(STORE);
      open.onsuccess = () => {
        const db = open.result;
        db.onversionchange = () => { db.close(); this.db = null; }; // another tab deletes or upgrades it
        resolve(db);
      };
      open.onerror = () => { this.failure = String(open.error?.message || open.error); resolve(null); };
      open.onblocked = () => { this.failure = "the database is blocked by another tab"; resolve(null); };
    });
    return this.db;
  }

  /** The stored vectors of `keys` (same order; undefined where none is stored). */
  async getMany(keys) {
    const db = await this.open();
    if (!db || !keys.length) return new Array(keys.length);
    try {
      const store = db.transaction(STORE, "readonly").objectStore(STORE);
      return await Promise.all(keys.map((key) => request(store.get(key))));
    } catch (err) {
      this.failure = String(err?.message || err);
      return new Array(keys.length);
    }
  }

  /** Store [key, Float32Array] entries in one transaction; false when they could not be stored. */
  async putMany(entries) {
    const db = await this.open();
    if (!db || !entries.length) return Boolean(db);
    try {
      const tx = db.transaction(STORE, "readwrite");
      const store = tx.objectStore(STORE);
      for (const [key, vector] of entries) store.put(vector, key);
      await done(tx);
      return true;
    } catch (err) {
      this.failure = String(err?.message || err);
      return false;
    }
  }
}
