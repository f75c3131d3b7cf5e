// Share and export: share links (?s=<code>, made and decoded by Python), restoring a link's input, and the
// JSON / Markdown / CSV export of lane A's ranking, copied to the clipboard and shown in "Last export".
//
// Events: "restored" {model: catalog entry | null} after a link's input was filled in; `model` is the link's
// main model when it differs from the one chosen. A link restores the ranking, so the page runs it then.

import { announce, setError } from "./feedback.js";
import { modelName } from "./format.js";

const $ = (id) => document.getElementById(id);
const EXPORT_FORMATS = { json: "JSON", markdown: "Markdown", csv: "CSV" };

async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

export class SharePanel extends EventTarget {
  constructor({ python, inputs, presets, models, runs }) {
    super();
    this.python = python;
    this.inputs = inputs;
    this.presets = presets;
    this.models = models;
    this.lane = runs.lanes.a;
    this.pending = null; // the link's share code, restored once Python is ready
    this.documents = null; // Documents mode: its settings ({retriever, k, budget}) go into the link instead
    this.shareUrl = $("share-url");
    this.exportPreview = $("export-preview");
  }

  wire() {
    $("share").addEventListener("click", () => this.share());
    for (const fmt of Object.keys(EXPORT_FORMATS)) $(`export-${fmt}`).addEventListener("click", () => this.export(fmt));
  }

  /** Export buttons work once lane A has a ranking, and not while a run is in progress (`on` false). */
  setExportEnabled(on) {
    for (const fmt of Object.keys(EXPORT_FORMATS)) $(`export-${fmt}`).disabled = !on || !this.lane.session;
  }

  async export(fmt) {
    if (!this.lane.session) return;
    this.lane.flush();
    const res = this.python.call("export", "a", fmt);
    if (res.error) { setError("share", res.error.message); return; }
    this.exportPreview.value = res.text;
    this.exportPreview.dataset.format = fmt;
    const copied = await copyText(res.text);
    const name = EXPORT_FORMATS[fmt];
    announce(copied ? `${name} copied to the clipboard.` : `${name} is in the “Last export” box below; copy it from there.`);
  }

  async share() {
    setError("share", "");
    if (!this.python.glue) { setError("share", "Share links are made by Python, which is still loading. Try again in a moment."); return; }
    const topK = this.inputs.readTopK();
    if (topK === null) return;
    if (this.documents) { await this.shareDocuments(); return; }
    const res = this.python.call("share", {
      ...this.inputs.payload(), model: this.models.selectedId(), defaultModel: this.models.defaultEntry()?.id || "",
      preset: this.inputs.preset,
    });
    if (res.error) {
      this.inputs.showError(res.error);
      announce(res.error.message);
      return;
    }
    const url = new URL(location.href);
    url.search = "";
    url.hash = "";
    url.searchParams.set("s", res.code);
    this.shareUrl.value = url.href;
    const copied = await copyText(url.href);
    announce(copied ? "Share link copied to the clipboard." : "Share link ready in the box below.");
  }

  /** Documents mode: the link carries the query and settings as address parameters; a collection never travels. */
  async shareDocuments() {
    const res = this.python.call("docs_share", {
      ...this.inputs.payload(), ...this.documents.shareSettings(), model: this.models.selectedId(),
      defaultModel: this.models.defaultEntry()?.id || "",
    });
    if (res.error) {
      setError(res.error.field === "query" ? "query" : "share", res.error.message);
      announce(res.error.message);
      return;
    }
    const url = new URL(location.href);
    url.search = "";
    url.hash = "";
    for (const [key, value] of res.params) url.searchParams.set(key, value);
    this.shareUrl.value = url.href;
    const copied = await copyText(url.href);
    announce(`${copied ? "Share link copied to the clipboard." : "Share link ready in the box below."} ${res.note}`);
  }

  /** Restore the link's code, if the page was opened with one (called once Python is ready). */
  restorePending() {
    if (this.pending !== null) this.restore(this.pending);
  }

  /** Fill in a decoded share state, then emit "restored". */
  async restore(code) {
    this.pending = null;
    const res = this.python.call("restore", code);
    if (res.error) {
      setError("share", res.error.message);
      announce(res.error.message);
      return;
    }
    if (res.preset) {
      const preset = await this.presets.apply(res.preset);
      if (!preset) return;
    } else {
      this.inputs.fill({ query: res.query, passages: res.passages, mode: res.mode, labels: new Map(res.labels), preset: null });
      this.presets.mark(null);
    }
    this.inputs.fillSettings(res.threshold, res.topK);
    let model = null;
    if (res.model && res.model !== this.models.selectedId()) {
      model = this.models.entryById(res.model);
      if (!model) {
        const using = modelName(this.lane.entry || this.models.defaultEntry());
        setError("model", `The link was made with the model “${res.model}”, which this page does not offer; using ${using}.`);
      }
    }
    this.dispatchEvent(new CustomEvent("restored", { detail: { model } }));
  }
}
