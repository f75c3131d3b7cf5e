// Scoring worker, loading: import transformers.js, point it at the model's files (bundled or hub) through our
// cache and a checking fetch, pick the ONNX Runtime backend (WebGPU falls back to wasm, with a reason), create the
// session and the tokenizer, and describe the loaded model for the score runs.

import { UserError, describeLoadError, isUserFacingFileError } from "./worker-errors.js";
import { dropCacheEntries, dropStaleRevisions, fileOf, makeModelCache } from "./worker-cache.js";
import { batchingOptions, specialTokenLayout } from "./worker-encode.js";
import { strategyFor } from "./worker-kinds.js";

const nowMs = () => performance.now();

/** transformers.js module and the URL it came from, imported once per worker. */
let T = null;
let transformersUrl = null;
/** Catalog ids whose last load failed: their next download bypasses the HTTP cache. */
const failedModels = new Set();
/** Threads fixed for the worker's lifetime (ORT initialises wasm once). */
let threadsChosen = null;
/** Which ONNX Runtime wasm build this worker initialised ("cpu" or "webgpu"); null before the first load. */
let ortRuntime = null;

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

/** The backend to try first ("webgpu" only when asked and possible) and why a WebGPU request fell back. */
async function chooseBackend(requested, onnx, runtime) {
  let backend = requested === "webgpu" ? "webgpu" : "wasm";
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
  return { backend, fallbackReason };
}

/** What one load saw: files fetched or found in the cache, the last file asked for, what went wrong where. */
function newLoadContext(entry, runtime) {
  const bundledRevision = entry.sha256 ? entry.sha256.slice(0, 16) : String(entry.size_bytes || "");
  return {
    cacheHits: new Set(),
    cachePuts: new Set(),
    fetched: new Set(),
    files: new Map(), // file -> {loaded, total}
    lastProgressPost: 0,
    remoteHost: runtime.remoteHost,
    ortWasmPaths: runtime.ortWasmPaths,
    revision: entry.source === "bundled" ? bundledRevision : entry.revision || "",
    modelPathMarker: `/${entry.path}/`,
    modelBase: "",
    onnxFile: null,
    lastFile: null,
    lastJsonFile: null,
    status404: null,
    cacheNote: null,
  };
}

/** transformers.js' fetch for this load: revalidates, and records which file failed and how (ctx). */
function checkingFetch(entry, ctx) {
  return async (url, init) => {
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
}

/** Point transformers.js at the entry's files (bundled: this site; hub: RUNTIME.remoteHost) and set up ORT. */
function configureEnv(Tm, entry, runtime, opts, ctx) {
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
  ctx.modelBase = new URL(`${entry.path}/`, isHub ? runtime.remoteHost : runtime.bundledModelsPath).href;
  env.fetch = checkingFetch(entry, ctx);
  const onnx = env.backends.onnx;
  onnx.wasm.proxy = false; // we are the worker already
  onnx.wasm.numThreads = chooseThreads(opts.threads);
  if (typeof onnx.wasm.simd !== "undefined") onnx.wasm.simd = true;
  return onnx;
}

const DTYPE_SUFFIX = { fp32: "", fp16: "_fp16", q8: "_quantized", int8: "_int8", uint8: "_uint8", q4: "_q4", bnb4: "_bnb4", q4f16: "_q4f16" };

/** Tokenizer and model, on `backend`; a WebGPU session that cannot be created falls back to wasm. */
async function createModel(Tm, entry, strategy, choice, ctx, opts, progress_callback) {
  const dtype = entry.dtype || "q8";
  ctx.onnxFile = `onnx/${entry.model_file_name || "model"}${DTYPE_SUFFIX[dtype] ?? ""}.onnx`;
  // The bundled file's weights are int8 blocks behind Cast → Mul (training/export.py). ORT's constant folding
  // would turn them into float32 weights while creating the session: in the browser that took ~1.2 s of a warm
  // start (it runs as cold, not yet optimised wasm code) and doubled the worker's memory, while dequantising on
  // each call costs ~20–30 ms per batch (bench/PAGE.md). Start-up wins: folding is off unless asked.
  const sessionOptions = opts.foldWeights ? {} : { extra: { optimization: { disable_specified_optimizers: "ConstantFolding" } } };
  if (opts.graphOptimizationLevel) sessionOptions.graphOptimizationLevel = opts.graphOptimizationLevel;
  const loadModel = (device) =>
    strategy.modelClass(Tm).from_pretrained(entry.path, {
      dtype,
      device,
      progress_callback,
      session_options: sessionOptions,
      ...(entry.model_file_name ? { model_file_name: entry.model_file_name } : {}),
    });
  const [tokenizer, model] = await Promise.all([
    Tm.AutoTokenizer.from_pretrained(entry.path, { progress_callback }),
    loadModel(choice.backend).catch(async (err) => {
      if (choice.backend !== "webgpu" || isUserFacingFileError(err, ctx)) throw err;
      choice.fallbackReason = `WebGPU session could not be created (${String(err && err.message ? err.message : err).slice(0, 200)})`;
      choice.backend = "wasm";
      return loadModel("wasm");
    }),
  ]);
  return { tokenizer, model };
}

/** Turns transformers.js' per-file progress into `progress` messages (at most ~20 per second). */
function progressReporter(id, ctx, post) {
  return (p) => {
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
    if (!final && t - ctx.lastProgressPost < 50) return;
    ctx.lastProgressPost = t;
    let overallLoaded = 0;
    let overallTotal = 0;
    for (const v of ctx.files.values()) {
      overallLoaded += v.loaded;
      overallTotal += v.total || v.loaded;
    }
    const fromCache = ctx.cacheHits.has(p.file);
    post({ type: "progress", id, file: p.file, status: p.status, loaded: f.loaded, total: f.total, overallLoaded, overallTotal, fromCache });
  };
}

/** Everything a score run needs about the loaded model. */
function modelState({ entry, opts, strategy, tokenizer, model, session, backend, onnx, Tm }) {
  return {
    entry,
    strategy,
    tokenizer,
    model,
    session,
    Tensor: Tm.Tensor,
    inputNames: session.inputNames,
    backend,
    threads: backend === "wasm" ? onnx.wasm.numThreads : null,
    maxLength: Math.min(entry.max_length || tokenizer.model_max_length || 512, tokenizer.model_max_length || Infinity),
    inference: opts.inference === "model" ? "model" : "session",
    ...batchingOptions(opts),
    ...specialTokenLayout(tokenizer),
  };
}

/**
 * Load the model of a `load` request, posting `progress` on the way. Resolves {model, ready} (the state for
 * score runs and the `ready` message) or {error} (the `error` message); never rejects.
 */
export async function loadModel(msg, post) {
  const { id, model: entry, runtime } = msg;
  const opts = msg.options || {};
  const t0 = nowMs();
  const ctx = newLoadContext(entry || {}, runtime);
  try {
    if (!entry || !entry.path) throw new UserError("No model was given to load. Choose a model from the list.", "missing model entry");
    const Tm = await importTransformers(runtime.transformers);
    const onnx = configureEnv(Tm, entry, runtime, opts, ctx);
    const choice = await chooseBackend(msg.backend, onnx, runtime);
    const strategy = strategyFor(entry);
    const { tokenizer, model } = await createModel(Tm, entry, strategy, choice, ctx, opts, progressReporter(id, ctx, post));
    const session = model.sessions && model.sessions.model;
    if (!session) throw new UserError(`${entry.label || entry.id} has no "model" session; it is not a single-file cross-encoder.`, "no session");
    const state = modelState({ entry, opts, strategy, tokenizer, model, session, backend: choice.backend, onnx, Tm });
    failedModels.delete(entry.id);
    dropStaleRevisions(ctx);
    const files = [...ctx.files.entries()].map(([file, f]) => ({ file, bytes: f.total || f.loaded, fromCache: ctx.cacheHits.has(file) }));
    const ready = {
      type: "ready",
      id,
      model: entry.id,
      backend: choice.backend,
      threads: state.threads,
      fromCache: ctx.fetched.size === 0 && ctx.cacheHits.size > 0,
      loadMs: Math.round(nowMs() - t0),
      fallbackReason: choice.fallbackReason,
      cacheNote: ctx.cacheNote,
      maxLength: state.maxLength,
      inputNames: state.inputNames,
      files,
    };
    return { model: state, ready };
  } catch (err) {
    return { error: await loadFailed(err, id, entry, ctx) };
  }
}

/** Clean up after a failed load and word its `error` message. */
async function loadFailed(err, id, entry, ctx) {
  // Never keep a broken download in the cache: the retry must fetch again.
  await dropCacheEntries(ctx.cachePuts);
  if (entry && entry.id) failedModels.add(entry.id);
  const ue = describeLoadError(err, entry || {}, ctx);
  // transformers.js chains session creation on one promise that never recovers from a rejection, and ORT
  // remembers a failed wasm initialisation: after such a failure this worker cannot create sessions again,
  // so the client replaces it (restart: true). Download-level failures (404, bad JSON) leave it usable.
  const fetchLevel = !!(ctx.status404 || ctx.badJson || ctx.lastFailedFile) && !/create a session|initWasm|wasm/i.test(String(err && err.message));
  return { type: "error", id, message: ue.message, detail: ue.detail || String(err), phase: "load", restart: !fetchLevel };
}
