// The run controller: owns the two lanes (app/lane.js) and the runs. A run validates the input in Python,
// starts a session per lane (`start`), sends the pairs Python names to each lane's worker and ends when every
// lane is scored, cancelled or failed. A Rerank pressed before Python and the main model are ready is queued
// and starts once they are. It makes no ranking decision and never calls back into the page: it emits events.
//
// Events (CustomEvent detail in braces): "readiness" {ready, python, modelLoading, modelReady} whenever what
// the page waits for may have changed; "run-start" after every lane's session started; "run-drawn" once the
// first views are drawn; "stats" {lane} when a lane's measurements should be redrawn; "run-end" {outcome:
// "done" | "cancelled" | "failed" | "stopped"} ("stopped": Cancel, Esc, a model switch or a newer Rerank).

import { Lane } from "./lane.js";
import { CollectionRows } from "./collection-rows.js";
import { nextFrame } from "./idle.js";
import { announce, errorText, focusField, phase, setError, setPhase } from "./feedback.js";
import { modelName } from "./format.js";

const $ = (id) => document.getElementById(id);

export class RunController extends EventTarget {
  constructor({ python, inputs }) {
    super();
    this.python = python;
    this.inputs = inputs;
    this.lanes = {
      a: new Lane("a", $("results"), "model", python),
      b: new Lane("b", $("results-b"), "modelB", python),
    };
    this.cancelButton = $("cancel");
    this.progressNote = $("progress-note");
    this.source = null;    // documents mode: {prepare(isCurrent), payload(), orderPairs(pairs)} supplies the passages
    this.queued = false;   // Rerank pressed before ready
    this.running = null;   // the run in progress {token, cancelled, failed}
    this.runToken = 0;
    for (const lane of Object.values(this.lanes)) {
      lane.addEventListener("model-loading", () => this.refreshReadiness());
      lane.addEventListener("model-failed", () => this.onModelFailed(lane));
      lane.addEventListener("model-settled", () => this.refreshReadiness());
    }
    this.lanes.a.addEventListener("update", (e) => this.showProgress(e.detail.view));
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  get ready() {
    return Boolean(this.python.glue && this.lanes.a.ready);
  }

  /** Lanes with a session (their lists show a run). */
  activeLanes() {
    return [this.lanes.a, this.lanes.b].filter((l) => l.session);
  }

  /** Python failed to start: nothing queued can run. */
  dropQueue() {
    this.queued = false;
  }

  onModelFailed(lane) {
    if (lane.slot === "a") setPhase("error");
    if (this.queued) {
      this.queued = false;
      announce("The run could not start: the model did not load.");
    }
  }

  /** Move the phase between loading/ready/error as Python and the main model arrive; start a queued run. */
  refreshReadiness() {
    if (this.python.failed) return;
    const lane = this.lanes.a;
    const ready = this.ready;
    const current = phase();
    if (ready && current === "loading") {
      setPhase("ready");
      if (!this.queued) announce(`Ready: Python ${this.python.info.python} and ${modelName(lane.entry)} are loaded.`);
    }
    if (ready && current === "error" && !lane.loading && !errorText("model")) setPhase("ready");
    if (!ready && lane.loading && !this.running && current !== "loading") setPhase("loading");
    this.emit("readiness", { ready, python: Boolean(this.python.glue), modelLoading: Boolean(lane.loading), modelReady: lane.ready });
    if (ready && this.queued && !this.running) {
      this.queued = false;
      this.rerank();
    }
  }

  /** Rerank: validate in Python, then score lane A (and lane B when a second model is chosen). */
  async rerank() {
    const pressedAt = performance.now();
    this.inputs.clearErrors();
    if (this.python.failed) {
      announce("Python could not start, so nothing can be ranked. Reload the page to try again (copy your text first).");
      return;
    }
    if (!this.ready) { this.queueUntilReady(); return; }
    if (this.inputs.readTopK() === null) { focusField("top_k"); return; }
    const token = ++this.runToken;
    const prepared = this.source ? this.source.prepare(() => token === this.runToken) : this.prepareInput(token);
    if (!(await prepared)) return;
    if (this.running) this.stop(false);
    const run = { token, cancelled: false, failed: false };
    this.running = run;
    const started = this.startLanes(run);
    if (!started) return;
    await this.scoreLanes(run, started, pressedAt);
    if (this.running !== run) return;
    this.finish(run);
  }

  queueUntilReady() {
    const lane = this.lanes.a;
    if (!lane.ready && !lane.loading && lane.entry) lane.load(lane.entry); // the model failed: retry it
    this.queued = true;
    const waiting = !this.python.glue ? "Python" : "the model";
    announce(`Rerank will start as soon as ${waiting} is ready.`);
    this.progressNote.textContent = `Queued: waiting for ${waiting}.`;
  }

  /** Finish what the live count had not prepared yet (windows, BM25 terms of a list pasted and ranked at once) in
   *  slices, so Python's `start` and the first BM25 column stay short; false when a newer Rerank took over. */
  async prepareInput(token) {
    const payload = this.inputs.inspectPayload(this.lanes.a.entry);
    for (let res = this.python.call("inspect", payload); res.pending; res = this.python.call("inspect", payload)) {
      this.progressNote.textContent = `Preparing ${res.count.toLocaleString()} passages…`;
      await nextFrame();
      if (token !== this.runToken) return false;
    }
    return true;
  }

  /** Start a Python session per lane; [[lane, start result], ...], or null (error shown) when the input is refused. */
  startLanes(run) {
    const { a, b } = this.lanes;
    const lanes = [a];
    if (b.entry) lanes.push(b);
    else b.reset();
    const started = [];
    for (const lane of lanes) {
      const payload = { slot: lane.slot, ...this.inputs.payload(), ...this.source?.payload(), model: lane.entry };
      const res = this.python.call("start", payload);
      if (res.error) {
        focusField(this.inputs.showError(res.error));
        announce(res.error.message);
        this.running = null;
        setPhase(phase() === "scoring" ? "ready" : phase());
        return null;
      }
      started.push([lane, res]);
    }
    for (const lane of lanes) if (lane.ready) setError(lane.errorKey, "");
    for (const n of started[0][1].notices) announce(n.message);
    setPhase("scoring");
    this.cancelButton.disabled = false;
    for (const [lane, res] of started) {
      lane.reset();
      lane.session = res.session;
      lane.texts = res.texts;
      lane.collection = res.collection ? new CollectionRows(res.collection) : null;
      lane.query = res.query;
    }
    this.emit("run-start", { run });
    return started;
  }

  /** Score the lanes one after the other; the first lane's pairs go out before its pending rows are drawn. */
  async scoreLanes(run, started, pressedAt) {
    // The first lane's pairs go to the worker before anything is drawn: it scores while the page draws the pending
    // rows in the next frame (Python's start and that drawing are two tasks, not one long one).
    for (const [lane, res] of started) lane.firstView = res.view;
    const [firstLane, firstRes] = started[0];
    const early = firstLane.ready ? this.scoreLane(firstLane, firstRes, run, pressedAt) : null;
    await nextFrame();
    if (this.running !== run) return;
    for (const [lane] of started) lane.showFirstView();
    this.emit("run-drawn", { run });
    announce(`Scoring ${firstRes.texts.length} passages with ${modelName(this.lanes.a.entry)}…`);
    for (const [lane, res] of started) {
      if (lane === firstLane && early) { await early; continue; }
      if (run.cancelled || this.running !== run) break;
      if (!lane.ready && lane.loading) await lane.loadPromise;
      if (this.running !== run) break;
      if (!lane.ready) {
        setError(lane.errorKey, errorText(lane.errorKey) || "This model is not loaded; choose it again to retry.");
        continue;
      }
      await this.scoreLane(lane, res, run, lane.slot === "a" ? pressedAt : performance.now());
    }
  }

  /** Send one lane's pairs to its worker; results go to the lane, which batches them into Python per frame. */
  async scoreLane(lane, res, run, t0) {
    lane.stats = { t0, firstResult: null, renderedFirst: null, lastResult: null, results: 0, cached: res.cached,
      pairs: res.pairs.length, end: null, passages: res.texts.length, model: lane.entry, info: lane.info,
      updates: 0, pyMs: 0, renderMs: 0, maxUpdateMs: 0 };
    this.emit("stats", { lane });
    if (res.pairs.length) {
      let done;
      try {
        const pairs = this.source?.orderPairs ? this.source.orderPairs(res.pairs) : res.pairs;
        done = await lane.scorer.score(pairs, {
          onResult: (r) => { if (this.running === run) lane.receive(r); },
        });
      } catch (err) {
        if (this.running !== run) return;
        lane.flush();
        run.failed = true;
        setError(lane.errorKey, err.message || String(err));
        announce(err.message || String(err));
        return;
      }
      if (this.running !== run) return;
      lane.flush();
      lane.stats.workerMs = done?.ms ?? null;
      if (done?.cancelled) run.cancelled = run.cancelled || !lane.done;
    } else {
      lane.showFirstView(); // every pair came from the cache: the run's first view is already complete
    }
    lane.stats.end = performance.now();
    this.emit("stats", { lane });
  }

  /** The run ended by itself: done, cancelled by the worker, or failed. */
  finish(run) {
    this.running = null;
    this.cancelButton.disabled = true;
    const outcome = run.cancelled ? "cancelled" : run.failed ? "failed" : "done";
    if (outcome === "failed") setPhase("error");
    if (outcome === "done") {
      setPhase("done");
      this.announceResult();
    }
    this.emit("run-end", { run, outcome });
  }

  /** Stop the run in progress; `userAsked` (Cancel, Esc, a model switch) also tells the user what was kept. */
  stop(userAsked) {
    const run = this.running;
    if (!run) return;
    run.cancelled = true;
    this.running = null;
    for (const lane of [this.lanes.a, this.lanes.b]) {
      if (!lane.session || lane.done) continue;
      lane.scorer?.cancel();
      lane.flush();
      const view = this.python.call("cancel", lane.slot);
      if (!view.error && view.session) lane.apply(view);
      if (lane.stats) { lane.stats.end = performance.now(); lane.stats.cancelled = true; this.emit("stats", { lane }); }
    }
    this.cancelButton.disabled = true;
    this.emit("run-end", { run, outcome: "stopped" });
    if (userAsked) {
      const lane = this.lanes.a;
      const scored = [...lane.rows.values()].filter((r) => r.state === "scored").length;
      announce(`Cancelled: ${scored} of ${lane.texts.length} passages were scored; everything you typed is kept.`);
      this.progressNote.textContent = "Cancelled.";
      setPhase("ready");
    }
  }

  /** The progress note under the ranking while lane A scores; the status line at most every 5 s. */
  showProgress(view) {
    const s = this.lanes.a.stats;
    if (s && !view.done && performance.now() - (s.announcedAt ?? s.t0) > 5000) {
      s.announcedAt = performance.now(); // long runs: a progress line every 5 s at most, never per re-sort
      announce(`Scoring… ${view.scored} of ${view.total} passages scored.`);
    }
    this.progressNote.textContent = view.done
      ? `All ${view.total} scored · ${view.sunk} below the threshold.`
      : `${view.scored} of ${view.total} scored…`;
  }

  announceResult() {
    const lane = this.lanes.a;
    const first = lane.rows.get(lane.order[0]);
    if (!first) return;
    const text = lane.texts[first.index];
    const short = text.length > 120 ? `${text.slice(0, 117)}…` : text;
    const s = lane.stats;
    const secs = s && s.end ? ` in ${((s.end - s.t0) / 1000).toFixed(2)} s` : "";
    announce(`Done: ${lane.texts.length} passages ranked${secs}. Top result (score ${first.score.toFixed(2)}, was #${first.index + 1}): ${short}`);
  }

  /** New threshold / top-k: Python redraws each lane's view without re-scoring. */
  applySettings(threshold, topK) {
    for (const lane of this.activeLanes()) {
      if (!lane.session || !this.python.glue) continue;
      lane.flush();
      const view = this.python.call("settings", lane.slot, threshold, topK);
      if (view.error) { this.inputs.showError(view.error); continue; }
      lane.apply(view);
    }
  }

  /** A passage was (un)labelled: every lane showing that text gets Python's new view. */
  relabel(text, relevance) {
    for (const lane of this.activeLanes()) {
      const i = lane.texts.indexOf(text);
      if (i < 0) continue;
      const view = this.python.call("relevance", lane.slot, i, relevance);
      if (!view.error) lane.apply(view);
    }
  }
}
