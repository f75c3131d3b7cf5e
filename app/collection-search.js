// Documents mode: find passages of the collection by the words they contain (Python's `Collection.find` through
// `docs_find`: every passage containing every term, in collection order, never ranked, so it shares no blind spot
// with the stage 1 being judged) and mark each relevant or not. A mark joins the same relevant set as a tick in the
// ranking (`DocumentsMode.relevant`), so stage 1's recall and "never reached the reranker" count it whether stage 1
// returned that passage or not. Every sentence here comes from Python; passages are written as text, never HTML.
//
// Events: "mark" {id, text, relevance} (relevance 2 = marked, 0 = unmarked, as a tick in the ranking).

import { announce } from "./feedback.js";
import { onIdle } from "./idle.js";
import { el, visuallyHidden } from "./view-dom.js";

const $ = (id) => document.getElementById(id);

export class CollectionSearch extends EventTarget {
  constructor({ python, documents }) {
    super();
    this.python = python;
    this.documents = documents;
    this.form = $("collection-search-form");
    this.input = $("collection-search");
    this.error = $("collection-search-error");
    this.status = $("collection-found-status");
    this.list = $("collection-found");
    this.shown = null; // the search whose hits are listed
  }

  wire() {
    this.form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.search(this.input.value);
    });
    this.input.addEventListener("input", () => this.showError(""));
    this.list.addEventListener("change", (e) => {
      if (e.target.classList.contains("found-box")) this.mark(e.target);
    });
  }

  showError(message) {
    this.error.textContent = message || "";
    if (message) this.input.setAttribute("aria-invalid", "true");
    else this.input.removeAttribute("aria-invalid");
  }

  /** List the passages containing `text` (after any load in progress); a refusal keeps the last list. */
  async search(text) {
    this.showError("");
    if (this.documents.pending) {
      this.status.textContent = "Waiting for the documents to be read and indexed…";
      await this.documents.loads;
    }
    if (!this.python.glue) {
      this.showError("Python is still starting; search again in a moment.");
      return;
    }
    const res = this.python.call("docs_find", text);
    if (res.error) {
      this.showError(res.error.message);
      this.status.textContent = "";
      return;
    }
    this.shown = text;
    this.draw(res);
  }

  /** The collection or stage 1 changed: list the shown search again (ids and stage-1 places may differ), when
   *  the page is idle, so a run's first scores never wait for it. */
  refresh() {
    if (this.shown === null) return;
    onIdle(() => { if (this.shown !== null && this.python.glue) this.search(this.shown); }, 1000);
  }

  draw(res) {
    this.status.textContent = res.summary;
    this.list.replaceChildren(...res.items.map((item) => this.item(item)));
    this.list.hidden = res.items.length === 0;
  }

  item({ id, source, excerpt, rank, where }) {
    const li = el("li", "found-passage");
    li.dataset.id = String(id);
    li.dataset.source = source;
    li.dataset.rank = rank === null ? "" : String(rank);
    const box = document.createElement("input");
    box.type = "checkbox";
    box.className = "found-box";
    box.checked = this.documents.relevant.has(id);
    const label = el("label", "found-toggle");
    label.append(box, el("span", null, "Relevant"), visuallyHidden(`: passage ${id + 1}, ${source}`));
    const place = el("p", "passage-source", where ? `${source} — ${where}` : source);
    li.append(place, el("p", "found-text", excerpt), label);
    return li;
  }

  /** A box was (un)ticked: the passage's text from Python, then "mark" for the page to relabel everywhere. */
  mark(box) {
    const id = Number(box.closest("li").dataset.id);
    const texts = this.python.call("docs_texts", id, 1);
    if (!Array.isArray(texts) || typeof texts[0] !== "string") {
      box.checked = !box.checked;
      this.showError("The collection changed; search again.");
      return;
    }
    const relevance = box.checked ? 2 : 0;
    this.dispatchEvent(new CustomEvent("mark", { detail: { id, text: texts[0], relevance } }));
    if (this.documents.stage1) return; // the funnel's recall line says what the mark changed
    announce(relevance ? "Marked relevant: run a query to see whether stage 1 reaches it." : "Unmarked.");
  }

  /** Tick exactly the listed passages that are marked relevant (after a tick in the ranking or a labelled query). */
  sync() {
    for (const box of this.list.querySelectorAll(".found-box")) {
      box.checked = this.documents.relevant.has(Number(box.closest("li").dataset.id));
    }
  }
}
