"""Which input offsets are safe to commit: every record before them has its decision on the broker.

The worker commits offsets itself, from this ledger, instead of from Faust's acknowledgements:
Faust acknowledges the events its stream iterator *skips* during a rebalance as if they had been
processed, and its gap bookkeeping counts offsets it never delivered as done, so an offset it
commits can lie past comments that never got a decision (faust-streaming 0.15; the worker's
silent-loss defect).

The ledger knows nothing of Kafka clients. For each partition it holds ``done_until``: every
offset below it is decided. A fetched batch covers ``[start, end)`` where ``start`` is the fetch
position the records were read from and ``end`` is one past the last record: the offsets in
between that hold no record (transaction markers, compacted records) are covered too, because
the broker returns a partition's records from its position on, in order. A batch finished out
of order waits as a pending interval until the ones before it are done.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from typing import Generic, TypeVar

__all__ = ["OffsetLedger"]

P = TypeVar("P", bound=Hashable)


class _Partition:
    __slots__ = ("committed", "done_until", "pending")

    def __init__(self, position: int) -> None:
        self.done_until = position
        self.committed = position  # what was last committed (or the position it started at)
        self.pending: list[tuple[int, int]] = []  # finished intervals beyond done_until

    def add(self, start: int, end: int) -> None:
        if start <= self.done_until < end:
            self.done_until = end
        elif start > self.done_until:
            self.pending.append((start, end))
        if self.pending:
            self.pending.sort()
            kept: list[tuple[int, int]] = []
            for begin, finish in self.pending:
                if begin <= self.done_until:
                    self.done_until = max(self.done_until, finish)
                elif finish > self.done_until:
                    kept.append((begin, finish))
            self.pending = kept


class OffsetLedger(Generic[P]):
    """Per partition, the offset below which every record is decided (see the module docstring)."""

    def __init__(self) -> None:
        self._partitions: dict[P, _Partition] = {}

    def start(self, partition: P, position: int) -> None:
        """The consumer reads ``partition`` from ``position`` on (an assignment, a seek).

        Nothing before ``position`` is left to decide: it was committed, or it no longer exists
        (retention). What this ledger already knows to be done beyond it is kept.
        """
        state = self._partitions.get(partition)
        if state is None:
            self._partitions[partition] = _Partition(position)
        elif state.done_until < 0:  # finished batches arrived before the start
            state.done_until = state.committed = position
            state.add(position, position)
        else:
            state.add(min(state.done_until, position), position)

    def done(self, partition: P, start: int, end: int) -> None:
        """Every record of ``[start, end)`` has its decision (or dead letter) on the broker."""
        if end < start:
            raise ValueError(f"an interval ends before it starts: [{start}, {end})")
        state = self._partitions.get(partition)
        if state is None:
            # Never started: nothing says what lies before `start`, so it cannot be committed
            # until a start() covers it.
            state = self._partitions[partition] = _Partition(-1)
            state.pending.append((start, end))
            return
        state.add(start, end)

    def done_until(self, partition: P) -> int | None:
        state = self._partitions.get(partition)
        if state is None or state.done_until < 0:
            return None
        return state.done_until

    def committable(self, assigned: Iterable[P] | None = None) -> dict[P, int]:
        """Offsets to commit now: partitions (of ``assigned``) whose done_until moved on."""
        wanted = None if assigned is None else set(assigned)
        return {
            partition: state.done_until
            for partition, state in self._partitions.items()
            if (wanted is None or partition in wanted)
            and state.done_until >= 0
            and state.done_until > state.committed
        }

    def committed(self, offsets: Mapping[P, int]) -> None:
        """These offsets are committed on the broker."""
        for partition, offset in offsets.items():
            state = self._partitions.get(partition)
            if state is not None:
                state.committed = max(state.committed, offset)

    def forget(self, partitions: Iterable[P]) -> None:
        """These partitions were revoked: another consumer owns their offsets now."""
        for partition in partitions:
            self._partitions.pop(partition, None)

    def pending(self, partition: P) -> list[tuple[int, int]]:
        """Finished intervals still waiting for an earlier one (for tests and diagnostics)."""
        state = self._partitions.get(partition)
        return list(state.pending) if state is not None else []
