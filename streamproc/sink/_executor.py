"""Carrying out one step exactly once at the platform.

- Already in the ledger with a final status: skipped (counted as a duplicate, not rewritten).
- The comment was deleted first: ``cancelled``.
- Idempotent calls (hide, unhide, delete, ban, unban) are retried through rate limits and
  transient errors until done, a permanent failure, or ``retry_for`` seconds.
- Non-idempotent calls (replies, messages) record ``pending`` (acknowledged) before the call and
  ``done`` after it. Finding ``pending`` means a crash came between the two: the sink asks the
  platform whether the reply is there (where it can list what was sent) and sends it only if it
  is not; where the platform cannot tell, the outcome is ``unknown``, for a person. A call that
  may have landed without an answer (a 5xx, a lost connection) is treated the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time

from streamproc.sink._client import PlatformClient, Target
from streamproc.sink._errors import AlreadyDone, CannotList, Permanent, Transient
from streamproc.sink._ledger import TERMINAL, OutcomeLedger
from streamproc.sink._metrics import SinkMetrics
from streamproc.sink._plan import IDEMPOTENT, Step

__all__ = ["Executor"]

log = logging.getLogger("streamproc.sink")
_CANCELLED = "the comment was deleted before this was carried out"


class Executor:
    def __init__(
        self,
        ledger: OutcomeLedger,
        clients: dict[str, PlatformClient],
        metrics: SinkMetrics,
        retry_for: float = 3600.0,
        max_backoff: float = 300.0,
    ) -> None:
        self.ledger = ledger
        self.clients = clients
        self.metrics = metrics
        self.retry_for = retry_for
        self.max_backoff = max_backoff

    async def _record(
        self, partition: int, step: Step, status: str, source: str, **kwargs: object
    ) -> None:
        await self.ledger.record(partition, step, status, source, **kwargs)  # type: ignore[arg-type]
        if status != "pending":
            self.metrics.outcomes.labels(step.channel, step.action, status).inc()
        if status in ("failed", "unknown"):
            log.warning(
                "%s %s on %s: %s (%s)", step.action, status, step.channel, kwargs.get("reason"),
                step.operation,
            )  # fmt: skip

    async def run(self, step: Step, partition: int, source: str) -> None:
        prior = self.ledger.get(partition, step.action_id)
        if prior is not None and prior.get("status") in TERMINAL:
            self.metrics.duplicates.labels(step.channel).inc()
            return
        if step.kind == "marker":
            self.ledger.mark_deleted(step.comment_id)
            await self._record(partition, step, "done", source)
            return
        if step.kind == "people":
            await self._record(partition, step, "for_people", source, reason=step.reason)
            return
        if step.kind == "skip":
            await self._record(partition, step, "skipped", source, reason=step.reason)
            return
        if self.ledger.is_deleted(step.comment_id) and step.action_id.split(":")[0] != "review":
            await self._record(partition, step, "cancelled", source, reason=_CANCELLED)
            return
        client = self.clients[step.channel]
        attempts = int(prior.get("attempts") or 0) if prior else 0
        if step.operation in IDEMPOTENT:
            await self._idempotent(client, step, partition, source, attempts)
        else:
            pending = prior is not None and prior.get("status") == "pending"
            await self._once(client, step, partition, source, attempts, pending)

    def _deleted(self, step: Step) -> asyncio.Event | None:
        if step.action_id.startswith("review:"):
            return None  # a review acts whatever happened to the comment since
        return self.ledger.deleted_event(step.comment_id)

    async def _pause(self, client: PlatformClient, step: Step, seconds: float) -> bool:
        """Wait ``seconds`` (and for the rate gate); False if the comment was deleted meanwhile."""
        cancel = self._deleted(step)
        if seconds > 0:
            if cancel is None:
                await asyncio.sleep(seconds)
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(cancel.wait(), seconds)
                if cancel.is_set():
                    return False
        return await client.gate.wait(cancel)

    def _backoff(self, attempts: int, hinted: float | None) -> float:
        # Full jitter; a Retry-After from the platform closes the gate instead.
        delay = random.uniform(0, min(self.max_backoff, 0.5 * 2 ** min(attempts, 12)))
        return 0.0 if hinted else delay

    async def _operate(self, client: PlatformClient, step: Step, target: Target) -> None:
        op = step.operation
        if op in ("hide", "unhide"):
            await client.hide(target, op == "hide")
        elif op == "delete":
            await client.delete(target)
        else:
            await client.ban(target, op == "ban")

    async def _idempotent(
        self, client: PlatformClient, step: Step, partition: int, source: str, attempts: int
    ) -> None:
        target = Target.of(step.platform or {})
        deadline = time.monotonic() + self.retry_for
        delay = 0.0
        while True:
            if not await self._pause(client, step, delay):
                await self._record(partition, step, "cancelled", source, reason=_CANCELLED)
                return
            attempts += 1
            try:
                await self._operate(client, step, target)
            except Permanent as exc:
                if exc.gone and step.operation == "delete":
                    await self._record(partition, step, "done", source, attempts=attempts,
                                       reason=None, result={"already_gone": True})  # fmt: skip
                    return
                await self._record(partition, step, "failed", source, reason=exc.reason,
                                   attempts=attempts)  # fmt: skip
                return
            except (Transient, AlreadyDone) as exc:
                hinted = exc.retry_after if isinstance(exc, Transient) else None
                delay = self._backoff(attempts, hinted)
                if time.monotonic() + delay + client.gate.remaining() > deadline:
                    reason = f"gave up after {attempts} attempts: {exc.reason}"
                    await self._record(partition, step, "failed", source, reason=reason,
                                       attempts=attempts)  # fmt: skip
                    return
                continue
            await self._record(partition, step, "done", source, attempts=attempts)
            return

    async def _once(
        self,
        client: PlatformClient,
        step: Step,
        partition: int,
        source: str,
        attempts: int,
        pending: bool,
    ) -> None:
        target = Target.of(step.platform or {})
        private = step.operation == "reply_private"
        text = step.text or ""
        caps = client.capabilities
        if pending and not (private and caps.private_deduplicated):
            # A crash came between the intent and its outcome: did the reply go out?
            verdict = await self._reconcile(client, step, target, partition)
            if verdict is not None:
                status, reply_id, reason = verdict
                result = {"reply_id": reply_id, "reconciled": True} if reply_id else None
                await self._record(partition, step, status, source, reason=reason,
                                   attempts=attempts, result=result)  # fmt: skip
                return
        elif not pending:
            await self._record(partition, step, "pending", source, attempts=attempts)
        delay = 0.0
        deadline = time.monotonic() + self.retry_for
        while True:
            if not await self._pause(client, step, delay):
                await self._record(partition, step, "cancelled", source, reason=_CANCELLED,
                                   attempts=attempts)  # fmt: skip
                return
            attempts += 1
            try:
                reply_id = await client.reply(target, text, private)
            except AlreadyDone:
                await self._record(partition, step, "done", source, attempts=attempts,
                                   result={"reconciled": True})  # fmt: skip
                return
            except Permanent as exc:
                await self._record(partition, step, "failed", source, reason=exc.reason,
                                   attempts=attempts)  # fmt: skip
                return
            except Transient as exc:
                if exc.maybe_sent:
                    verdict = await self._reconcile(client, step, target, partition)
                    if verdict is not None:
                        status, reply_id, reason = verdict
                        result = {"reply_id": reply_id, "reconciled": True} if reply_id else None
                        await self._record(partition, step, status, source, reason=reason,
                                           attempts=attempts, result=result)  # fmt: skip
                        return
                delay = self._backoff(attempts, exc.retry_after)
                if time.monotonic() + delay + client.gate.remaining() > deadline:
                    reason = f"gave up after {attempts} attempts: {exc.reason}"
                    await self._record(partition, step, "failed", source, reason=reason,
                                       attempts=attempts)  # fmt: skip
                    return
                continue
            await self._record(partition, step, "done", source, attempts=attempts,
                               result={"reply_id": reply_id} if reply_id else None)  # fmt: skip
            return

    async def _reconcile(
        self, client: PlatformClient, step: Step, target: Target, partition: int
    ) -> tuple[str, str | None, str | None] | None:
        """(status, reply id, reason) when the platform settles it; None: not sent, send it."""
        private = step.operation == "reply_private"
        exclude = self.ledger.claimed_replies(partition)
        for attempt in range(1, 6):
            if not await client.gate.wait():
                break
            try:
                found = await client.find_reply(target, step.text or "", private, exclude)
            except CannotList:
                return (
                    "unknown",
                    None,
                    (
                        "the reply may have been sent before a restart, and "
                        f"{step.channel} cannot list what was sent: check by hand"
                    ),
                )
            except Permanent as exc:
                return "failed", None, f"could not check whether the reply was sent: {exc.reason}"
            except Transient as exc:
                await asyncio.sleep(exc.retry_after or self._backoff(attempt, None))
                continue
            return ("done", found, None) if found else None
        return "unknown", None, "the platform did not answer whether the reply was sent"
