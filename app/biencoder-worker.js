// Bi-encoder worker: the scoring worker (app/scorer-worker.js) run a second time, so the "vector search" column
// (cosine of mean-pooled all-MiniLM-L6-v2 embeddings) never waits behind the cross-encoder. Load it with a catalog
// entry of `"kind": "bi-encoder"` (the strategy in app/worker-kinds.js); `result.logit` is then the cosine.
//   new Scorer({workerUrl: new URL("./biencoder-worker.js", import.meta.url)})
import "./scorer-worker.js";
