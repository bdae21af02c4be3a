"""False positives on text nobody here wrote: Debian's fortune files and Italian translations.

    python -m benchmarks.debian_text [--results DIR] [--dump FILE]

Runs the default pack over every fortune of the `fortunes` and `fortunes-it` packages (English
files only for `en`: fortunes-it also installs its files at the top level) and every Italian
string of the `.mo` catalogues installed under /usr/share/locale/it, as public comments with no
strikes, and compares what the engine flagged with labels read by a person
(``benchmarks/data/debian-text-labels.tsv``: the text's SHA-1 prefix, ``clean`` / ``borderline``
/ ``violation``, a note). The figures:

- **clear false positives**: a text labelled ``clean`` that the engine removed, warned, blocked,
  reported or redirected;
- **needless escalations**: a ``clean`` text sent to a person for a reason other than relevance
  (every fortune is off topic on an institution's page: off-topic escalations are right);
- **severe actions**: block or a report on any of these texts (the target is none);
- **unlabelled**: flagged texts nobody has read yet (label them with ``--dump``).

The .mo set depends on the packages installed, so its figures are for this machine's set.
"""

from __future__ import annotations

import argparse
import gettext
import glob
import hashlib
import json
import os
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks.corpus import public_comment
from streamproc.core import Engine, MemoryStrikeStore, load_pack

FORTUNES = Path("/usr/share/games/fortunes")
LOCALE_IT = Path("/usr/share/locale/it/LC_MESSAGES")
LABELS = Path(__file__).parent / "data" / "debian-text-labels.tsv"
SEVERE = frozenset({"block", "report_platform", "report_authorities"})
ACTING = frozenset({"remove", "warn", "redirect"}) | SEVERE
MAX_CHARS = 5000  # the default pack's limit: longer texts are cut, as a connector would


def _fortune_files(folder: Path, skip: set[str]) -> Iterator[Path]:
    names = sorted(
        {p.name.split(".")[0] for p in folder.iterdir() if p.is_file() and p.suffix != ".dat"}
        - skip
    )
    for name in names:
        utf8 = folder / f"{name}.u8"
        yield utf8 if utf8.exists() else folder / name


def fortunes(folder: Path, skip: set[str] | None = None) -> Iterator[str]:
    for path in _fortune_files(folder, skip or set()):
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
        for chunk in text.split("\n%\n"):
            chunk = chunk.strip()
            if chunk:
                yield chunk[:MAX_CHARS]


def translations(folder: Path) -> Iterator[str]:
    seen: set[str] = set()
    for path in sorted(glob.glob(str(folder / "*.mo"))):
        try:
            with open(path, "rb") as f:
                catalog = gettext.GNUTranslations(f)._catalog  # type: ignore[attr-defined]
        except (OSError, ValueError, UnicodeDecodeError):
            continue
        for value in catalog.values():
            if isinstance(value, str) and value.strip() and value not in seen:
                seen.add(value)
                yield value[:MAX_CHARS]


def corpora() -> dict[str, list[str]]:
    it_names = {p.name.split(".")[0] for p in (FORTUNES / "it").iterdir()}
    return {
        "fortunes-it": list(fortunes(FORTUNES / "it")),
        "fortunes (en)": list(fortunes(FORTUNES, it_names)),
        "Italian .mo strings": list(translations(LOCALE_IT)),
    }


def text_id(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def load_labels(path: Path = LABELS) -> dict[str, str]:
    labels: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) < 2 or fields[1] not in {"clean", "borderline", "violation"}:
            raise SystemExit(f"{path}:{number}: expected id<TAB>clean|borderline|violation")
        labels[fields[0]] = fields[1]
    return labels


def measure(
    engine: Engine, texts: list[str], labels: dict[str, str], dump: Any = None
) -> dict[str, Any]:
    counts: Counter[str] = Counter()
    for text in texts:
        decision = engine.moderate(public_comment(text), MemoryStrikeStore())
        actions = set(decision["actions"])
        counts["texts"] += 1
        if actions == {"allow"}:
            continue
        counts["flagged"] += 1
        rules = sorted({m["rule"] for m in decision["matches"]})
        if rules == ["off_topic.relevance"]:
            counts["off topic only"] += 1
            continue
        counts["severe"] += bool(actions & SEVERE)
        counts["removed"] += "remove" in actions
        key = text_id(text)
        label = labels.get(key)
        if label is None:
            counts["unlabelled"] += 1
            if dump is not None:
                dump.write(
                    f"{key}\t-\t{','.join(decision['actions'])}\t"
                    f"{','.join(rules)}\t{text[:2000]!r}\n"
                )
            continue
        counts[f"labelled {label}"] += 1
        if label == "clean":
            if actions & ACTING:
                counts["clear false positives"] += 1
            else:
                counts["needless escalations"] += 1
    total = counts["texts"] or 1
    return {
        **{k: counts[k] for k in sorted(counts)},
        "clear false positive rate": round(100 * counts["clear false positives"] / total, 3),
        "needless escalation rate": round(100 * counts["needless escalations"] / total, 3),
    }


COLUMNS = (
    "texts",
    "flagged",
    "off topic only",
    "removed",
    "severe",
    "clear false positives",
    "clear false positive rate",
    "needless escalations",
    "needless escalation rate",
    "unlabelled",
)


def markdown(results: dict[str, dict[str, Any]]) -> str:
    lines = [
        "| corpus | " + " | ".join(COLUMNS) + " |",
        "|---|" + "---:|" * len(COLUMNS),
    ]
    for name, row in results.items():
        cells = [f"{row.get(c, 0)}{'%' if c.endswith('rate') else ''}" for c in COLUMNS]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=Path, help="write results.json and summary.md here")
    parser.add_argument("--dump", type=Path, help="write the unlabelled flagged texts here")
    args = parser.parse_args(argv)
    if not FORTUNES.is_dir() or not (FORTUNES / "it").is_dir():
        print("needs Debian's fortunes and fortunes-it packages", file=sys.stderr)
        return 2
    engine = Engine(load_pack())
    labels = load_labels()
    dump = open(args.dump, "w", encoding="utf-8") if args.dump else None  # noqa: SIM115
    try:
        results = {name: measure(engine, texts, labels, dump) for name, texts in corpora().items()}
    finally:
        if dump is not None:
            dump.close()
    table = markdown(results)
    print(table, end="")
    if args.results:
        os.makedirs(args.results, exist_ok=True)
        (args.results / "results.json").write_text(json.dumps(results, indent=2) + "\n")
        (args.results / "summary.md").write_text(
            "# False positives on Debian's fortunes and Italian translations\n\n"
            "`python -m benchmarks.debian_text` (see its docstring for the definitions)\n\n" + table
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
