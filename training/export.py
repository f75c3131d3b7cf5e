"""Export a trained cross-encoder to transformers.js layout: config, tokenizer files, int8 ONNX."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from training.common import MAX_LENGTH, base_model_dir

ONNX_INPUTS = ["input_ids", "attention_mask", "token_type_ids"]


def init_cross_encoder(torch_dir: Path, seed: int) -> None:
    """Save all-MiniLM-L6-v2 encoder weights plus a freshly initialised 1-logit head."""
    import torch  # noqa: PLC0415
    from transformers import BertForSequenceClassification  # noqa: PLC0415

    torch.manual_seed(seed)
    model = BertForSequenceClassification.from_pretrained(str(base_model_dir()), num_labels=1)
    model.config.architectures = ["BertForSequenceClassification"]
    model.config.id2label = {0: "LABEL_0"}
    model.config.label2id = {"LABEL_0": 0}
    model.save_pretrained(str(torch_dir))
    write_tokenizer_files(torch_dir)


def write_tokenizer_files(dest: Path) -> None:
    """Write tokenizer.json / tokenizer_config.json / special_tokens_map.json for MAX_LENGTH pair input."""
    src = base_model_dir()
    dest.mkdir(parents=True, exist_ok=True)
    tok = json.loads((src / "tokenizer.json").read_text())
    # The sentence-transformers file pads every input to a fixed 128; a cross-encoder wants dynamic
    # padding and truncation of the pair to MAX_LENGTH, passage (second sequence) first.
    tok["truncation"] = {"direction": "Right", "max_length": MAX_LENGTH, "strategy": "OnlySecond", "stride": 0}
    tok["padding"] = None
    (dest / "tokenizer.json").write_text(json.dumps(tok, ensure_ascii=False))
    cfg = json.loads((src / "tokenizer_config.json").read_text())
    cfg["model_max_length"] = MAX_LENGTH
    cfg["name_or_path"] = "minilm-l6-debian-ce"
    cfg["clean_up_tokenization_spaces"] = True
    (dest / "tokenizer_config.json").write_text(json.dumps(cfg, indent=2) + "\n")
    shutil.copy(src / "special_tokens_map.json", dest / "special_tokens_map.json")
    shutil.copy(src / "vocab.txt", dest / "vocab.txt")


def export_fp32(torch_dir: Path, onnx_path: Path) -> None:
    """Trace the PyTorch model to ONNX (opset 17) with dynamic batch and sequence axes."""
    if (torch_dir / "gated_head.pt").exists():
        from training import gated  # noqa: PLC0415

        trace_to_onnx(gated.load(torch_dir), onnx_path)
        return
    import torch  # noqa: PLC0415
    from transformers import BertForSequenceClassification  # noqa: PLC0415

    model = BertForSequenceClassification.from_pretrained(str(torch_dir)).eval()
    model.config.return_dict = False

    class Wrapped(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):  # type: ignore[no-untyped-def]
            return self.inner(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)[0]

    trace_to_onnx(Wrapped(model), onnx_path)


def trace_to_onnx(model, onnx_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Trace a (input_ids, attention_mask, token_type_ids) -> logits [B, 1] module to ONNX, opset 17,
    dynamic batch and sequence axes, on a padded two-row pair so both axes stay symbolic."""
    import torch  # noqa: PLC0415

    ids = torch.tensor([[101, 2054, 2003, 102, 1037, 3231, 102, 0]], dtype=torch.long).repeat(2, 1)
    mask = (ids != 0).long()
    types = torch.tensor([[0, 0, 0, 0, 1, 1, 1, 0]], dtype=torch.long).repeat(2, 1)
    axes = {0: "batch_size", 1: "sequence_length"}
    onnx_path.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(
            model, (ids, mask, types), str(onnx_path), input_names=ONNX_INPUTS, output_names=["logits"],
            dynamic_axes={**{name: axes for name in ONNX_INPUTS}, "logits": {0: "batch_size"}},
            opset_version=17, do_constant_folding=True, dynamo=False,
        )


def quantize(fp32_path: Path, int8_path: Path, per_channel: bool = True, reduce_range: bool = False,
             op_types: list[str] | None = None) -> None:
    """Dynamic int8: int8 weights (MatMul/Gemm, optionally Gather) and activations quantised per tensor at run time
    (so a logit depends on its batch; kept as a comparison variant, see training/quantize.py)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic  # noqa: PLC0415

    int8_path.parent.mkdir(parents=True, exist_ok=True)
    quantize_dynamic(
        str(fp32_path), str(int8_path), weight_type=QuantType.QInt8, per_channel=per_channel,
        reduce_range=reduce_range, op_types_to_quantize=op_types or ["MatMul", "Gemm"],
    )


def _symmetric_int8(w, reduce_axis: int):  # type: ignore[no-untyped-def]
    """Symmetric int8 of `w`, one scale per slice taken along `reduce_axis`: (int8 values, float32 scales)."""
    import numpy as np  # noqa: PLC0415

    amax = np.abs(w).max(axis=reduce_axis, keepdims=True)
    scale = np.where(amax > 0, amax / 127.0, 1.0).astype(np.float32)
    return np.clip(np.rint(w / scale), -127, 127).astype(np.int8), scale


def quantize_weight_only(fp32_path: Path, int8_path: Path, block_size: int = 32, min_elements: int = 100_000) -> None:
    """Weight-only int8: activations stay float32, so a pair's logit never depends on its batch companions.

    MatMul weights -> int8 blocks of `block_size` along K + one float32 scale per block, Cast -> Mul -> Reshape ->
    MatMul on initializers, which ORT constant-folds into a float32 weight at session creation (no per-call
    dequantisation; ORT Web's wasm build matches native ORT to ~1e-5). The page turns the folding off (faster start).
    The word-embedding Gather -> Gather of int8 rows + Gather of per-row scales, Cast, Mul (standard ops).
    Small tensors (position/type embeddings, pooler, classifier, biases) stay float32."""
    import numpy as np  # noqa: PLC0415
    import onnx  # noqa: PLC0415
    from onnx import TensorProto, helper, numpy_helper  # noqa: PLC0415

    model = onnx.load(str(fp32_path))
    graph = model.graph
    inits = {t.name: t for t in graph.initializer}
    uses: dict[str, int] = {}
    for node in graph.node:
        for name in node.input:
            uses[name] = uses.get(name, 0) + 1
    nodes, replaced, added = [], set(), []
    for node in graph.node:
        weight = node.input[1] if node.op_type == "MatMul" else node.input[0] if node.op_type == "Gather" else None
        tensor = inits.get(weight) if weight else None
        if tensor is None or uses[weight] != 1 or np.prod(tensor.dims) < min_elements or len(tensor.dims) != 2:
            nodes.append(node)
            continue
        w = numpy_helper.to_array(tensor).astype(np.float32)
        replaced.add(weight)
        if node.op_type == "MatMul":
            k, n = w.shape
            assert k % block_size == 0, f"{weight}: K={k} is not a multiple of block_size={block_size}"
            blocks = k // block_size
            q, scale = _symmetric_int8(w.reshape(blocks, block_size, n), reduce_axis=1)  # [blocks, block, N]
            added += [numpy_helper.from_array(q, weight + "_q8"), numpy_helper.from_array(scale, weight + "_scale"),
                      numpy_helper.from_array(np.array([k, n], np.int64), weight + "_shape")]
            # Every input of this chain is an initializer, so ORT's constant folding turns it into one float32
            # weight when the session is created: the int8 file is downloaded, plain MatMul runs.
            nodes += [
                helper.make_node("Cast", [weight + "_q8"], [weight + "_f32"], to=TensorProto.FLOAT, name=node.name + "_cast"),
                helper.make_node("Mul", [weight + "_f32", weight + "_scale"], [weight + "_blocks"],
                                 name=node.name + "_dequantize"),
                helper.make_node("Reshape", [weight + "_blocks", weight + "_shape"], [weight + "_dq"],
                                 name=node.name + "_reshape"),
                helper.make_node("MatMul", [node.input[0], weight + "_dq"], list(node.output), name=node.name),
            ]
        else:
            q, scale = _symmetric_int8(w, reduce_axis=1)  # one scale per vocabulary row
            out = node.output[0]
            added += [numpy_helper.from_array(q, weight + "_q8"), numpy_helper.from_array(scale.reshape(-1), weight + "_scale"),
                      numpy_helper.from_array(np.array([-1], np.int64), weight + "_last_axis")]
            nodes += [
                helper.make_node("Gather", [weight + "_q8", node.input[1]], [out + "_q8"], axis=0, name=node.name + "_q8"),
                helper.make_node("Gather", [weight + "_scale", node.input[1]], [out + "_scale"], axis=0, name=node.name + "_scale"),
                helper.make_node("Cast", [out + "_q8"], [out + "_f32"], to=TensorProto.FLOAT, name=node.name + "_cast"),
                helper.make_node("Unsqueeze", [out + "_scale", weight + "_last_axis"], [out + "_scale_col"],
                                 name=node.name + "_unsqueeze"),
                helper.make_node("Mul", [out + "_f32", out + "_scale_col"], [out], name=node.name + "_dequantize"),
            ]
    kept = [t for t in graph.initializer if t.name not in replaced]
    del graph.initializer[:]
    graph.initializer.extend(kept + added)
    del graph.node[:]
    graph.node.extend(nodes)
    if not any(o.domain == "com.microsoft" for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    onnx.checker.check_model(model)
    int8_path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(int8_path))


def write_config(torch_dir: Path, dest: Path) -> None:
    """Copy config.json (BertForSequenceClassification, 1 label) into the artifact."""
    cfg = json.loads((torch_dir / "config.json").read_text())
    cfg.pop("_name_or_path", None)
    cfg.pop("torch_dtype", None)
    cfg.pop("dtype", None)
    cfg["architectures"] = ["BertForSequenceClassification"]
    cfg["num_labels"] = 1
    cfg["id2label"], cfg["label2id"] = {"0": "LABEL_0"}, {"LABEL_0": 0}  # one logit, as transformers.js expects
    cfg["max_position_embeddings"] = cfg.get("max_position_embeddings", 512)
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "config.json").write_text(json.dumps(cfg, indent=2) + "\n")
