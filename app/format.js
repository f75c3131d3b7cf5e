// Small text formatters shared by the page's modules and app/storage.js.

/** Human-readable byte count ("23.1 MB"). */
export function formatBytes(bytes) {
  if (bytes < 1000) return `${bytes} B`;
  if (bytes < 1e6) return `${(bytes / 1e3).toFixed(1)} kB`;
  if (bytes < 1e9) return `${(bytes / 1e6).toFixed(1)} MB`;
  return `${(bytes / 1e9).toFixed(2)} GB`;
}

/** How the page names a catalog entry in messages, headings and stats: its id ("" for none). */
export function modelName(entry) {
  return entry ? entry.id : "";
}
