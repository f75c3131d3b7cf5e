// Documents mode's PDF reader: the first PDF among the files makes the page fetch its own copy of the pinned pypdf
// wheel (RUNTIME.pdfReader, same origin in every flavour) and hand it to Python, which imports it from the zip.
// Nothing is fetched until a PDF arrives; if the fetch fails, Python refuses each PDF saying what to do instead.

import { drawStatus } from "./documents-view.js";
import { RUNTIME } from "./runtime.js";

const PDF_TYPE = "application/pdf";
let loaded = null;  // Promise<boolean> once a load started; reset after a failure so a later PDF retries

function looksLikePdf(file) {
  return /\.pdf$/i.test(file.name) || file.blob.type === PDF_TYPE;
}

async function load(python, readBase64) {
  const url = new URL(RUNTIME.pdfReader, import.meta.url);
  drawStatus("Loading the PDF reader (pypdf, once per visit)…");
  try {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const data = await readBase64(await response.blob());
    const res = python.call("docs_pdf_reader", url.pathname.split("/").pop(), data);
    if (res.error || !res.ready) throw new Error(res.error?.message || "pypdf did not import");
    return true;
  } catch (err) {
    console.warn(`PDF reader not loaded: ${err.message || err}`);
    loaded = null;
    return false;
  }
}

/** Make PDFs readable before files [{name, blob}] go to Python, when any of them looks like a PDF. */
export async function ensurePdfReader(python, files, readBase64) {
  if (!RUNTIME.pdfReader || !files.some(looksLikePdf)) return false;
  loaded = loaded || load(python, readBase64);
  return loaded;
}
