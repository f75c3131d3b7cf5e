// Documents mode, two more ways in: files dropped on the documents panel (loaded exactly like files picked in
// #documents-files: the same `DocumentsMode.loadFiles`, its refusals and notes), and a pasted text added as one
// more document (Python's `Collection.add_text`, then the same split + index). The file input stays the keyboard
// path; a refused text stays in its box.

import { announce } from "./feedback.js";
import { drawStatus } from "./documents-view.js";
import { formatBytes } from "./format.js";
import { RUNTIME } from "./runtime.js";

const $ = (id) => document.getElementById(id);
const hasFiles = (transfer) => Boolean(transfer) && [...(transfer.types || [])].includes("Files");
const isTextField = (node) => node instanceof HTMLTextAreaElement ||
  (node instanceof HTMLInputElement && ["text", "search"].includes(node.type));

/** A drop's files and the names of its folders (a folder's entry says so; synthetic drops have no entries). */
function splitDrop(transfer) {
  const items = [...(transfer.items || [])].filter((item) => item.kind === "file");
  if (!items.length) return { files: [...(transfer.files || [])], folders: [] };
  const files = [];
  const folders = [];
  for (const item of items) {
    const entry = item.webkitGetAsEntry ? item.webkitGetAsEntry() : null;
    const file = item.getAsFile();
    if (entry && entry.isDirectory) folders.push(entry.name);
    else if (file) files.push(file);
  }
  return { files, folders };
}

function folderMessage(folders) {
  if (!folders.length) return "";
  const names = folders.slice(0, 3).map((n) => `“${n}”`).join(", ") + (folders.length > 3 ? ", …" : "");
  return folders.length === 1
    ? `${names} is a folder and was not read: open it and drop (or choose) the files inside.`
    : `${folders.length} folders (${names}) were not read: open them and drop (or choose) the files inside.`;
}

function notFilesMessage(transfer) {
  const types = [...(transfer?.types || [])];
  const what = types.includes("text/uri-list") ? "a link" : types.length ? "text" : "nothing this page can read";
  return `Only files can be dropped here, and that was ${what}. To add a text as a document, paste it into ` +
    "“Paste a text” below.";
}

export class DocumentsInput {
  constructor({ python, documents }) {
    this.python = python;
    this.documents = documents;
    this.panel = $("documents-panel");
    this.zone = $("documents-drop");
    this.text = $("documents-text");
    this.name = $("documents-text-name");
    this.add = $("documents-text-add");
    this.error = $("documents-text-error");
  }

  wire() {
    const { MAX_FILE_BYTES } = RUNTIME.limits;
    if (MAX_FILE_BYTES) $("documents-text-max").textContent = formatBytes(MAX_FILE_BYTES);
    this.panel.addEventListener("dragenter", (e) => this.onDragOver(e));
    this.panel.addEventListener("dragover", (e) => this.onDragOver(e));
    this.panel.addEventListener("dragleave", (e) => {
      if (!this.panel.contains(e.relatedTarget)) this.setOver(false);
    });
    this.panel.addEventListener("drop", (e) => this.onDrop(e));
    // In Documents mode a file let go outside the panel must not replace the page (and the collection) with it.
    document.addEventListener("dragover", (e) => {
      if (!this.documents.active || !hasFiles(e.dataTransfer) || this.panel.contains(e.target)) return;
      e.preventDefault();
      e.dataTransfer.dropEffect = "none";
    });
    document.addEventListener("drop", (e) => {
      if (this.documents.active && hasFiles(e.dataTransfer) && !this.panel.contains(e.target)) e.preventDefault();
    });
    document.addEventListener("dragend", () => this.setOver(false));
    this.add.addEventListener("click", () => this.addText());
    this.text.addEventListener("input", () => this.showError(""));
    this.text.addEventListener("paste", (e) => this.guardInsert(e, e.clipboardData, "pasted"));
    this.text.addEventListener("drop", (e) => {
      if (!hasFiles(e.dataTransfer)) this.guardInsert(e, e.dataTransfer, "dropped");
    });
  }

  setOver(over) {
    if (over) this.zone.dataset.drag = "over";
    else delete this.zone.dataset.drag;
  }

  /** Files dragged over the panel: accept them and show it. Other data is accepted (to explain on drop) except
   *  over a text field, which takes dropped text itself. */
  onDragOver(e) {
    const files = hasFiles(e.dataTransfer);
    if (!files && isTextField(e.target)) return;
    e.preventDefault();
    if (e.dataTransfer) e.dataTransfer.dropEffect = files ? "copy" : "none";
    this.setOver(files);
  }

  onDrop(e) {
    const transfer = e.dataTransfer;
    if (!hasFiles(transfer) && isTextField(e.target)) return;
    e.preventDefault();
    this.setOver(false);
    if (!this.documents.active) return;
    const { files, folders } = hasFiles(transfer) ? splitDrop(transfer) : { files: [], folders: [] };
    const folderNote = folderMessage(folders);
    if (!files.length) {
      this.documents.showError(folderNote || notFilesMessage(transfer));
      return;
    }
    const picked = files.map((f) => ({ name: f.name, blob: f }));
    announce(`Reading ${picked.length.toLocaleString()} dropped file${picked.length === 1 ? "" : "s"}…`);
    this.documents.queueLoad(async () => {
      await this.documents.loadFiles(picked);
      if (folderNote) this.documents.showError(folderNote);
    });
  }

  showError(message) {
    this.error.textContent = message || "";
    if (message) {
      this.text.setAttribute("aria-invalid", "true");
      announce(message);
    } else {
      this.text.removeAttribute("aria-invalid");
    }
  }

  /** Refuse a paste/drop that certainly passes the size limit (more characters than the limit's bytes): a text
   *  that large would stall the page in the box long before Python refused it. The box stays as it was. */
  guardInsert(event, transfer, verb) {
    const { MAX_FILE_BYTES } = RUNTIME.limits;
    const text = transfer?.getData("text/plain") ?? "";
    const field = this.text;
    const after = field.value.length - (field.selectionEnd - field.selectionStart) + text.length;
    if (!MAX_FILE_BYTES || after <= MAX_FILE_BYTES) return;
    event.preventDefault();
    this.showError(`The ${verb} text is ${text.length.toLocaleString("en-US")} characters; a pasted text can be ` +
      `at most ${formatBytes(MAX_FILE_BYTES)}. Nothing was ${verb}; the box is as it was. Add the text in parts.`);
  }

  /** Add the box's text as a document; the box empties only once Python took it (and if it was not edited since). */
  addText() {
    const text = this.text.value;
    const name = this.name.value;
    this.showError("");
    return this.documents.queueLoad(async () => {
      await this.documents.whenPython();
      const res = this.python.call("docs_add_text", text, name);
      if (res.error) { this.showError(res.error.message); return; }
      if (res.refused) {
        this.showError(res.refused);
        drawStatus(res.status.summary, res.notes);
        return;
      }
      if (this.text.value === text) {
        this.text.value = "";
        this.name.value = "";
      }
      await this.documents.index(res.notes);
    });
  }
}
