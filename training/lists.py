"""Stage `lists`: training lists that teach "answers" vs "mentions", each scored by the all-mpnet-base-v2 teacher.

Two sources, both packaged and licence-clear:
- Debian descriptions (short description -> the package's long description), BM25 hard negatives: other packages'
  descriptions that share the query's words but describe something else.
- WordNet "what is X / what does X mean" -> the gloss of X, against passages that *mention* X without defining it:
  example sentences that use X, and glosses of other words that contain X. X's other senses are left out (they
  would answer the question too).
Every list is written with its passages in a fixed order (the positive first) and the teacher's cosines, so the
training loop never needs the teacher; the teacher embeds each unique text once, cached (training/work/teacher_cache).
"""
from __future__ import annotations

import random
import re
import time

from training.common import SEED, WORK, read_jsonl, write_jsonl

LIST_SIZE = 8
N_DEBIAN, N_WORDNET = 2400, 2400  # 700 steps x 3 lists of each, plus a margin
DEBIAN_TEMPLATES = ["{}", "{}", "{}", "what is a {}?", "i need {}", "looking for {}", "{} for linux",
                    "which package provides {}?"]
WORDNET_TEMPLATES = {"noun": ["what is a {}?", "what is {}", "define {}", "{} meaning", "what does {} mean?"],
                     "verb": ["what does it mean to {}?", "meaning of {}", "define {}"],
                     "adj": ["what does {} mean?", "{} definition", "define {}"],
                     "adv": ["what does {} mean?", "define {}"]}


def sentence(text: str) -> str:
    """Capitalised, with a full stop."""
    text = text.strip()
    return text[0].upper() + text[1:] + ("" if text.endswith((".", "!", "?")) else ".")


def debian_lists(rng: random.Random) -> list[dict]:
    """Debian query lists from debian_train.jsonl: positive, 6 BM25 hard negatives, random fill."""
    rows = read_jsonl(WORK / "debian_train.jsonl")
    rows = rng.sample(rows, min(N_DEBIAN, len(rows)))
    out = []
    for row in rows:
        short = row["query"]
        query = rng.choice(DEBIAN_TEMPLATES).format(short[0].lower() + short[1:])
        hard = rng.sample(row["hard"], min(LIST_SIZE - 2, len(row["hard"])))
        fill = list(row["random"])
        while len(hard) + len(fill) < LIST_SIZE - 1:
            fill.append(rng.choice(rows)["pos"])
        out.append({"source": "debian", "query": query, "passages": [row["pos"], *hard, *fill][:LIST_SIZE]})
    return out


def word_index(texts: list[str]) -> dict[str, list[int]]:
    """Lower-cased word -> indices of the texts that contain it."""
    index: dict[str, list[int]] = {}
    for k, text in enumerate(texts):
        for w in set(re.findall(r"[a-z][a-z'-]*", text.lower())):
            index.setdefault(w, []).append(k)
    return index


def wordnet_lists(rng: random.Random) -> list[dict]:
    """WordNet definition lists: the gloss first, then passages that use or mention the word and do not define it."""
    synsets = read_jsonl(WORK / "wordnet.jsonl")
    senses: dict[str, set[int]] = {}
    for i, s in enumerate(synsets):
        for lemma in s["lemmas"]:
            senses.setdefault(lemma.lower(), set()).add(i)
    examples = [(i, sentence(e)) for i, s in enumerate(synsets) for e in s["examples"]]
    glosses = [(i, sentence(s["gloss"])) for i, s in enumerate(synsets)]
    ex_index, gl_index = word_index([t for _, t in examples]), word_index([t for _, t in glosses])
    order = list(range(len(synsets)))
    rng.shuffle(order)
    out: list[dict] = []
    for i in order:
        if len(out) >= N_WORDNET:
            break
        s = synsets[i]
        lemma = rng.choice(s["lemmas"])
        if len(lemma) < 4 or not re.fullmatch(r"[a-z][a-z '-]*", lemma):
            continue  # short or capitalised lemmas (names, abbreviations) make noisy word matches
        word = re.compile(rf"\b{re.escape(lemma)}\b", re.I)
        own = senses[lemma.lower()]
        first = lemma.lower().split()[0]
        uses = [examples[k][1] for k in ex_index.get(first, []) if word.search(examples[k][1])]
        mentions = [glosses[k][1] for k in gl_index.get(first, []) if k not in own and word.search(glosses[k][1])]
        if len(uses) + len(mentions) < 3:
            continue
        negs = rng.sample(uses, min(4, len(uses)))
        negs += rng.sample(mentions, min(LIST_SIZE - 1 - len(negs), len(mentions)))
        while len(negs) < LIST_SIZE - 1:
            j, text = glosses[rng.randrange(len(glosses))]
            if j not in own:
                negs.append(text)
        query = rng.choice(WORDNET_TEMPLATES[s["pos"]]).format(lemma)
        out.append({"source": "wordnet", "query": query, "passages": [sentence(s["gloss"]), *negs]})
    return out


def score_lists(lists: list[dict]) -> None:
    """Add the teacher's cosine for every passage of every list (`teacher`), embedding each unique text once."""
    from training.teacher import Teacher, text_key  # noqa: PLC0415

    teacher = Teacher()
    t0 = time.time()
    emb = teacher.embed([t for item in lists for t in [item["query"], *item["passages"]]])
    for item in lists:
        q = emb[text_key(item["query"])]
        item["teacher"] = [round(float(emb[text_key(p)] @ q), 5) for p in item["passages"]]
    print(f"lists: teacher scores for {len(lists)} lists in {time.time() - t0:.0f} s", flush=True)


def run() -> None:
    """Write training/work/train_lists.jsonl (seeded): Debian and WordNet lists with teacher scores."""
    t0 = time.time()
    lists = debian_lists(random.Random(SEED + 2)) + wordnet_lists(random.Random(SEED + 3))
    print(f"lists: {sum(x['source'] == 'debian' for x in lists)} Debian, {sum(x['source'] == 'wordnet' for x in lists)} "
          f"WordNet lists of {LIST_SIZE} built in {time.time() - t0:.0f} s", flush=True)
    score_lists(lists)
    write_jsonl(WORK / "train_lists.jsonl", lists)
