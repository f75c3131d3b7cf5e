// The example chips (static/presets/): loads the index, fetches a preset on hover or click, and fills the
// inputs from it (texts one per line, or JSON when a text spans lines) with its relevance labels.
//
// Events: "applied" after a preset filled the inputs.

import { setError } from "./feedback.js";

export class Presets extends EventTarget {
  constructor(inputs) {
    super();
    this.inputs = inputs;
    this.list = document.getElementById("presets");
    this.index = [];
    this.cache = new Map(); // id -> promise of the preset
  }

  /** Load the index and draw one chip per preset. */
  async init() {
    try {
      const resp = await fetch(new URL("../static/presets/index.json", import.meta.url));
      if (!resp.ok) throw new Error(`HTTP ${resp.status}`);
      this.index = await resp.json();
    } catch {
      this.list.replaceChildren(Object.assign(document.createElement("li"), { className: "muted", textContent: "Examples could not be loaded." }));
      return;
    }
    const items = this.index.map((p) => {
      const li = document.createElement("li");
      const b = document.createElement("button");
      b.type = "button";
      b.className = "preset-chip";
      b.dataset.preset = p.id;
      b.setAttribute("aria-pressed", "false");
      b.textContent = p.title;
      b.title = p.description || "";
      b.addEventListener("click", () => this.apply(p.id));
      b.addEventListener("pointerenter", () => this.load(p.id).catch(() => {}), { once: true });
      li.append(b);
      return li;
    });
    this.list.replaceChildren(...items);
  }

  /** The preset `id` (fetched once; a failed fetch is tried again next time). */
  async load(id) {
    if (this.cache.has(id)) return this.cache.get(id);
    const meta = this.index.find((p) => p.id === id);
    if (!meta) throw new Error(`There is no example called “${id}”.`);
    const promise = fetch(new URL(`../static/presets/${meta.file}`, import.meta.url)).then((r) => {
      if (!r.ok) throw new Error(`The example “${meta.title}” could not be loaded (HTTP ${r.status}).`);
      return r.json();
    });
    this.cache.set(id, promise);
    promise.catch(() => this.cache.delete(id));
    return promise;
  }

  /** Fill the inputs from a preset; resolves with the preset, or null (message shown) when it cannot load. */
  async apply(id) {
    let preset;
    try {
      preset = await this.load(id);
    } catch (err) {
      setError("passages", err.message);
      return null;
    }
    const texts = preset.passages.map((p) => p.text);
    const multiline = texts.some((t) => /\n/.test(t));
    const labelled = preset.passages.filter((p) => p.relevance !== undefined && p.relevance !== null);
    this.inputs.fill({
      query: preset.query, passages: multiline ? JSON.stringify(texts, null, 1) : texts.join("\n"),
      mode: multiline ? "json" : "lines", labels: new Map(labelled.map((p) => [p.text, p.relevance])), preset,
    });
    this.mark(id);
    this.inputs.clearErrors();
    this.dispatchEvent(new CustomEvent("applied"));
    return preset;
  }

  /** Press the chip of `id` (null: none). */
  mark(id) {
    for (const b of this.list.querySelectorAll(".preset-chip")) b.setAttribute("aria-pressed", String(b.dataset.preset === id));
  }
}
