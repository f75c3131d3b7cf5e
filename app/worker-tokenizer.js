// Scoring worker, the one place that reaches into transformers.js' tokenizer internals.
//
// Why: a reranker must see exactly what HF `tokenizer(query, passage, truncation="only_second", max_length=L)`
// gives in Python (the model was trained and exported on that). transformers.js' public tokenizer call can only
// truncate the *end* of the joined sequence (it drops the final [SEP] and never shortens just the passage), and it
// has no public way to add the model's special tokens to token lists the caller truncated. So app/worker-encode.js
// truncates the public `tokenizer.tokenize()` output itself and hands the parts to the tokenizer's own
// post-processor here. tests/e2e/test_scoring.py compares the resulting ids and type ids with HF tokenizers.

/**
 * Apply the tokenizer's special-token template to already-split tokens: `[CLS] first [SEP] second [SEP]` for BERT
 * (second may be null). Returns {ids, typeIds} like HF's input_ids and token_type_ids.
 */
export function withSpecialTokens(tokenizer, first, second) {
  const tok = tokenizer._tokenizer;
  const out = tok.post_processor ? tok.post_processor(first, second, true) : { tokens: second ? first.concat(second) : first };
  // Added tokens first: their normalised spelling (e.g. "[cls]" under a lowercasing normaliser) maps to them too.
  const ids = out.tokens.map((t) => tok.added_tokens_map?.get(t)?.id ?? tok.model.tokens_to_ids.get(t) ?? tok.model.unk_token_id);
  return { ids, typeIds: out.token_type_ids || new Array(ids.length).fill(0) };
}
