// Main-thread scheduling helpers shared by the page and the view.

/** Run `fn(deadline)` when the main thread is idle, at the latest after `timeout` ms (deadline null without
 *  requestIdleCallback). */
export function onIdle(fn, timeout) {
  if (typeof requestIdleCallback === "function") requestIdleCallback(fn, { timeout });
  else setTimeout(() => fn(null), 0);
}

/** Resolve at the next animation frame. */
export function nextFrame() {
  return new Promise((resolve) => requestAnimationFrame(() => resolve()));
}
