// Runs an ONNX file with onnxruntime-web's wasm backend (the runtime the page uses), in Node.
// usage: node ortweb_check.mjs <path to ort.wasm.min.mjs> <model.onnx>
// Prints one JSON line: {"alone": [logit of a fixed pair], "batch": [logits of the same pair padded next to a long pair]}
// so the caller can check parity with native onnxruntime and that a pair's logit does not depend on its batch.
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
const ort = await import(pathToFileURL(path.resolve(process.argv[2])).href);
ort.env.wasm.numThreads = 1;
const session = await ort.InferenceSession.create(fs.readFileSync(process.argv[3]), { executionProviders: ["wasm"] });
const ids = [101, 2129, 2079, 22487, 2147, 102, 1996, 22487, 2024, 3303, 102];
const types = [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1];
const longIds = [101, 2129, 2079, 22487, 2147, 102, ...Array.from({ length: 200 }, (_, i) => 1996 + ((i * 37) % 3000)), 102];
const longTypes = longIds.map((_, i) => (i < 6 ? 0 : 1));
async function run(rows) {
  const len = Math.max(...rows.map((r) => r.ids.length));
  const flat = (f) => BigInt64Array.from(rows.flatMap((r) => Array.from({ length: len }, (_, j) => BigInt(j < r.ids.length ? f(r, j) : 0))));
  const dims = [rows.length, len];
  const out = await session.run({
    input_ids: new ort.Tensor("int64", flat((r, j) => r.ids[j]), dims),
    attention_mask: new ort.Tensor("int64", flat(() => 1), dims),
    token_type_ids: new ort.Tensor("int64", flat((r, j) => r.types[j]), dims),
  });
  return Array.from(out.logits.data);
}
const alone = await run([{ ids, types }]);
const batch = await run([{ ids, types }, { ids: longIds, types: longTypes }]);
console.log(JSON.stringify({ alone, batch }));
