"""Recall on abusive-word lists nobody here wrote, in sentences aimed at someone.

    python -m benchmarks.wordlist_recall --naughty-words DIR --italian-badwords DIR [--misses]

The npm packages `naughty-words` (its `it.json` and `en.json`) and `italian-badwords-list` (its
`lib/array.js`), unpacked in DIR (`npm pack naughty-words@1.2.0 italian-badwords-list@1.0.3`, then
`tar xzf`). The lists are uncurated: a person marked which terms are truly abusive said to
someone; the labels (``benchmarks/data/wordlist-labels.tsv``) hold the SHA-1 prefix of each
lower-cased term, never the term, so the lists themselves are not shipped here. Each abusive
term is put in a sentence aimed at someone (*sei proprio X*, *you are such a X*, and after an
@mention) and counts as caught when the engine removes or escalates it in every frame.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
from pathlib import Path
from typing import Any

from benchmarks.corpus import public_comment
from streamproc.core import Engine, MemoryStrikeStore, load_pack

LABELS = Path(__file__).parent / "data" / "wordlist-labels.tsv"
FRAMES = {
    "it": ("sei proprio {}", "@mario {}"),
    "en": ("you are such a {}", "@john {}"),
}


def term_id(term: str) -> str:
    return hashlib.sha1(term.lower().encode()).hexdigest()[:16]


def load_lists(naughty: Path, italian: Path) -> dict[str, tuple[str, list[str]]]:
    package = naughty / "package" if (naughty / "package").is_dir() else naughty
    source = (italian / "package" if (italian / "package").is_dir() else italian) / "lib"
    array = (source / "array.js").read_text(encoding="utf-8")
    quoted = re.findall(r'"([^"]+)"|\'([^\']+)\'', array)
    return {
        "naughty-words it": ("it", json.loads((package / "it.json").read_text(encoding="utf-8"))),
        "italian-badwords-list": ("it", sorted({a or b for a, b in quoted})),
        "naughty-words en": ("en", json.loads((package / "en.json").read_text(encoding="utf-8"))),
    }


def load_labels(path: Path = LABELS) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            fields = line.split("\t")
            out[fields[0]] = fields[1]
    return out


def caught(engine: Engine, text: str) -> bool:
    return engine.moderate(public_comment(text), MemoryStrikeStore())["actions"] != ["allow"]


def measure(
    engine: Engine, lang: str, terms: list[str], labels: dict[str, str]
) -> tuple[dict[str, Any], list[str]]:
    abusive = [t for t in dict.fromkeys(terms) if labels.get(term_id(t)) == "abusive"]
    unlabelled = sum(1 for t in dict.fromkeys(terms) if term_id(t) not in labels)
    misses = [t for t in abusive if not all(caught(engine, f.format(t)) for f in FRAMES[lang])]
    found = len(abusive) - len(misses)
    return {
        "terms": len(set(terms)),
        "abusive": len(abusive),
        "caught": found,
        "recall": round(100 * found / len(abusive), 1) if abusive else None,
        "unlabelled": unlabelled,
    }, misses


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--naughty-words", type=Path, required=True)
    parser.add_argument("--italian-badwords", type=Path, required=True)
    parser.add_argument("--misses", action="store_true", help="list the abusive terms missed")
    args = parser.parse_args(argv)
    engine = Engine(load_pack())
    labels = load_labels()
    print("| list | terms | truly abusive | caught | recall | unlabelled |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, (lang, terms) in load_lists(args.naughty_words, args.italian_badwords).items():
        row, misses = measure(engine, lang, terms, labels)
        print(
            f"| {name} | {row['terms']} | {row['abusive']} | {row['caught']} | "
            f"{row['recall']}% | {row['unlabelled']} |"
        )
        if args.misses and misses:
            print(f"  missed ({name}): {', '.join(misses)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
