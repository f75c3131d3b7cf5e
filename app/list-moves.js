// Moving rows: put a list's children in a new order with few DOM moves, and animate each row from where it was
// drawn to where it is now (FLIP with the Web Animations API); with reduced motion, highlight rows instead.

/** Longest increasing subsequence of `seq` (entries < 0 are ignored); returns the set of kept positions. */
function lisPositions(seq) {
  const tails = []; // tails[k] = position in seq of the smallest tail of an increasing run of length k+1
  const prev = new Array(seq.length).fill(-1);
  for (let i = 0; i < seq.length; i++) {
    const v = seq[i];
    if (v < 0) continue;
    let lo = 0, hi = tails.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (seq[tails[mid]] < v) lo = mid + 1; else hi = mid;
    }
    if (lo > 0) prev[i] = tails[lo - 1];
    tails[lo] = i;
  }
  const keep = new Set();
  let i = tails.length ? tails[tails.length - 1] : -1;
  while (i >= 0) { keep.add(i); i = prev[i]; }
  return keep;
}

/** Move `node` before `ref` inside `parent`, keeping focus and state where the browser allows it. */
function moveNode(parent, node, ref) {
  if (typeof parent.moveBefore === "function" && node.isConnected && node.parentNode === parent) {
    try { parent.moveBefore(node, ref); return; } catch { /* fall through */ }
  }
  parent.insertBefore(node, ref);
}

/** Make `desired` the children of `parent`, in that order, moving as few nodes as possible (the longest run
 *  already in order stays put) and keeping focus. */
export function reorder(parent, desired) {
  if (!parent.firstElementChild && !parent.firstChild) { // first render: one insertion of every row
    parent.append(...desired);
    return;
  }
  const wanted = new Set(desired);
  for (const child of Array.from(parent.childNodes)) {
    if (!wanted.has(child)) child.remove(); // stray whitespace / placeholder content from the shell
  }
  const current = new Map();
  Array.from(parent.children).forEach((child, i) => current.set(child, i));
  const seq = desired.map((node) => (current.has(node) ? current.get(node) : -1));
  const keep = lisPositions(seq);
  const active = document.activeElement;
  const hadFocus = active && active !== parent && parent.contains(active);
  let next = null;
  for (let i = desired.length - 1; i >= 0; i--) {
    const node = desired[i];
    if (!keep.has(i)) {
      if (node.parentNode === parent) moveNode(parent, node, next);
      else parent.insertBefore(node, next);
    }
    next = node;
  }
  // moveBefore() keeps focus; insertBefore() (older browsers) drops it, so put it back.
  if (hadFocus && document.activeElement !== active && active.isConnected) active.focus({ preventScroll: true });
}

function viewportHeight() {
  return window.innerHeight || document.documentElement.clientHeight || 800;
}

/** Top of `node`'s layout box (no transforms) relative to `parent`'s content, from offsetTop (no forced
 *  per-row geometry work once layout is clean). */
function layoutTop(node, parent) {
  return node.offsetParent === parent ? node.offsetTop : node.offsetTop - parent.offsetTop;
}

/** [first, last] positions in `nodes` whose layout boxes overlap [lo, hi] (px relative to `parent`). */
function rangeWithin(nodes, parent, lo, hi) {
  const n = nodes.length;
  if (!n) return [0, -1];
  let a = 0, b = n;
  while (a < b) { // first node whose bottom reaches lo
    const mid = (a + b) >> 1;
    const node = nodes[mid];
    if (layoutTop(node, parent) + node.offsetHeight < lo) a = mid + 1; else b = mid;
  }
  const first = a;
  a = first; b = n;
  while (a < b) { // first node starting below hi
    const mid = (a + b) >> 1;
    if (layoutTop(nodes[mid], parent) <= hi) a = mid + 1; else b = mid;
  }
  return [first, a - 1];
}

/** Children of `parent` whose layout box is within `margin` viewport heights of the viewport (`near`, without
 *  `skip` nodes), their positions [lo, hi], and every child in order (`nodes`: to tell whether a row that was not
 *  measured sat above or below the viewport). */
export function nearNodes(parent, margin, skip = () => false) {
  const nodes = Array.from(parent.children);
  const viewH = viewportHeight();
  const top = parent.getBoundingClientRect().top;
  const [lo, hi] = rangeWithin(nodes, parent, -viewH * margin - top, viewH * (1 + margin) - top);
  const near = lo <= hi ? nodes.slice(lo, hi + 1).filter((node) => !skip(node)) : [];
  return { near, nodes, lo, hi };
}

/** The move animations of one list: options {duration, easing, maxAnimated, viewportMargin, flashMs}. */
export class Moves {
  constructor(options) {
    this.options = options;
    this.running = []; // move animations started by the last play()
    this.flashed = new Set();
    this.flashTimer = 0;
  }

  /** FIRST: where `near` nodes and every node still moving are drawn right now, including in-flight transforms. */
  firstPositions(near) {
    const first = new Map();
    for (const node of near) first.set(node, node.getBoundingClientRect().top);
    for (const anim of this.running) {
      const node = anim.effect && anim.effect.target;
      if (node && node.isConnected && !first.has(node)) first.set(node, node.getBoundingClientRect().top);
    }
    return first;
  }

  /** Stop in-flight moves (rows snap to where they are laid out). */
  stop() {
    for (const anim of this.running) {
      const node = anim.effect && anim.effect.target;
      anim.cancel();
      if (node) node.style.zIndex = "";
    }
    this.running = [];
  }

  /** LAST, INVERT, PLAY: animate each node from its `first` position (or, not measured then, from the side of the
   *  viewport it was on in `before`, a nearNodes() result) to where it is now; `after` is nearNodes() now. */
  play(first, before, after) {
    const { maxAnimated, viewportMargin } = this.options;
    const viewH = viewportHeight();
    const lo = -viewH * viewportMargin;
    const hi = viewH * (1 + viewportMargin);
    const near = (y) => y >= lo && y <= hi;
    const wasAt = new Map();
    before.nodes.forEach((node, i) => wasAt.set(node, i));
    // LAST: read every new position before writing any animation (one layout, no thrash). Rows measured in
    // FIRST but now far away are measured too (they leave the viewport with a move).
    const targets = new Set(after.near);
    for (const node of first.keys()) targets.add(node);
    const moves = [];
    const entering = [];
    for (const node of targets) {
      if (!node.isConnected) continue;
      const to = node.getBoundingClientRect().top;
      let from = first.get(node);
      if (from === undefined) {
        const at = wasAt.get(node);
        if (at === undefined) { if (near(to)) entering.push(node); continue; } // a new row: fade in
        from = at < before.lo ? lo - viewH : hi + viewH; // was off screen above / below: come from that side
      }
      const dy = from - to;
      if (Math.abs(dy) < 0.5 || (!near(from) && !near(to))) continue;
      moves.push({ node, dy, to });
    }
    if (moves.length > maxAnimated) {
      const centre = viewH / 2;
      moves.sort((a, b) => Math.abs(a.to - centre) - Math.abs(b.to - centre));
      moves.length = maxAnimated;
    }
    this.animate(moves, entering, viewH);
  }

  /** INVERT + PLAY. Rows arriving from far away start just outside the viewport, not thousands of px off.
   *  Only `transform` is animated (the compositor runs it); rows climbing pass over rows sinking through an
   *  inline z-index held for the move, not an animated property (that would tick style on the main thread). */
  animate(moves, entering, viewH) {
    const { duration, easing } = this.options;
    for (const { node, dy, to } of moves) {
      const limit = Math.max(viewH, Math.abs(to) + viewH);
      const start = Math.max(-limit, Math.min(limit, dy));
      node.style.zIndex = dy > 0 ? "2" : "1";
      const anim = node.animate([{ transform: `translateY(${start}px)` }, { transform: "translateY(0)" }], { duration, easing });
      anim.id = "flip";
      this.running.push(anim);
    }
    for (const node of entering) {
      const anim = node.animate([{ opacity: 0 }, { opacity: 1 }], { duration: Math.round(duration * 0.6), easing: "ease-out" });
      anim.id = "enter";
      this.running.push(anim);
    }
    const finished = this.running.slice();
    for (const anim of finished) {
      anim.finished.then(() => {
        const at = this.running.indexOf(anim);
        if (at !== -1) this.running.splice(at, 1);
        if (anim.id === "flip" && anim.effect && anim.effect.target) anim.effect.target.style.zIndex = "";
      }, () => {});
    }
  }

  /** Reduced motion: highlight `nodes` (data-flash) for options.flashMs instead of moving them. */
  flash(nodes) {
    for (const node of this.flashed) if (!nodes.includes(node)) node.removeAttribute("data-flash");
    this.flashed = new Set(nodes);
    for (const node of nodes) node.setAttribute("data-flash", "true");
    clearTimeout(this.flashTimer);
    this.flashTimer = setTimeout(() => {
      for (const node of this.flashed) node.removeAttribute("data-flash");
      this.flashed.clear();
    }, this.options.flashMs);
  }
}
