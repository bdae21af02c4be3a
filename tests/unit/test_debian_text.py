"""Text nobody here wrote, read as comments: Debian's fortune files and the Italian strings of
the installed translations (benchmarks/debian_text.py measures the same with its labels)."""

from __future__ import annotations

from collections import Counter

import pytest

from benchmarks.debian_text import LABELS, corpora, load_labels, measure
from streamproc.core import Engine

CORPORA = corpora()


@pytest.mark.parametrize("name", sorted(CORPORA))
def test_no_severe_action_on_text_nobody_wrote_at_us(default_engine: Engine, name: str) -> None:
    texts = CORPORA[name]
    assert len(texts) > (1000 if name.startswith("fortunes") else 100), "corpus not installed"
    figures = measure(default_engine, texts, {})
    assert figures["severe"] == 0, f"{name}: {figures['severe']} of {len(texts)} blocked/reported"


# The clear false-positive rates when this text was first read by hand (0.16% and 0.26%): a
# regression above them fails. Measured since: 0.153% (fortunes-it), 0.184% (fortunes), 0.016%
# (the .mo strings of the machine that labelled them).
BOUNDS = {"fortunes-it": 0.16, "fortunes (en)": 0.26, "Italian .mo strings": 0.16}


@pytest.mark.parametrize("name", sorted(CORPORA))
def test_clear_false_positives_stay_below_the_first_measurement(
    default_engine: Engine, name: str
) -> None:
    figures = measure(default_engine, CORPORA[name], load_labels())
    assert figures["clear false positive rate"] < BOUNDS[name], figures


def test_the_labels_are_one_per_text_and_valid() -> None:
    ids = [line.split("\t")[0] for line in LABELS.read_text(encoding="utf-8").splitlines()]
    assert [i for i, n in Counter(ids).items() if n > 1] == []
    labels = load_labels()
    assert len(labels) == len(ids) and set(labels.values()) <= {"clean", "borderline", "violation"}
