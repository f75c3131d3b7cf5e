"""A cross-encoder that starts as the all-MiniLM-L6-v2 bi-encoder: gated cross-segment attention + cosine head.

Query and passage are read as one pair sequence (`[CLS] q [SEP] p [SEP]`, the standard cross-encoder input).
Every layer adds a learned bias `gate[l]` to attention logits between query and passage tokens; with the gates
very negative the two segments are encoded apart and the score is exactly the bi-encoder's scaled cosine. Training
opens the gates (cross-attention) and adds a CLS term, so the model keeps the bi-encoder's general knowledge as
its starting point instead of learning relevance from a random head.
"""
from __future__ import annotations

import math
from pathlib import Path

import torch
from torch import nn

NEG = -1e4  # additive mask for padding keys


class GatedCrossEncoder(nn.Module):
    """BERT encoder (weights of a transformers BertModel) with per-layer cross-segment attention gates."""

    def __init__(self, bert: nn.Module, gate_init: float = -6.0, scale_init: float = 20.0,
                 bias_init: float = -7.0) -> None:
        super().__init__()
        self.bert = bert
        cfg = bert.config
        self.heads = cfg.num_attention_heads
        self.head_dim = cfg.hidden_size // cfg.num_attention_heads
        self.gates = nn.Parameter(torch.full((cfg.num_hidden_layers,), float(gate_init)))
        self.log_scale = nn.Parameter(torch.tensor(math.log(scale_init)))
        self.bias = nn.Parameter(torch.tensor(float(bias_init)))
        self.cls_head = nn.Linear(cfg.hidden_size, 1)
        nn.init.zeros_(self.cls_head.weight)
        nn.init.zeros_(self.cls_head.bias)

    def _attention(self, layer: nn.Module, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        """One BERT self-attention block with an additive [B, 1, L, L] bias."""
        att = layer.attention
        b, n, _ = x.shape

        def split(t: torch.Tensor) -> torch.Tensor:
            return t.view(b, n, self.heads, self.head_dim).transpose(1, 2)

        q, k, v = split(att.self.query(x)), split(att.self.key(x)), split(att.self.value(x))
        logits = q @ k.transpose(-1, -2) / math.sqrt(self.head_dim) + bias
        ctx = (logits.softmax(-1) @ v).transpose(1, 2).reshape(b, n, -1)
        h = att.output.LayerNorm(att.output.dense(ctx) + x)
        return layer.output.LayerNorm(layer.output.dense(layer.intermediate(h)) + h)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                token_type_ids: torch.Tensor) -> torch.Tensor:
        """Logits [B, 1] for pair sequences."""
        mask = attention_mask.to(torch.float32)
        seg = token_type_ids.to(torch.float32) * mask  # 1 on passage tokens, 0 on query + padding
        query_len = ((1 - seg) * mask).sum(-1, keepdim=True)  # [CLS] q [SEP]
        n = input_ids.shape[1]
        arange = torch.arange(n, device=input_ids.device).unsqueeze(0).to(torch.float32)
        # the passage restarts at position 1, as if it followed its own [CLS] (how the bi-encoder saw it)
        positions = (arange - seg * (query_len - 1)).to(torch.long) * attention_mask
        emb = self.bert.embeddings
        x = emb.word_embeddings(input_ids) + emb.position_embeddings(positions) + emb.token_type_embeddings(
            torch.zeros_like(input_ids))
        # the passage gets its own virtual [CLS] at position 0 (appended as the last column): the bi-encoder
        # encoded it as `[CLS] p [SEP]`, and BERT's layers lean on [CLS] as an attention sink
        cls = emb.word_embeddings.weight[101] + emb.position_embeddings.weight[0] + emb.token_type_embeddings.weight[0]
        x = emb.LayerNorm(torch.cat([x, cls.expand(x.shape[0], 1, -1)], dim=1))
        ones = torch.ones_like(mask[:, :1])
        seg, mask = torch.cat([seg, ones], dim=1), torch.cat([mask, ones], dim=1)
        cross = (seg.unsqueeze(2) - seg.unsqueeze(1)).abs().unsqueeze(1)  # [B, 1, L, L]: 1 across segments
        pad = (1 - mask)[:, None, None, :] * NEG
        for i, layer in enumerate(self.bert.encoder.layer):
            x = self._attention(layer, x, pad + cross * self.gates[i])
        qmask, pmask = (1 - seg) * mask, seg
        q = (x * qmask.unsqueeze(-1)).sum(1) / qmask.sum(1, keepdim=True).clamp(min=1)
        p = (x * pmask.unsqueeze(-1)).sum(1) / pmask.sum(1, keepdim=True).clamp(min=1)
        cos = nn.functional.cosine_similarity(q, p, dim=-1, eps=1e-6).unsqueeze(-1)
        return self.log_scale.exp() * cos + self.bias + self.cls_head(x[:, 0])


def from_base(base_dir: Path, **kwargs: float) -> GatedCrossEncoder:
    """Build the model from the all-MiniLM-L6-v2 weights (bi-encoder start)."""
    from transformers import BertModel  # noqa: PLC0415

    return GatedCrossEncoder(BertModel.from_pretrained(str(base_dir), add_pooling_layer=False), **kwargs)


def save(model: GatedCrossEncoder, out_dir: Path) -> None:
    """Encoder in transformers layout plus the gate/head parameters."""
    out_dir.mkdir(parents=True, exist_ok=True)
    model.bert.save_pretrained(str(out_dir))
    extra = {k: v for k, v in model.state_dict().items() if not k.startswith("bert.")}
    torch.save(extra, out_dir / "gated_head.pt")


def load(torch_dir: Path) -> GatedCrossEncoder:
    """Inverse of `save`."""
    from transformers import BertModel  # noqa: PLC0415

    model = GatedCrossEncoder(BertModel.from_pretrained(str(torch_dir), add_pooling_layer=False))
    model.load_state_dict(torch.load(torch_dir / "gated_head.pt"), strict=False)
    return model.eval()

