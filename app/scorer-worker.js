// Scoring worker: tokenises (query, passage) pairs with the model's own tokenizer and scores them with a
// cross-encoder in ONNX Runtime Web, streaming one `result` per pair as soon as its micro-batch finishes.
// Protocol: docs/ARCHITECTURE.md ("Scoring worker protocol"); extensions are documented in app/scorer.js.

const CACHE_NAME = "reranker-models-v1";
const YIELD = new MessageChannel(); // fastest way to let queued messages (cancel, new score) run

/** @type {any} transformers.js module, imported once per worker */
let T = null;
/** @type {string|null} URL transformers.js was imported from */
let transformersUrl = null;
/** Currently loaded model: {entry, tokenizer, model, session, inputNames, backend, threads, specialCount, ...} */
let current = null;
/** Promise of the load in progress (score requests wait for it) and the id of the newest load request. */
let loading = null;
let latestLoadId = null;
/** Catalog ids whose last load failed: their next download bypasses the HTTP cache. */
const failedModels = new Set();
/** Threads fixed for the worker's lifetime (ORT initialises wasm once). */
let threadsChosen = null;

const post = (msg) => self.postMessage(msg);
const nowMs = () => performance.now();

function yieldToEvents() {
  return new Promise((resolve) => {
    YIELD.port1.onmessage = () => resolve();
    YIELD.port2.postMessage(0);
  });
}

// ---------------------------------------------------------------------------------------------
// Errors: every failure becomes a sentence a person can act on, plus the raw detail.

class UserError extends Error {
  constructor(message, detail) {
    super(message);
    this.detail = detail;
  }
}

function describeLoadError(err, entry, ctx) {
  if (err instanceof UserError) return err;
  if (ctx.fetchError) return ctx.fetchError;
  const raw = String(err && (err.message || err)) || "unknown error";
  const where = entry.source === "hub" ? `the model host (${ctx.remoteHost})` : "this site";
  const file = ctx.lastFailedFile || ctx.lastFile || "a model file";
  if (/ModelFileNotFound|not found|Could not locate|\b404\b|\b401\b|\b403\b/i.test(raw) || ctx.status404) {
    const f = ctx.status404 || file;
    return new UserError(
      `The model file "${f}" of ${entry.label || entry.id} was not found on ${where} (HTTP 404). ` +
        `Check that the model is published there, or choose another model.`,
      raw,
    );
  }
  if (/protobuf|Failed to load model|invalid model|ERROR_CODE: ?(7|1|2)\b|model_path|parse/i.test(raw) && /onnx|session|model/i.test(raw)) {
    return new UserError(
      `The model file "${ctx.onnxFile || "onnx/model.onnx"}" of ${entry.label || entry.id} is damaged or incomplete, so ONNX Runtime ` +
        `could not read it. The cached copy was removed; press retry to download it again.`,
      raw,
    );
  }
  if (ctx.badJson || /JSON|Unexpected token|Unexpected end|tokenizer/i.test(raw)) {
    const bad = ctx.badJson || ctx.lastJsonFile || "tokenizer.json";
    const what = /^tokenizer/.test(bad) ? "tokenizer" : "configuration";
    return new UserError(
      `The ${what} of ${entry.label || entry.id} could not be read: "${bad}" is damaged (not valid JSON). ` +
        `The cached copy was removed; press retry to download it again.`,
      raw,
    );
  }
  if (/wasm|WebAssembly|\.mjs|dynamically imported module|no available backend/i.test(raw)) {
    return new UserError(
      `The ONNX Runtime WebAssembly files could not be loaded from "${ctx.ortWasmPaths}". ` +
        `The site may be incomplete; reload the page, or ask the site owner to redeploy it.`,
      raw,
    );
  }
  if (isOutOfMemory(err)) {
    return new UserError(
      `The browser ran out of memory while loading ${entry.label || entry.id}. Close other tabs or choose a smaller model.`,
      raw,
    );
  }
  if (/Failed to fetch|NetworkError|network/i.test(raw)) {
    return new UserError(
      `The download of "${file}" from ${where} failed (network error). Check the connection and press retry.`,
      raw,
    );
  }
  return new UserError(`Loading ${entry.label || entry.id} failed: ${raw}. Press retry, or choose another model.`, raw);
}

function isOutOfMemory(err) {
  const raw = String(err && (err.message || err));
  return (
    err instanceof RangeError ||
    /out of memory|Out of memory|OOM|Array buffer allocation failed|failed to allocate|memory access out of bounds|bad_alloc|Cannot enlarge memory/i.test(raw)
  );
}

// ---------------------------------------------------------------------------------------------
// Cache Storage wrapper handed to transformers.js as env.customCache: lets us say `fromCache`, version the
// bundled model's entries (its URL never changes when the file does), and drop entries of a failed load.

function makeModelCache(ctx) {
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

async function dropCacheEntries(keys) {
  try {
    const cache = await caches.open(CACHE_NAME);
    await Promise.all([...keys].map((k) => cache.delete(k)));
  } catch {
    /* nothing cached, nothing to drop */
  }
}

/** After a successful load, remove cached copies of the same files under other revisions. */
async function dropStaleRevisions(ctx) {
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

/** The file name inside the model ("onnx/model_quantized.onnx") of a URL or cache key. */
function fileOf(key, ctx) {
  const s = String(key).split("?")[0];
  const i = s.indexOf(ctx.modelPathMarker);
  if (i < 0) return s;
  return s.slice(i + ctx.modelPathMarker.length).replace(/^resolve\/[^/]+\//, "");
}

// ---------------------------------------------------------------------------------------------
// Loading

async function importTransformers(url) {
  if (T && transformersUrl === url) return T;
  try {
    T = await import(url);
    transformersUrl = url;
    return T;
  } catch (err) {
    throw new UserError(
      `The scoring runtime (transformers.js) could not be loaded from "${url}". Reload the page; if it persists the site is incomplete.`,
      String(err && (err.message || err)),
    );
  }
}

function chooseThreads(requested) {
  if (threadsChosen !== null) return threadsChosen;
  const cores = self.navigator?.hardwareConcurrency || 1;
  if (!self.crossOriginIsolated) threadsChosen = 1;
  else if (requested) threadsChosen = Math.max(1, Math.min(requested, cores));
  // Half the cores, at most 4 (ORT Web's own default): the page's main thread and the bi-encoder worker (same code)
  // need CPU while this one scores, and ORT's spinning pool threads lose badly when cores are oversubscribed
  // (bench/README.md: on 2 busy cores 1 thread took 1731 ms for the 10-pair set, 2 threads 3626 ms).
  else threadsChosen = Math.max(1, Math.min(4, Math.ceil(cores / 2)));
  return threadsChosen;
}

/** Which ONNX Runtime wasm build this worker initialised ("cpu" or "webgpu"); null before the first load. */
let ortRuntime = null;

/** The CPU-only build (14 MB, no WebGPU/asyncify glue) is half the download and compile of the 27 MB jsep build
 *  transformers.js picks by default; scoring speed in Chromium is the same (bench/README.md). WebGPU keeps the default. */
function ortWasmPaths(base, flavour) {
  if (flavour !== "cpu") return base;
  return { mjs: `${base}ort-wasm-simd-threaded.mjs`, wasm: `${base}ort-wasm-simd-threaded.wasm` };
}

async function webgpuUnavailableReason() {
  if (!self.navigator?.gpu) return "this browser has no WebGPU (navigator.gpu is missing)";
  try {
    const adapter = await self.navigator.gpu.requestAdapter();
    if (!adapter) return "no WebGPU adapter is available (GPU disabled or blocklisted)";
  } catch (err) {
    return `WebGPU adapter request failed (${err && err.message ? err.message : err})`;
  }
  return null;
}

async function handleLoad(msg) {
  const { id, model: entry, runtime } = msg;
  const opts = msg.options || {};
  const t0 = nowMs();
  const ctx = {
    cacheHits: new Set(),
    cachePuts: new Set(),
    fetched: new Set(),
    files: new Map(), // file -> {loaded, total}
    lastProgressPost: 0,
    remoteHost: runtime.remoteHost,
    ortWasmPaths: runtime.ortWasmPaths,
    revision: entry.source === "bundled" ? entry.sha256 ? entry.sha256.slice(0, 16) : String(entry.size_bytes || "") : entry.revision || "",
    modelPathMarker: `/${entry.path}/`,
    modelBase: "",
    onnxFile: null,
    lastFile: null,
    lastJsonFile: null,
    status404: null,
    cacheNote: null,
  };
  try {
    if (!entry || !entry.path) throw new UserError("No model was given to load. Choose a model from the list.", "missing model entry");
    const Tm = await importTransformers(runtime.transformers);
    const env = Tm.env;
    const isHub = entry.source === "hub";
    env.allowLocalModels = !isHub;
    env.allowRemoteModels = isHub;
    // transformers.js treats an absolute http(s) localModelPath as "remote" in its existence checks, so it must be
    // a path: the same-origin pathname of the bundled models directory.
    const modelsUrl = new URL(runtime.bundledModelsPath, self.location.href);
    env.localModelPath = modelsUrl.origin === self.location.origin ? modelsUrl.pathname : modelsUrl.href;
    env.remoteHost = runtime.remoteHost;
    env.useBrowserCache = false; // replaced by our wrapper around Cache Storage (versioning, fromCache, cleanup)
    env.useCustomCache = opts.cache !== false;
    env.customCache = makeModelCache(ctx);
    env.useWasmCache = false; // keeps ORT loading its .mjs from our origin: no blob: URLs needed in the CSP
    ctx.modelBase = isHub
      ? new URL(`${entry.path}/`, runtime.remoteHost).href
      : new URL(`${entry.path}/`, runtime.bundledModelsPath).href;
    env.fetch = async (url, init) => {
      const u = String(url);
      const file = fileOf(u, ctx);
      ctx.lastFile = file;
      if (/\.json$/.test(file)) ctx.lastJsonFile = file;
      let resp;
      try {
        // no-cache: revalidate with the server, so a file fixed on the server is never shadowed by the HTTP cache;
        // after a failed load of this model, bypass the HTTP cache completely (a same-second fix can still 304).
        resp = await fetch(u, { ...(init || {}), cache: failedModels.has(entry.id) ? "reload" : "no-cache" });
      } catch (err) {
        ctx.lastFailedFile = file;
        throw err;
      }
      if (resp.status === 404) ctx.status404 = ctx.status404 || file;
      if (resp.ok && /\.json$/.test(file)) {
        // Remember which JSON file is broken: JSON.parse errors inside transformers.js do not say.
        try {
          JSON.parse(await resp.clone().text());
        } catch {
          ctx.badJson = ctx.badJson || file;
        }
      }
      if (resp.ok) {
        ctx.fetched.add(file);
        const type = resp.headers.get("content-type") || "";
        if (/\.(onnx|json)$/.test(file) && /text\/html/i.test(type)) {
          ctx.lastFailedFile = file;
          // Kept on ctx: transformers.js may rewrap this error as "file not found", which would mislead.
          ctx.fetchError = new UserError(
            `The server answered with a web page (content-type ${type}) instead of the model file "${file}". ` +
              `The model is not published at ${ctx.modelBase}; choose another model or fix the hosting.`,
            `content-type ${type} for ${u}`,
          );
          throw ctx.fetchError;
        }
      }
      return resp;
    };
    const onnx = env.backends.onnx;
    onnx.wasm.proxy = false; // we are the worker already
    onnx.wasm.numThreads = chooseThreads(opts.threads);
    if (typeof onnx.wasm.simd !== "undefined") onnx.wasm.simd = true;

    let backend = msg.backend === "webgpu" ? "webgpu" : "wasm";
    let fallbackReason = null;
    if (backend === "webgpu") {
      fallbackReason = await webgpuUnavailableReason();
      if (fallbackReason) backend = "wasm";
    }
    if (backend === "webgpu" && ortRuntime === "cpu") {
      backend = "wasm";
      fallbackReason = "this worker already runs the CPU-only ONNX Runtime (WebGPU needs a new worker)";
    }
    // ORT reads wasmPaths once, when its first session is created; later loads reuse that runtime.
    ortRuntime ??= backend === "wasm" ? "cpu" : "webgpu";
    onnx.wasm.wasmPaths = ortWasmPaths(runtime.ortWasmPaths, ortRuntime);

    const progress_callback = (p) => onProgress(id, ctx, p);
    const dtype = entry.dtype || "q8";
    ctx.onnxFile = `onnx/${entry.model_file_name || "model"}${{ fp32: "", fp16: "_fp16", q8: "_quantized", int8: "_int8", uint8: "_uint8", q4: "_q4", bnb4: "_bnb4", q4f16: "_q4f16" }[dtype] ?? ""}.onnx`;
    // The bundled file's weights are int8 blocks behind Cast → Mul (training/export.py). ORT's constant folding
    // would turn them into float32 weights while creating the session: in the browser that took ~1.2 s of a warm
    // start (it runs as cold, not yet optimised wasm code) and doubled the worker's memory, while dequantising on
    // each call costs ~20–30 ms per batch (bench/PAGE.md, session 8). Start-up wins: folding is off unless asked.
    const sessionOptions = opts.foldWeights ? {} : { extra: { optimization: { disable_specified_optimizers: "ConstantFolding" } } };
    if (opts.graphOptimizationLevel) sessionOptions.graphOptimizationLevel = opts.graphOptimizationLevel;
    const loadModel = (device) =>
      (entry.kind === "bi-encoder" ? Tm.AutoModel : Tm.AutoModelForSequenceClassification).from_pretrained(entry.path, {
        dtype,
        device,
        progress_callback,
        session_options: sessionOptions,
        ...(entry.model_file_name ? { model_file_name: entry.model_file_name } : {}),
      });
    const [tokenizer, model] = await Promise.all([
      Tm.AutoTokenizer.from_pretrained(entry.path, { progress_callback }),
      loadModel(backend).catch(async (err) => {
        if (backend !== "webgpu" || isUserFacingFileError(err, ctx)) throw err;
        fallbackReason = `WebGPU session could not be created (${String(err && err.message ? err.message : err).slice(0, 200)})`;
        backend = "wasm";
        return loadModel("wasm");
      }),
    ]);
    const session = model.sessions && model.sessions.model;
    if (!session) throw new UserError(`${entry.label || entry.id} has no "model" session; it is not a single-file cross-encoder.`, "no session");
    const prev = current;
    current = {
      entry,
      tokenizer,
      model,
      session,
      inputNames: session.inputNames,
      backend,
      threads: backend === "wasm" ? onnx.wasm.numThreads : null,
      maxLength: Math.min(entry.max_length || tokenizer.model_max_length || 512, tokenizer.model_max_length || Infinity),
      kind: entry.kind === "bi-encoder" ? "bi-encoder" : "cross-encoder",
      queryEmbeddings: new Map(), // bi-encoder: query text -> unit vector (kept across runs, bounded)
      inference: opts.inference === "model" ? "model" : "session",
      batchTokens: opts.batchTokens || DEFAULT_BATCH_TOKENS,
      maxBatch: opts.maxBatch || DEFAULT_MAX_BATCH,
      firstBatch: opts.firstBatch || DEFAULT_FIRST_BATCH,
      ...pairLayout(tokenizer),
    };
    if (prev && prev.model && prev.model !== model) prev.model.dispose?.().catch?.(() => {});
    failedModels.delete(entry.id);
    const fromCache = ctx.fetched.size === 0 && ctx.cacheHits.size > 0;
    dropStaleRevisions(ctx);
    post({
      type: "ready",
      id,
      model: entry.id,
      backend,
      threads: current.threads,
      fromCache,
      loadMs: Math.round(nowMs() - t0),
      fallbackReason,
      cacheNote: ctx.cacheNote,
      maxLength: current.maxLength,
      inputNames: current.inputNames,
      files: [...ctx.files.entries()].map(([file, f]) => ({ file, bytes: f.total || f.loaded, fromCache: ctx.cacheHits.has(file) })),
    });
  } catch (err) {
    // Never keep a broken download in the cache: the retry must fetch again.
    await dropCacheEntries(ctx.cachePuts);
    if (entry && entry.id) failedModels.add(entry.id);
    const ue = describeLoadError(err, entry || {}, ctx);
    // transformers.js chains session creation on one promise that never recovers from a rejection, and ORT
    // remembers a failed wasm initialisation: after such a failure this worker cannot create sessions again,
    // so the client replaces it (restart: true). Download-level failures (404, bad JSON) leave it usable.
    const fetchLevel = !!(ctx.status404 || ctx.badJson || ctx.lastFailedFile) && !/create a session|initWasm|wasm/i.test(String(err && err.message));
    post({ type: "error", id, message: ue.message, detail: ue.detail || String(err), phase: "load", restart: !fetchLevel });
  }
}

function isUserFacingFileError(err, ctx) {
  return err instanceof UserError || ctx.status404 || /not found|404/i.test(String(err && err.message));
}

function onProgress(id, ctx, p) {
  if (!p || !p.file) return;
  const f = ctx.files.get(p.file) || { loaded: 0, total: 0 };
  if (p.status === "progress") {
    f.loaded = p.loaded || 0;
    f.total = p.total || f.total;
  } else if (p.status === "done") {
    f.total = f.total || f.loaded;
    f.loaded = f.total;
  } else if (p.status !== "initiate" && p.status !== "download") {
    return;
  }
  ctx.files.set(p.file, f);
  const t = nowMs();
  const final = p.status === "done" || (f.total && f.loaded >= f.total);
  if (!final && t - ctx.lastProgressPost < 50) return; // at most ~20 progress messages per second
  ctx.lastProgressPost = t;
  let overallLoaded = 0;
  let overallTotal = 0;
  for (const v of ctx.files.values()) {
    overallLoaded += v.loaded;
    overallTotal += v.total || v.loaded;
  }
  post({
    type: "progress",
    id,
    file: p.file,
    status: p.status,
    loaded: f.loaded,
    total: f.total,
    overallLoaded,
    overallTotal,
    fromCache: ctx.cacheHits.has(p.file),
  });
}

// ---------------------------------------------------------------------------------------------
// Pair encoding: exactly HF `tokenizer(query, passage, truncation="only_second", max_length=L)`.
// transformers.js' own truncation cuts the *end* of the joined sequence (dropping the final [SEP]),
// so we truncate the passage tokens ourselves and then apply the tokenizer's post-processor.

function pairLayout(tokenizer) {
  const tok = tokenizer._tokenizer;
  const probe = tok.post_processor ? tok.post_processor(["a"], ["b"], true) : { tokens: ["a", "b"] };
  const specialCount = probe.tokens.length - 2;
  const single = tok.post_processor ? tok.post_processor(["a"], null, true) : { tokens: ["a"] };
  const padId = tokenizer.pad_token_id ?? 0;
  return { specialCount, specialCountSingle: single.tokens.length - 1, padId };
}

/** Bi-encoder input: one text, `[CLS] text [SEP]`, truncated to the window (like HF truncation=True). */
function encodeSingle(m, text) {
  const tok = m.tokenizer._tokenizer;
  let t = tok.encode_text(text) || [];
  const room = m.maxLength - (m.specialCountSingle ?? 2);
  if (t.length > room) t = t.slice(0, Math.max(0, room));
  const out = tok.post_processor ? tok.post_processor(t, null, true) : { tokens: t };
  const ids = out.tokens.map((x) => tokenToId(tok, x));
  return { ids, typeIds: out.token_type_ids || new Array(ids.length).fill(0) };
}

function encodeItem(m, it) {
  return m.kind === "bi-encoder" ? encodeSingle(m, it.text) : encodePair(m, it.query, it.text);
}

function tokenToId(tok, t) {
  return tok.added_tokens_map?.get(t)?.id ?? tok.model.tokens_to_ids.get(t) ?? tok.model.unk_token_id;
}

function encodePair(m, query, text) {
  const tok = m.tokenizer._tokenizer;
  let q = tok.encode_text(query) || [];
  let p = tok.encode_text(text) || [];
  const budget = m.maxLength - m.specialCount;
  // Queries longer than the window: keep at most half of it for the query (HF would refuse only_second here).
  if (q.length > Math.floor(budget / 2) && q.length + p.length > budget) q = q.slice(0, Math.max(1, Math.floor(budget / 2)));
  const room = budget - q.length;
  if (p.length > room) p = p.slice(0, Math.max(0, room));
  const out = tok.post_processor ? tok.post_processor(q, p, true) : { tokens: q.concat(p) };
  const ids = out.tokens.map((t) => tokenToId(tok, t));
  const typeIds = out.token_type_ids || new Array(ids.length).fill(0);
  return { ids, typeIds };
}

// ---------------------------------------------------------------------------------------------
// Scoring

// Chosen by measurement on 2 cores (bench/README.md, sessions 4-5): the first batch is one short pair so the first score
// shows fast; later batches are small and length-bucketed: in wasm, 4-pair batches score more pairs per second
// than 16-pair ones (activations stay in cache) and long passages never pad short ones.
const DEFAULT_FIRST_BATCH = 1;
const FIRST_BATCH_CANDIDATES = 8; // the first batch is the shortest of the first 8 pairs (tokenising 8 is < 1 ms)
const DEFAULT_MAX_BATCH = 4;
const DEFAULT_BATCH_TOKENS = 1024;

function cancelAll() {
  for (const r of runs) r.cancelled = true;
}

/** Score requests not finished yet, in arrival order; runs[0] is the one executing. */
const runs = [];

async function handleScore(msg) {
  let finish;
  const run = { id: msg.id, cancelled: false, msg };
  run.finished = new Promise((r) => (finish = r));
  // A new score request supersedes everything before it, unless the caller asked to queue it behind.
  if (!msg.queue) cancelAll();
  runs.push(run);
  try {
    // Runs never interleave: wait for earlier runs to notice their cancel flag (checked between batches).
    while (runs[0] !== run) await runs[0].finished;
    await scoreRun(run);
  } finally {
    runs.splice(runs.indexOf(run), 1);
    finish();
  }
}

async function scoreRun(run) {
  const { id } = run;
  const msg = run.msg;
  const t0 = nowMs();
  while (loading) await loading.catch(() => {}); // reported by the load itself
  if (run.cancelled) return post({ type: "done", id, pairs: 0, ms: 0, firstResultMs: null, cancelled: true });
  const m = current;
  if (!m) {
    return post({ type: "error", id, message: "No model is loaded yet. Choose a model and wait until it is ready, then press Rerank.", detail: "score before load", phase: "score" });
  }
  const pairs = Array.isArray(msg.pairs) ? msg.pairs : [];
  const returnIds = !!msg.returnIds;
  let firstResultMs = null;
  let scored = 0;
  let batches = 0;
  let tokenizeMs = 0;
  let inferMs = 0;
  try {
    // First micro-batch: the shortest of the caller's first few pairs (their top candidates), tokenised alone, so
    // a score shows quickly even when the list opens with a long passage.
    const items = pairs.map((p, i) => ({ i, key: String(p.key), query: String(p.query ?? ""), text: String(p.text ?? ""), enc: null }));
    if (m.kind === "bi-encoder") await embedQueries(m, items);
    const head = items.slice(0, Math.max(m.firstBatch, FIRST_BATCH_CANDIDATES));
    const ta0 = nowMs();
    for (const it of head) it.enc = encodeItem(m, it);
    tokenizeMs += nowMs() - ta0;
    const first = [...head].sort((a, b) => a.enc.ids.length - b.enc.ids.length).slice(0, m.firstBatch);
    let rest = items.filter((it) => !first.includes(it));
    const queue = [];
    if (first.length) queue.push(first);
    let restPrepared = rest.length === 0;
    let maxTokens = m.batchTokens;
    while (queue.length || !restPrepared) {
      if (run.cancelled) break;
      if (!queue.length) {
        const ta = nowMs();
        for (const it of rest) it.enc = it.enc || encodeItem(m, it);
        tokenizeMs += nowMs() - ta;
        rest.sort((a, b) => a.enc.ids.length - b.enc.ids.length); // length bucketing: similar lengths share a batch
        let batch = [];
        for (const it of rest) {
          const len = it.enc.ids.length;
          if (batch.length && (batch.length >= m.maxBatch || (batch.length + 1) * len > maxTokens)) {
            queue.push(batch);
            batch = [];
          }
          batch.push(it);
        }
        if (batch.length) queue.push(batch);
        restPrepared = true;
        rest = [];
        continue;
      }
      const batch = queue.shift();
      const ta = nowMs();
      for (const it of batch) it.enc = it.enc || encodeItem(m, it);
      tokenizeMs += nowMs() - ta;
      let logits;
      const tb = nowMs();
      try {
        logits = await runBatch(m, batch);
      } catch (err) {
        if (isOutOfMemory(err) && batch.length > 1) {
          // Out of memory on a big batch: split it and carry on with smaller batches.
          const half = Math.ceil(batch.length / 2);
          queue.unshift(batch.slice(0, half), batch.slice(half));
          maxTokens = Math.max(256, Math.floor(maxTokens / 2));
          continue;
        }
        throw err;
      }
      inferMs += nowMs() - tb;
      batches += 1;
      if (run.cancelled) break; // a cancel that arrived during the batch: send nothing more
      for (let k = 0; k < batch.length; k++) {
        const it = batch[k];
        const r = { type: "result", id, key: it.key, index: it.i, logit: logits[k], tokens: it.enc.ids.length, model: m.entry.id };
        if (returnIds) {
          r.ids = it.enc.ids;
          r.typeIds = it.enc.typeIds;
        }
        post(r);
      }
      scored += batch.length;
      if (firstResultMs === null) firstResultMs = nowMs() - t0;
      await yieldToEvents(); // lets a `cancel` or a new `score` in before the next batch
    }
    post({
      type: "done",
      id,
      pairs: scored,
      ms: Math.round((nowMs() - t0) * 10) / 10,
      firstResultMs: firstResultMs === null ? null : Math.round(firstResultMs * 10) / 10,
      cancelled: run.cancelled,
      batches,
      tokenizeMs: Math.round(tokenizeMs * 10) / 10,
      inferMs: Math.round(inferMs * 10) / 10,
      model: m.entry.id,
      backend: m.backend,
      threads: m.threads,
    });
  } catch (err) {
    const raw = String(err && (err.message || err));
    const message = isOutOfMemory(err)
      ? "The browser ran out of memory while scoring, even one passage at a time. Shorten the passages or close other tabs, then press Rerank again."
      : `Scoring failed in ONNX Runtime: ${raw.slice(0, 200)}. Press Rerank to try again; if it repeats, reload the model.`;
    post({ type: "error", id, message, detail: raw, phase: "score", scored });
  }
}

async function runBatch(m, batch) {
  const n = batch.length;
  let len = 0;
  for (const it of batch) len = Math.max(len, it.enc.ids.length);
  const ids = new BigInt64Array(n * len);
  const mask = new BigInt64Array(n * len);
  const types = new BigInt64Array(n * len);
  const pad = BigInt(m.padId);
  for (let b = 0; b < n; b++) {
    const e = batch[b].enc;
    const off = b * len;
    for (let j = 0; j < len; j++) {
      if (j < e.ids.length) {
        ids[off + j] = BigInt(e.ids[j]);
        mask[off + j] = 1n;
        types[off + j] = BigInt(e.typeIds[j] || 0);
      } else {
        ids[off + j] = pad;
      }
    }
  }
  const dims = [n, len];
  const feeds = {};
  const all = { input_ids: ids, attention_mask: mask, token_type_ids: types };
  for (const name of m.inputNames) {
    if (!all[name]) throw new Error(`model input "${name}" is not supported`);
    feeds[name] = new T.Tensor("int64", all[name], dims);
  }
  let logits;
  if (m.inference === "model") {
    const out = await m.model(feeds);
    logits = out.logits || out.last_hidden_state;
  } else {
    const ortFeeds = {};
    for (const k in feeds) ortFeeds[k] = feeds[k].ort_tensor;
    const out = await m.session.run(ortFeeds);
    logits = out.logits || out.sentence_embedding || out.last_hidden_state || out[m.session.outputNames[0]];
  }
  if (m.kind === "bi-encoder") {
    const vectors = meanPoolNormalise(logits, mask, n, len);
    return batch.map((it, b) => (it.queryVector ? dot(vectors[b], it.queryVector) : vectors[b]));
  }
  const data = logits.data;
  const cols = logits.dims[logits.dims.length - 1] || 1;
  const res = new Array(n);
  for (let b = 0; b < n; b++) res[b] = Number(data[b * cols + (cols - 1)]); // single-logit heads: cols == 1
  logits.dispose?.();
  return res;
}

/** Bi-encoder: mean of the token vectors under the attention mask, scaled to unit length (sentence-transformers). */
function meanPoolNormalise(out, mask, n, len) {
  const data = out.data;
  const dims = out.dims;
  const vectors = [];
  if (dims.length === 2) {
    const h = dims[1]; // already pooled (sentence_embedding)
    for (let b = 0; b < n; b++) vectors.push(unit(Float32Array.from(data.subarray(b * h, (b + 1) * h))));
    return vectors;
  }
  const h = dims[2];
  for (let b = 0; b < n; b++) {
    const v = new Float32Array(h);
    let count = 0;
    for (let j = 0; j < len; j++) {
      if (mask[b * len + j] === 0n) continue;
      count += 1;
      const off = (b * len + j) * h;
      for (let k = 0; k < h; k++) v[k] += data[off + k];
    }
    for (let k = 0; k < h; k++) v[k] /= Math.max(1, count);
    vectors.push(unit(v));
  }
  return vectors;
}

function unit(v) {
  let norm = 0;
  for (const x of v) norm += x * x;
  norm = Math.sqrt(norm) || 1;
  for (let k = 0; k < v.length; k++) v[k] /= norm;
  return v;
}

function dot(a, b) {
  let s = 0;
  for (let k = 0; k < a.length; k++) s += a[k] * b[k];
  return s;
}

/** Embed each distinct query of the run once (cached across runs) and attach the vector to its items. */
async function embedQueries(m, items) {
  const missing = [...new Set(items.map((it) => it.query))].filter((q) => !m.queryEmbeddings.has(q));
  for (let i = 0; i < missing.length; i += 8) {
    const chunk = missing.slice(i, i + 8).map((q) => ({ text: q, enc: encodeSingle(m, q) }));
    const vectors = await runBatch(m, chunk);
    chunk.forEach((c, k) => m.queryEmbeddings.set(c.text, vectors[k]));
  }
  while (m.queryEmbeddings.size > 64) m.queryEmbeddings.delete(m.queryEmbeddings.keys().next().value);
  for (const it of items) it.queryVector = m.queryEmbeddings.get(it.query);
}


// ---------------------------------------------------------------------------------------------

self.onmessage = (ev) => {
  const msg = ev.data || {};
  switch (msg.type) {
    case "load": {
      // A model switch cancels scoring with the previous model at once; loads run one after another, and a
      // load that a newer one replaced before it started is skipped.
      cancelAll();
      latestLoadId = msg.id;
      const p = (loading || Promise.resolve())
        .catch(() => {})
        .then(() => {
          if (latestLoadId !== msg.id) {
            post({ type: "error", id: msg.id, superseded: true, phase: "load", message: "A newer model was requested before this one started loading.", detail: "superseded" });
            return;
          }
          return handleLoad(msg);
        });
      loading = p;
      p.finally(() => {
        if (loading === p) loading = null;
      });
      break;
    }
    case "score":
      handleScore(msg).catch((err) => post({ type: "error", id: msg.id, message: `Scoring failed: ${err && err.message}`, detail: String(err), phase: "score" }));
      break;
    case "cancel": {
      for (const r of runs) if (msg.id === undefined || msg.id === null || r.id === msg.id) r.cancelled = true;
      break;
    }
    case "ping":
      post({ type: "pong", id: msg.id, crossOriginIsolated: self.crossOriginIsolated, cores: self.navigator?.hardwareConcurrency || null });
      break;
    default:
      post({ type: "error", id: msg.id, message: `Unknown request "${msg.type}" sent to the scoring worker.`, detail: JSON.stringify(msg).slice(0, 200) });
  }
};
