"""Stage `extract`: turn Debian archive files into clean JSONL sources under training/work/."""
from __future__ import annotations

import glob
import gzip
import re
import subprocess
from pathlib import Path

from training.common import WORK, write_jsonl

DEBS = ["wordnet-base", "manpages", "python3.11-doc", "perl-doc"]
ROOT = WORK / "root"


def _lz4_text(path: str) -> str:
    """Decompress an apt list (lz4) with the lz4 command-line tool."""
    return subprocess.run(["lz4", "-dc", path], check=True, capture_output=True).stdout.decode("utf-8", "replace")


def _stanzas(text: str) -> list[dict[str, str]]:
    """Parse deb822 stanzas; continuation lines are kept with their newline."""
    out = []
    for block in text.split("\n\n"):
        fields: dict[str, str] = {}
        key = None
        for line in block.split("\n"):
            if line.startswith((" ", "\t")) and key:
                fields[key] += "\n" + line[1:]
            elif ":" in line:
                key, _, val = line.partition(":")
                fields[key] = val.strip()
        if fields:
            out.append(fields)
    return out


def _long_description(body: str) -> str:
    """Join the long-description lines of a Debian description; ' .' lines separate paragraphs."""
    paras, cur = [], []
    for line in body.split("\n"):
        if line.strip() == ".":
            if cur:
                paras.append(" ".join(cur))
            cur = []
        else:
            cur.append(line.strip())
    if cur:
        paras.append(" ".join(cur))
    return "\n".join(p for p in paras if p)


def ensure_translations() -> None:
    """Fetch the English description lists when apt was told to skip them (Acquire::Languages "none")."""
    if not glob.glob("/var/lib/apt/lists/*Translation-en*.lz4"):
        subprocess.run(["apt-get", "update", "-o", "Acquire::Languages=en"], check=True, capture_output=True)


def extract_debian() -> list[dict]:
    """Packages with short + long English descriptions, and their source package."""
    ensure_translations()
    sources: dict[str, str] = {}
    for path in sorted(glob.glob("/var/lib/apt/lists/*_binary-*_Packages.lz4")):
        for st in _stanzas(_lz4_text(path)):
            if "Package" in st:
                sources[st["Package"]] = st.get("Source", st["Package"]).split(" ")[0]
    rows: dict[str, dict] = {}
    # bookworm main first; updates/security only add packages main lacks
    paths = sorted(glob.glob("/var/lib/apt/lists/*Translation-en*.lz4"), key=lambda p: ("_bookworm_main" not in p, p))
    for path in paths:
        for st in _stanzas(_lz4_text(path)):
            pkg, desc = st.get("Package"), st.get("Description-en")
            if not pkg or not desc or pkg in rows:
                continue
            short, _, body = desc.partition("\n")
            long = _long_description(body)
            if short.strip() and long.strip():
                rows[pkg] = {"pkg": pkg, "source": sources.get(pkg, pkg), "short": short.strip(), "long": long}
    return list(rows.values())


def download_debs() -> None:
    """Fetch and unpack the general-text Debian packages (no install, so dpkg path excludes don't apply)."""
    debs = WORK / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    missing = [name for name in DEBS if not list(debs.glob(f"{name}_*.deb"))]
    if missing:
        subprocess.run(["apt-get", "download", *missing], cwd=debs, check=True)
    for deb in sorted(debs.glob("*.deb")):
        ROOT.mkdir(parents=True, exist_ok=True)
        # one folder per package: a corpus is read from its own package only (perl-doc also ships man pages)
        subprocess.run(["dpkg-deb", "-x", str(deb), str(ROOT / deb.name.split("_")[0])], check=True)


def extract_wordnet() -> list[dict]:
    """WordNet 3.0 synsets: lemmas, gloss (definition) and example sentences."""
    rows = []
    for pos in ["noun", "verb", "adj", "adv"]:
        for line in (ROOT / "wordnet-base/usr/share/wordnet" / f"data.{pos}").read_text(errors="replace").splitlines():
            if line.startswith("  ") or "|" not in line:
                continue
            head, _, gloss = line.partition("|")
            parts = head.split()
            n = int(parts[3], 16)
            lemmas = [re.sub(r"\(.*\)$", "", parts[4 + 2 * i]).replace("_", " ") for i in range(n)]
            quoted = re.findall(r'"([^"]+)"', gloss)
            definition = gloss.split('"')[0].strip().rstrip(";").strip()
            if definition:
                rows.append({"id": f"{pos}-{parts[0]}", "pos": pos, "lemmas": lemmas, "gloss": definition,
                             "examples": [q.strip() for q in quoted if len(q.split()) >= 3]})
    return rows


def _roff_to_text(lines: list[str]) -> str:
    """Very small roff-to-text: drop requests, keep text of font macros, join paragraphs."""
    paras, cur = [], []
    for line in lines:
        if line.startswith(('.\\"', "'\\\"")):
            continue
        if re.match(r"^\.(PP|LP|P|IP|TP|HP|sp|br|RS|RE|in|nf|fi|EX|EE|TQ)\b", line):
            if cur:
                paras.append(" ".join(cur))
                cur = []
            m = re.match(r"^\.IP\s+(.*)", line)
            if m and not m.group(1).startswith("\\["):
                cur.append(m.group(1).split(" ")[0].strip('"'))
            continue
        m = re.match(r"^\.(B|I|BR|IR|RB|RI|BI|IB|SM|SB)\s*(.*)", line)
        if m:
            line = m.group(2).replace('"', "")
        elif line.startswith("."):
            continue
        line = re.sub(r"\\f[BIRPC]|\\f\(..|\\f\[[A-Z]*\]", "", line)
        line = line.replace("\\-", "-").replace("\\(em", "-").replace("\\[em]", "-").replace("\\(aq", "'")
        line = re.sub(r"\\\[[a-z]+\]|\\\(..|\\[&|^e]", "", line)
        if line.strip():
            cur.append(line.strip())
    if cur:
        paras.append(" ".join(cur))
    return "\n".join(p for p in paras if p)


def extract_manpages() -> list[dict]:
    """Linux man-pages: NAME line description -> first paragraphs of DESCRIPTION."""
    rows = []
    # WordNet's own four pages (wndb, wninput, ...) were always part of this set: kept, so its figures stay comparable
    pages = [p for pkg in ("manpages", "wordnet-base") for p in glob.glob(str(ROOT / pkg / "usr/share/man/man[2-7]/*.gz"))]
    for path in sorted(pages, key=lambda p: Path(p).relative_to(ROOT).parts[1:]):
        text = gzip.open(path, "rt", errors="replace").read()
        if text.startswith(".so "):
            continue
        sections: dict[str, list[str]] = {}
        cur = None
        for line in text.splitlines():
            m = re.match(r'^\.SH\s+"?([^"]+)"?', line)
            if m:
                cur = m.group(1).strip().upper()
                sections[cur] = []
            elif cur:
                sections[cur].append(line)
        name = _roff_to_text(sections.get("NAME", []))
        desc = _roff_to_text(sections.get("DESCRIPTION", []))
        if " - " not in name or len(desc.split()) < 20:
            continue
        names, _, what = name.partition(" - ")
        paras = desc.split("\n")
        passage = ""
        for p in paras:
            if len(passage.split()) > 120:
                break
            passage = (passage + "\n" + p).strip()
        rows.append({"id": Path(path).name[:-3], "names": names.strip(), "query": what.strip(), "passage": passage})
    return rows


def _faq_answer(paras: list[str]) -> str | None:
    """An FAQ answer: its first paragraphs until past 150 words; None when under 15 words (too short to rank)."""
    answer = ""
    for para in paras:
        if len(answer.split()) > 150:
            break
        answer = (answer + "\n" + para).strip()
    return answer if len(answer.split()) >= 15 else None


def _rst_clean(text: str) -> str:
    """Strip the most common reStructuredText markup."""
    text = re.sub(r":[a-z:]+:`~?([^`<]*?)(?:\s*<[^>]*>)?`", r"\1", text)
    text = re.sub(r"`([^`<]*?)\s*<[^>]*>`_+", r"\1", text)
    text = re.sub(r"``([^`]*)``", r"\1", text)
    text = re.sub(r"\*\*?([^*]+)\*\*?", r"\1", text)
    return text


def extract_pyfaq() -> list[dict]:
    """Python FAQ: each question heading -> its answer text (code blocks dropped)."""
    rows = []
    for path in sorted(glob.glob(str(ROOT / "python3.11-doc/usr/share/doc/python3.11/html/_sources/faq/*.rst.txt"))):
        lines = Path(path).read_text().splitlines()
        heads = [i for i in range(1, len(lines)) if re.fullmatch(r"-{4,}", lines[i]) and lines[i - 1].strip()
                 and len(lines[i]) >= len(lines[i - 1].rstrip()) - 1]
        for k, i in enumerate(heads):
            end = heads[k + 1] - 1 if k + 1 < len(heads) else len(lines)
            body = []
            for line in lines[i + 1:end]:
                if re.fullmatch(r"[=~^-]{4,}", line.strip()) or line.startswith(".. "):
                    continue
                if line.startswith("   ") or line.startswith("\t"):
                    continue  # code / directive bodies
                if line.rstrip().endswith("::"):
                    line = line.rstrip()[:-1]
                body.append(line)
            paras = [" ".join(p.split()) for p in "\n".join(body).split("\n\n")]
            paras = [_rst_clean(p) for p in paras if p and not p.startswith(">>>")]
            answer = _faq_answer(paras)
            if answer:
                rows.append({"id": f"{Path(path).stem}-{k}", "query": _rst_clean(lines[i - 1].strip()), "passage": answer})
    return rows


def _pod_clean(text: str) -> str:
    """Strip POD formatting codes (C<...>, L<text|target>, B<<< ... >>>), keeping their text; index entries (X<...>)
    are not text and go."""
    text = re.sub(r"X<<+\s.*?\s>>+|X<[^<>]*>", "", text).strip()
    for _ in range(3):  # nested codes
        text = re.sub(r"[A-Z]<<+\s(.*?)\s>>+", r"\1", text)
        text = re.sub(r"L<([^<>|]*)\|[^<>]*>", r"\1", text)
        text = re.sub(r"[A-Z]<([^<>]*)>", r"\1", text)
    return text


def extract_perlfaq() -> list[dict]:
    """perlfaq1-9 (perl-doc): each `=head2` question -> its prose answer (code blocks and credits dropped)."""
    rows = []
    for path in sorted(glob.glob(str(ROOT / "perl-doc/usr/share/perl/*/pod/perlfaq[1-9].pod"))):
        for k, block in enumerate(Path(path).read_text(errors="replace").split("\n=head2 ")[1:]):
            head, _, body = block.partition("\n")
            paras = []
            prose = "\n".join(line for line in body.split("\n=head1")[0].split("\n") if not line.startswith("="))
            for para in re.split(r"\n\s*\n", prose):
                if not para.strip() or para.startswith((" ", "\t", "=")) or para.lstrip().startswith("(contributed"):
                    continue
                paras.append(_pod_clean(" ".join(para.split())))
            answer = _faq_answer(paras)
            if answer:
                rows.append({"id": f"{Path(path).stem}-{k}", "query": _pod_clean(head.strip()), "passage": answer})
    return rows


def run() -> None:
    """Run every extractor and write training/work/*.jsonl."""
    download_debs()
    for name, fn in [("debian", extract_debian), ("wordnet", extract_wordnet), ("manpages", extract_manpages),
                     ("pyfaq", extract_pyfaq), ("perlfaq", extract_perlfaq)]:
        rows = fn()
        write_jsonl(WORK / f"{name}.jsonl", rows)
        print(f"extract: {name}: {len(rows)} rows")
