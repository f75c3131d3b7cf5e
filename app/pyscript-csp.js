// PyScript 0.7.31 builds its *worker* hook functions with `Function(...)` even on the main thread,
// which an enforced CSP without 'unsafe-eval' forbids (the page would never reach Python).
// This page runs no PyScript workers, so the worker function hooks are dropped before PyScript
// reads them. Same module instance as the <script> tag: imported by that tag's resolved URL,
// so the CDN flavour (where build.py rewrites the tag) keeps working.
const tag = document.querySelector('script[type="module"][src$="/core.js"]');
if (tag) {
  const { hooks } = await import(tag.src);
  for (const name of ["onReady", "onBeforeRun", "onBeforeRunAsync", "onAfterRun", "onAfterRunAsync"]) {
    hooks.worker[name]?.clear();
  }
}
