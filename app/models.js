// The model catalog (static/models.json) and the two model pickers: the main model and the optional second
// one, whose choice opens or closes the second result column. Entries of kind "bi-encoder" are never offered
// as rerankers; app/compare.js uses the first one for its vector column.
//
// Events: "pick" {slot: "a" | "b", entry | null} when the user changes a picker.

import { loadCatalog } from "./scorer.js";
import { setError, setPhase } from "./feedback.js";
import { formatBytes, modelName } from "./format.js";

const $ = (id) => document.getElementById(id);

/** A catalog entry's one-line description next to its picker: source badge, size, max tokens. */
function describeModel(entry, el) {
  if (!entry) { el.textContent = ""; return; }
  const badge = document.createElement("span");
  badge.className = `badge ${entry.source === "bundled" ? "badge-bundled" : "badge-hub"}`;
  badge.textContent = entry.source === "bundled" ? "bundled" : "hub";
  const size = entry.size_bytes ? formatBytes(entry.size_bytes) : (entry.size_hint || "size unknown").split(" (")[0];
  const text = entry.source === "bundled"
    ? ` ships with this page · ${size} · max ${entry.max_length} tokens`
    : ` downloads ${size} once, then cached · max ${entry.max_length} tokens`;
  el.replaceChildren(badge, document.createTextNode(text));
  el.title = entry.description || "";
}

export class ModelPicker extends EventTarget {
  constructor() {
    super();
    this.catalog = [];
    this.select = { a: $("model"), b: $("model-b") };
    this.meta = { a: $("model-meta"), b: $("model-b-meta") };
    this.columnB = $("results-col-b");
    this.area = $("results-area");
    this.heading = { a: $("results-model-a"), b: $("results-model-b") };
  }

  wire() {
    for (const slot of ["a", "b"]) {
      this.select[slot].addEventListener("change", () => {
        const entry = this.entryById(this.select[slot].value);
        this.dispatchEvent(new CustomEvent("pick", { detail: { slot, entry } }));
      });
    }
  }

  rerankers() {
    return this.catalog.filter((e) => e.kind !== "bi-encoder");
  }

  entryById(id) {
    return this.rerankers().find((e) => e.id === id) || null;
  }

  defaultEntry() {
    return this.rerankers().find((e) => e.default) || this.rerankers()[0] || null;
  }

  /** The catalog's bi-encoder (vector column) entry, or undefined. */
  vectorEntry() {
    return this.catalog.find((e) => e.kind === "bi-encoder");
  }

  /** The id chosen in the main picker ("" before the catalog is in). */
  selectedId() {
    return this.select.a.value;
  }

  /** Show `entry` as the main model (the caller loads it). */
  choose(entry) {
    this.select.a.value = entry.id;
  }

  /** Load the catalog, fill both pickers and choose the main model (the link's `wanted` one if offered);
   *  resolves with that entry, or null when there is none. */
  async init(wanted) {
    try {
      this.catalog = await loadCatalog();
    } catch (err) {
      setError("model", err.message);
      setPhase("error");
      return null;
    }
    this.fill(this.select.a, false);
    this.fill(this.select.b, true);
    let entry = this.defaultEntry();
    if (wanted) {
      const found = this.entryById(wanted);
      if (found) entry = found;
      else setError("model", `The link asks for the model “${wanted}”, which this page does not offer; using ${modelName(entry)}.`);
    }
    if (!entry) { setError("model", "The model list is empty."); return null; }
    this.choose(entry);
    return entry;
  }

  fill(select, withNone) {
    const options = this.rerankers().map((entry) => {
      const o = document.createElement("option");
      o.value = entry.id;
      o.textContent = entry.label || entry.id;
      return o;
    });
    if (withNone) {
      const none = document.createElement("option");
      none.value = "";
      none.textContent = "None";
      options.unshift(none);
    }
    select.replaceChildren(...options);
  }

  /** Describe the entry a lane is loading next to that lane's picker. */
  describe(slot, entry) {
    describeModel(entry, this.meta[slot]);
  }

  /** Open the second result column for `entryB` (headed by both model names), or close it for null. */
  showSecondColumn(entryB, entryA) {
    this.columnB.hidden = !entryB;
    this.heading.a.hidden = !entryB;
    this.area.classList.toggle("split", Boolean(entryB));
    setError("modelB", "");
    if (!entryB) {
      this.meta.b.textContent = "";
      return;
    }
    this.heading.a.textContent = modelName(entryA || entryB);
    this.heading.b.textContent = modelName(entryB);
  }
}
