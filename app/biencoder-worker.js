// Bi-encoder worker: the same protocol and code as the scoring worker (app/scorer-worker.js), run as a second
// worker so the "vector search" column (cosine of mean-pooled all-MiniLM-L6-v2 embeddings) never waits behind
// the cross-encoder. Load it with a catalog entry of `"kind": "bi-encoder"`; `result.logit` is then the cosine.
//   new Scorer({workerUrl: new URL("./biencoder-worker.js", import.meta.url)})
import "./scorer-worker.js";
