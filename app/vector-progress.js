// Documents mode's vector indexing, draw only: `#vectors-progress` in the documents panel with its `<progress>`,
// a line of text (passages with vectors of the total, how many came from storage, passages/s and time left) and
// the Cancel button, shown while embedding. The block stays after a job with what it did (or why it stopped).
// `data-state` = loading (the bi-encoder and the stored vectors) | embedding | done | cancelled | error; `data-total`, `data-ready`, `data-stored`, `data-embedded`
// hold the job's numbers and `data-embedded-page` every passage this page has embedded.

const $ = (id) => document.getElementById(id);

const n = (x) => x.toLocaleString("en-US");

/** "about 12 s left", "about 3 min left". */
function timeLeft(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "";
  const s = Math.max(1, Math.round(ms / 1000));
  return s < 90 ? `about ${s} s left` : `about ${Math.round(s / 60)} min left`;
}

function rateText(rate) {
  return rate ? `${rate >= 10 ? Math.round(rate) : rate.toFixed(1)} passages/s` : "";
}

/** The sentence under the bar for a job's state. */
function sentence(s) {
  if (s.state === "loading") return `Looking for stored vectors of ${n(s.total)} passages…`;
  if (s.state === "embedding") {
    const parts = [`Embedding passages: ${n(s.ready)} of ${n(s.total)} have vectors`];
    if (s.stored) parts[0] += ` (${n(s.stored)} from storage)`;
    const rate = rateText(s.rate);
    if (rate) parts.push(rate, timeLeft(s.leftMs));
    return parts.filter(Boolean).join(" · ");
  }
  if (s.state === "done") {
    const now = s.embedded ? `, ${n(s.embedded)} embedded now${s.rate ? ` (${rateText(s.rate)})` : ""}` : "";
    const unsaved = s.unsaved ? ` They could not be stored (${s.unsaved}), so a reload embeds them again.` : "";
    return `Every passage has a vector: ${n(s.stored)} of ${n(s.total)} from storage${now}.${unsaved}`;
  }
  if (s.state === "cancelled") {
    return `Embedding stopped: ${n(s.ready)} of ${n(s.total)} passages have vectors and are kept; the next vector ` +
      `search embeds only the other ${n(s.total - s.ready)}.`;
  }
  return `Vectors are not available: ${s.message}`;
}

/** Draw a job's state: {state, total, ready, stored, embedded, rate?, leftMs?, unsaved?, message?, page?}. */
export function drawVectors(s) {
  const box = $("vectors-progress");
  if (!box) return;
  box.hidden = false;
  box.dataset.state = s.state;
  box.dataset.total = String(s.total);
  box.dataset.ready = String(s.ready);
  box.dataset.stored = String(s.stored);
  box.dataset.embedded = String(s.embedded);
  if (s.page !== undefined) box.dataset.embeddedPage = String(s.page);
  const bar = $("vectors-bar");
  bar.max = Math.max(1, s.total);
  bar.value = s.ready;
  bar.setAttribute("aria-valuetext", `${n(s.ready)} of ${n(s.total)} passages`);
  $("vectors-text").textContent = sentence(s);
  $("vectors-cancel").hidden = s.state !== "embedding" && s.state !== "loading";
}

/** The Cancel button calls `cancel()`. */
export function wireVectorsView(cancel) {
  $("vectors-cancel")?.addEventListener("click", () => cancel());
}
