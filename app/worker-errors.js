// Scoring worker, errors: every failure becomes a sentence a person can act on, plus the raw detail.

export class UserError extends Error {
  constructor(message, detail) {
    super(message);
    this.detail = detail;
  }
}

const rawText = (err) => String(err && (err.message || err));

export function isOutOfMemory(err) {
  const raw = rawText(err);
  return (
    err instanceof RangeError ||
    /out of memory|Out of memory|OOM|Array buffer allocation failed|failed to allocate|memory access out of bounds|bad_alloc|Cannot enlarge memory/i.test(raw)
  );
}

/** A file-level failure (missing file, a UserError already worded): no point retrying on another backend. */
export function isUserFacingFileError(err, ctx) {
  return err instanceof UserError || ctx.status404 || /not found|404/i.test(rawText(err));
}

/** The sentence for a failed load; `ctx` is the load's record of what it fetched (app/worker-load.js). */
export function describeLoadError(err, entry, ctx) {
  if (err instanceof UserError) return err;
  if (ctx.fetchError) return ctx.fetchError;
  const raw = rawText(err) || "unknown error";
  const name = entry.label || entry.id;
  const where = entry.source === "hub" ? `the model host (${ctx.remoteHost})` : "this site";
  const file = ctx.lastFailedFile || ctx.lastFile || "a model file";
  if (/ModelFileNotFound|not found|Could not locate|\b404\b|\b401\b|\b403\b/i.test(raw) || ctx.status404) {
    const f = ctx.status404 || file;
    return new UserError(
      `The model file "${f}" of ${name} was not found on ${where} (HTTP 404). ` +
        `Check that the model is published there, or choose another model.`,
      raw,
    );
  }
  if (/protobuf|Failed to load model|invalid model|ERROR_CODE: ?(7|1|2)\b|model_path|parse/i.test(raw) && /onnx|session|model/i.test(raw)) {
    return new UserError(
      `The model file "${ctx.onnxFile || "onnx/model.onnx"}" of ${name} is damaged or incomplete, so ONNX Runtime ` +
        `could not read it. The cached copy was removed; press retry to download it again.`,
      raw,
    );
  }
  if (ctx.badJson || /JSON|Unexpected token|Unexpected end|tokenizer/i.test(raw)) {
    const bad = ctx.badJson || ctx.lastJsonFile || "tokenizer.json";
    const what = /^tokenizer/.test(bad) ? "tokenizer" : "configuration";
    return new UserError(
      `The ${what} of ${name} could not be read: "${bad}" is damaged (not valid JSON). ` +
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
    return new UserError(`The browser ran out of memory while loading ${name}. Close other tabs or choose a smaller model.`, raw);
  }
  if (/Failed to fetch|NetworkError|network/i.test(raw)) {
    return new UserError(`The download of "${file}" from ${where} failed (network error). Check the connection and press retry.`, raw);
  }
  return new UserError(`Loading ${name} failed: ${raw}. Press retry, or choose another model.`, raw);
}

/** The sentence for a failed score run. */
export function describeScoreError(err) {
  const raw = rawText(err);
  const message = isOutOfMemory(err)
    ? "The browser ran out of memory while scoring, even one passage at a time. Shorten the passages or close other tabs, then press Rerank again."
    : `Scoring failed in ONNX Runtime: ${raw.slice(0, 200)}. Press Rerank to try again; if it repeats, reload the model.`;
  return { message, detail: raw };
}
