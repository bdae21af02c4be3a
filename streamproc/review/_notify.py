"""The out-of-hours webhook: an urgent case that arrives outside moderation hours is announced
to ``STREAMPROC_REVIEW_URGENT_WEBHOOK`` once, so that whoever is on call sees it.

The body is JSON with a ``text`` line (what Slack, Mattermost and Teams incoming webhooks show)
and the case's skeleton: never the comment's text or its author. The state lives in the
database (table ``notifications``): a case is announced once across restarts and replicas; a
failed delivery is retried with a growing pause while the case stays open. Each delivery carries
``X-Streamproc-Delivery`` (the same on every retry, for receivers that deduplicate) and, with a
secret, ``X-Streamproc-Signature: sha256=<HMAC of the body>``.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from datetime import datetime, timedelta
from typing import Any, Final

import aiohttp
import orjson
from sqlalchemy import Engine, and_, or_, select, true

from streamproc.review._actions import write_audit
from streamproc.review._records import utcnow
from streamproc.review._schema import cases, notifications
from streamproc.review._store import _insert

__all__ = ["UrgentNotifier", "webhook_body"]

log = logging.getLogger("streamproc.review")

#: Cases older than this when first seen are not announced (a new webhook, or a console that
#: was down for a day, must not page for yesterday's backlog: the queue shows it).
FRESH: Final = timedelta(hours=24)
MAX_PAUSE: Final = timedelta(minutes=15)
TIMEOUT: Final = aiohttp.ClientTimeout(total=10)


def webhook_body(case: dict[str, Any], console_url: str) -> bytes:
    decision = case["decision"] if isinstance(case["decision"], dict) else {}
    categories = [str(c) for c in decision.get("categories") or []]
    url = f"{console_url.rstrip('/')}/case/{case['id']}"
    what = ", ".join(categories) or "a case"
    return orjson.dumps(
        {
            "text": f"Urgent case outside moderation hours: {what} on {case['channel']} — {url}",
            "case_id": case["id"],
            "case_url": url,
            "channel": case["channel"],
            "categories": categories,
            "actions": case["actions"].split(","),
            "policy_version": case["policy_version"],
            "decided_at": case["decided_at"],
        }
    )


class UrgentNotifier:
    def __init__(
        self, engine: Engine, url: str, console_url: str, secret: str = "", counter: Any = None
    ) -> None:
        self.engine = engine
        self.url = url
        self.console_url = console_url
        self.secret = secret.encode()
        self.counter = counter  # streamproc_review_notifications_total{result}, if metered

    def due(self, now: datetime | None = None) -> list[dict[str, Any]]:
        """Open urgent cases outside hours, fresh, not announced, and not waiting to retry."""
        now = now or utcnow()
        row = notifications.c
        query = (
            select(cases, row.attempts)
            .outerjoin(notifications, notifications.c.case_id == cases.c.id)
            .where(
                cases.c.status == "open",
                cases.c.urgent == true(),
                row.sent_at.is_(None),
                or_(
                    and_(row.case_id.is_(None), cases.c.created_at > now - FRESH),
                    row.next_at <= now,
                ),
            )
            .order_by(cases.c.id)
            .limit(50)
        )
        with self.engine.connect() as connection:
            found = [dict(r._mapping) for r in connection.execute(query)]
        return [c for c in found if _outside_hours(c["decision"])]

    async def run_once(self, session: aiohttp.ClientSession) -> int:
        """Announce what is due; how many were delivered."""
        delivered = 0
        for case in self.due():
            result = await self._deliver(session, case)
            self._record(case, result)
            if self.counter is not None:
                self.counter.labels("sent" if result == "sent" else "failed").inc()
            delivered += result == "sent"
        return delivered

    async def _deliver(self, session: aiohttp.ClientSession, case: dict[str, Any]) -> str:
        body = webhook_body(case, self.console_url)
        headers = {
            "Content-Type": "application/json",
            "X-Streamproc-Delivery": f"urgent-case-{case['id']}",
        }
        if self.secret:
            digest = hmac.new(self.secret, body, hashlib.sha256).hexdigest()
            headers["X-Streamproc-Signature"] = f"sha256={digest}"
        try:
            async with session.post(self.url, data=body, headers=headers, timeout=TIMEOUT) as r:
                if 200 <= r.status < 300:
                    return "sent"
                result = f"http {r.status}"
        except (aiohttp.ClientError, TimeoutError) as exc:
            result = type(exc).__name__[:40]
        if not case.get("attempts"):  # once per case, not once per retry
            log.warning("urgent case %s: webhook not delivered (%s); retrying", case["id"], result)
        return result

    def _record(self, case: dict[str, Any], result: str) -> None:
        now = utcnow()
        attempts = int(case.get("attempts") or 0) + 1
        pause = min(timedelta(seconds=15 * 2 ** min(attempts, 10)), MAX_PAUSE)
        row = {
            "case_id": case["id"],
            "attempts": attempts,
            "next_at": now + pause,
            "sent_at": now if result == "sent" else None,
            "last_result": result,
        }
        with self.engine.begin() as connection:
            statement = _insert(connection, notifications).values(**row)
            connection.execute(
                statement.on_conflict_do_update(
                    index_elements=[notifications.c.case_id],
                    set_={k: getattr(statement.excluded, k) for k in row if k != "case_id"},
                )
            )
            if result == "sent":
                detail = f"urgent case announced to the on-call webhook (attempt {attempts})"
                write_audit(connection, "system", "notified", case["id"], detail, at=now)


def _outside_hours(decision: Any) -> bool:
    escalation = decision.get("escalation") if isinstance(decision, dict) else None
    return isinstance(escalation, dict) and escalation.get("in_hours") is False
