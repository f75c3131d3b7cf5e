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
    import torch  # noqa: PLC0415
    from transformers import BertForSequenceClassification  # noqa: PLC0415

    model = BertForSequenceClassification.from_pretrained(str(torch_dir)).eval()
    model.config.return_dict = False
    ids = torch.tensor([[101, 2054, 2003, 102, 1037, 3231, 102, 0]], dtype=torch.long).repeat(2, 1)
    mask = (ids != 0).long()
    types = torch.tensor([[0, 0, 0, 0, 1, 1, 1, 0]], dtype=torch.long).repeat(2, 1)
    axes = {0: "batch_size", 1: "sequence_length"}
    onnx_path.parent.mkdir(parents=True, exist_ok=True)

    class Wrapped(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):  # type: ignore[no-untyped-def]
            return self.inner(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)[0]

    with torch.no_grad():
        torch.onnx.export(
            Wrapped(model), (ids, mask, types), str(onnx_path),
            input_names=ONNX_INPUTS, output_names=["logits"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes, "logits": {0: "batch_size"}},
            opset_version=17, do_constant_folding=True, dynamo=False,
        )


def quantize(fp32_path: Path, int8_path: Path, per_channel: bool = True, reduce_range: bool = False,
             op_types: list[str] | None = None) -> None:
    """Dynamic int8 quantisation of weights (MatMul/Gemm and optionally Gather)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic  # noqa: PLC0415

    int8_path.parent.mkdir(parents=True, exist_ok=True)
    quantize_dynamic(
        str(fp32_path), str(int8_path), weight_type=QuantType.QInt8, per_channel=per_channel,
        reduce_range=reduce_range, op_types_to_quantize=op_types or ["MatMul", "Gemm"],
    )


def write_config(torch_dir: Path, dest: Path) -> None:
    """Copy config.json (BertForSequenceClassification, 1 label) into the artifact."""
    cfg = json.loads((torch_dir / "config.json").read_text())
    cfg.pop("_name_or_path", None)
    cfg.pop("torch_dtype", None)
    cfg.pop("dtype", None)
    cfg["architectures"] = ["BertForSequenceClassification"]
    cfg["num_labels"] = 1
    cfg["max_position_embeddings"] = cfg.get("max_position_embeddings", 512)
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "config.json").write_text(json.dumps(cfg, indent=2) + "\n")
