"""The offset ledger: a commit never passes a record without a decision."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamproc.worker import OffsetLedger

TP = ("comments.facebook", 0)


def test_contiguous_batches_advance_the_commit() -> None:
    ledger: OffsetLedger[tuple[str, int]] = OffsetLedger()
    ledger.start(TP, 100)
    assert ledger.committable() == {}
    ledger.done(TP, 100, 150)
    assert ledger.committable() == {TP: 150}
    ledger.committed({TP: 150})
    assert ledger.committable() == {}
    ledger.done(TP, 150, 151)
    assert ledger.committable() == {TP: 151}


def test_a_batch_finished_early_waits_for_the_one_before_it() -> None:
    ledger: OffsetLedger[tuple[str, int]] = OffsetLedger()
    ledger.start(TP, 0)
    ledger.done(TP, 10, 20)
    assert ledger.done_until(TP) == 0
    assert ledger.pending(TP) == [(10, 20)]
    ledger.done(TP, 0, 10)
    assert ledger.done_until(TP) == 20
    assert ledger.pending(TP) == []


def test_offsets_without_records_inside_a_batch_are_covered() -> None:
    # A fetch from position 40 that returns records 43..49 (40..42 are transaction markers).
    ledger: OffsetLedger[tuple[str, int]] = OffsetLedger()
    ledger.start(TP, 40)
    ledger.done(TP, 40, 50)
    assert ledger.committable() == {TP: 50}


def test_nothing_is_committable_for_a_partition_never_started() -> None:
    ledger: OffsetLedger[tuple[str, int]] = OffsetLedger()
    ledger.done(TP, 10, 20)
    assert ledger.committable() == {}
    assert ledger.done_until(TP) is None
    ledger.start(TP, 10)
    assert ledger.committable() == {TP: 20}


def test_a_seek_back_keeps_what_is_known_to_be_done() -> None:
    ledger: OffsetLedger[tuple[str, int]] = OffsetLedger()
    ledger.start(TP, 0)
    ledger.done(TP, 0, 30)
    ledger.start(TP, 10)  # re-read from the committed offset
    assert ledger.done_until(TP) == 30


def test_a_start_past_what_is_done_moves_the_commit_forward() -> None:
    ledger: OffsetLedger[tuple[str, int]] = OffsetLedger()
    ledger.start(TP, 0)
    ledger.done(TP, 50, 60)
    ledger.start(TP, 50)  # another consumer committed 50 meanwhile
    assert ledger.done_until(TP) == 60


def test_revoked_partitions_are_forgotten_and_not_committed() -> None:
    ledger: OffsetLedger[tuple[str, int]] = OffsetLedger()
    other = ("comments.facebook", 1)
    ledger.start(TP, 0)
    ledger.start(other, 0)
    ledger.done(TP, 0, 5)
    ledger.done(other, 0, 7)
    assert ledger.committable([other]) == {other: 7}
    ledger.forget([TP])
    assert ledger.committable() == {other: 7}


def test_an_interval_that_ends_before_it_starts_is_a_bug() -> None:
    ledger: OffsetLedger[tuple[str, int]] = OffsetLedger()
    with pytest.raises(ValueError):
        ledger.done(TP, 5, 4)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.integers(1, 20), min_size=1, max_size=30),
    st.randoms(use_true_random=False),
    st.integers(0, 1000),
)
def test_done_until_is_never_past_an_unfinished_batch(
    sizes: list[int], rng: object, base: int
) -> None:
    # Batches cover the log from `base` in order; they finish in any order.
    batches = []
    start = base
    for size in sizes:
        batches.append((start, start + size))
        start += size
    order = list(range(len(batches)))
    rng.shuffle(order)  # type: ignore[attr-defined]
    ledger: OffsetLedger[tuple[str, int]] = OffsetLedger()
    ledger.start(TP, base)
    finished: set[int] = set()
    for index in order:
        ledger.done(TP, *batches[index])
        finished.add(index)
        first_unfinished = next((i for i in range(len(batches)) if i not in finished), None)
        limit = batches[first_unfinished][0] if first_unfinished is not None else start
        assert ledger.done_until(TP) == limit
    assert ledger.committable() == {TP: start}
    assert ledger.pending(TP) == []
