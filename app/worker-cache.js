// Scoring worker, model cache: the Cache Storage wrapper handed to transformers.js as env.customCache. It lets the
// worker say `fromCache`, version the bundled model's entries (their URL stays the same when the file changes) and
// drop the entries of a failed load.

const CACHE_NAME = "reranker-models-v1";

/** The file name inside the model ("onnx/model_quantized.onnx") of a URL or cache key. */
export function fileOf(key, ctx) {
  const s = String(key).split("?")[0];
  const i = s.indexOf(ctx.modelPathMarker);
  if (i < 0) return s;
  return s.slice(i + ctx.modelPathMarker.length).replace(/^resolve\/[^/]+\//, "");
}

/** The cache for one load: records hits in ctx.cacheHits and stored keys in ctx.cachePuts. */
export function makeModelCache(ctx) {
  const versioned = (key) => {
    const url = new URL(String(key), self.location.href);
    if (ctx.revision) url.searchParams.set("rev", ctx.revision);
    return url.href;
  };
  return {
    async match(key) {
      const cache = await caches.open(CACHE_NAME);
      const hit = await cache.match(versioned(key));
      if (hit) ctx.cacheHits.add(fileOf(key, ctx));
      return hit;
    },
    async put(key, response) {
      try {
        const cache = await caches.open(CACHE_NAME);
        await cache.put(versioned(key), response);
        ctx.cachePuts.add(versioned(key));
      } catch (err) {
        // Quota exceeded or private mode: the model still works, it is just not kept.
        ctx.cacheNote = `the model could not be kept in the browser cache (${err && err.name ? err.name : err})`;
      }
    },
    async delete(key) {
      const cache = await caches.open(CACHE_NAME);
      return cache.delete(versioned(key));
    },
  };
}

export async function dropCacheEntries(keys) {
  try {
    const cache = await caches.open(CACHE_NAME);
    await Promise.all([...keys].map((k) => cache.delete(k)));
  } catch {
    /* nothing cached, nothing to drop */
  }
}

/** After a successful load, remove cached copies of the same files under other revisions. */
export async function dropStaleRevisions(ctx) {
  if (!ctx.revision) return;
  try {
    const cache = await caches.open(CACHE_NAME);
    const prefix = ctx.modelBase;
    for (const req of await cache.keys()) {
      const url = new URL(req.url);
      const rev = url.searchParams.get("rev");
      if (req.url.startsWith(prefix) && rev && rev !== ctx.revision) await cache.delete(req);
    }
  } catch {
    /* best effort */
  }
}
