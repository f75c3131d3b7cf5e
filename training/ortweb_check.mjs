// Runs an ONNX file with onnxruntime-web's wasm backend (the runtime the page uses), in Node.
// usage: node ortweb_check.mjs <path to ort.wasm.min.mjs> <model.onnx>   -> prints the logits of one fixed pair
import fs from "node:fs";
const ort = await import(process.argv[2]);
ort.env.wasm.numThreads = 1;
const session = await ort.InferenceSession.create(fs.readFileSync(process.argv[3]), { executionProviders: ["wasm"] });
const ids = [101, 2129, 2079, 22487, 2147, 102, 1996, 22487, 2024, 3303, 102];
const types = [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1];
const tensor = (a) => new ort.Tensor("int64", BigInt64Array.from(a.map(BigInt)), [1, a.length]);
const out = await session.run({ input_ids: tensor(ids), attention_mask: tensor(ids.map(() => 1)), token_type_ids: tensor(types) });
console.log("logits [" + Array.from(out.logits.data).join(",") + "]");
