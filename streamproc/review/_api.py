"""The JSON API of cases under /api/v1 (the queues' cases, a case, its actions, bulk
confirmation, evidence packs) and the page routes that share its service layer (the queue's
bulk confirm form, the evidence download). Writes need the session's CSRF token: the form's
``csrf`` field, or the ``X-CSRF-Token`` header for JSON."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import orjson
import yaml
from aiohttp import web

from streamproc.review._actions import ActionError
from streamproc.review._evidence import (
    bulk_confirm,
    evidence_pack,
    evidence_text,
    masked_decision,
)
from streamproc.review._public import http_error, json_body, path_id
from streamproc.review._render import masked, pseudonym

if TYPE_CHECKING:
    from streamproc.review._web import Console

__all__ = ["CaseRoutes", "openapi_document"]

OPENAPI: Final = Path(__file__).with_name("openapi.yaml")


@functools.cache
def openapi_document() -> dict[str, Any]:
    """The API's OpenAPI 3.1 document (``openapi.yaml`` beside this module)."""
    document: dict[str, Any] = yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))
    return document


API_ACTIONS: Final = ("claim", "confirm", "overturn", "escalate", "note", "reveal")
_LISTED: Final = (
    "id", "comment_id", "channel", "actions", "policy_version", "decided_at",
    "status", "urgent", "review_after", "report", "claimed_by", "created_at",
)  # fmt: skip


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(
        body=orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS),
        status=status,
        content_type="application/json",
    )


def listed(case: dict[str, Any]) -> dict[str, Any]:
    """A case as a queue lists it: no text, the author a pseudonym."""
    item = {k: case[k] for k in _LISTED}
    item["author"] = pseudonym(case["channel"], case["author_id"])
    item["categories"] = case["decision"].get("categories", [])
    return item


def detailed(case: dict[str, Any], reveal: bool) -> dict[str, Any]:
    """A case with its comment (personal data masked unless ``reveal``), outcomes, appeals and
    the author's history on the channel."""
    item = listed(case)
    decision = case["decision"]
    comment = case["comment"]
    text = comment["text"] if comment is not None else None
    item["decision"] = decision if reveal else masked_decision(decision)
    item["text"] = text if reveal or text is None else masked(text, decision.get("matches", []))
    item["author_id"] = case["author_id"] if reveal else None
    item["outcomes"] = case["outcomes"]
    item["appeals"] = [
        {k: a[k] for k in ("id", "status", "received_at", "answered_at")} for a in case["appeals"]
    ]
    item["history"] = [
        {
            "id": h["id"],
            "actions": h["actions"],
            "status": h["status"],
            "decided_at": h["decided_at"],
        }
        for h in case["history"]
    ]
    return item


class CaseRoutes:
    def __init__(self, console: Console) -> None:
        self.console = console

    # --- reading ---------------------------------------------------------------------------

    async def queue_cases(self, request: web.Request, user: dict[str, Any]) -> web.Response:
        name = request.match_info["queue"]
        store = self.console.store
        if name not in store.queues_for(user["role"]) and name != "all":
            raise web.HTTPNotFound(text=f"no queue {name!r}")
        cases = store.cases_in(name, user["role"])
        return _json({"queue": name, "cases": [listed(c) for c in cases]})

    async def case(self, request: web.Request, user: dict[str, Any]) -> web.Response:
        case = self.console.store.case(path_id(request, "case_id"), user["role"])
        if case is None:
            raise web.HTTPNotFound(text="no such case")
        return _json(detailed(case, reveal=False))

    # --- writing ---------------------------------------------------------------------------

    async def act(self, request: web.Request, user: dict[str, Any]) -> web.Response:
        """``POST /api/v1/cases/{id}/{claim|confirm|overturn|escalate|note|reveal}`` with
        ``{"reason"}`` (``{"text"}`` for a note; ``{"measures": [...]}`` too to escalate)."""
        action = request.match_info["action"]
        if action not in API_ACTIONS:
            raise web.HTTPNotFound(text=f"no action {action!r}")
        body = await json_body(request, user)
        case_id = path_id(request, "case_id")
        reason = str(body.get("reason") or body.get("text") or "")
        if len(reason) > 2000:
            raise web.HTTPRequestEntityTooLarge(max_size=2000, actual_size=len(reason))
        actions, metrics = self.console.actions, self.console.metrics
        review_ids: list[str] = []
        try:
            if action == "reveal":
                case = actions.reveal(user, case_id)
                metrics.actions.labels("reveal").inc()
                return _json({"case": detailed(case, reveal=True)})
            if action == "claim":
                actions.claim(user, case_id)
            elif action == "note":
                actions.note(user, case_id, reason)
            elif action == "confirm":
                actions.confirm(user, case_id, reason)
            elif action == "escalate":
                measures = body.get("measures")
                if not isinstance(measures, list):
                    raise web.HTTPBadRequest(text='expected {"measures": [...], "reason": "..."}')
                review_ids = actions.escalate(user, case_id, [str(m) for m in measures], reason)
            else:
                review_ids = actions.overturn(user, case_id, reason)
        except ActionError as exc:
            raise http_error(exc) from None
        if action in ("confirm", "overturn"):
            reviewed = self.console.store.case(case_id, user["role"])
            if reviewed is not None:
                metrics.count_review(reviewed["decision"], f"{action}ed")
        metrics.actions.labels(action).inc()
        after = self.console.store.case(case_id, user["role"])
        assert after is not None  # it was visible a moment ago, and cases are never deleted
        return _json({"case": detailed(after, reveal=False), "review_ids": review_ids})

    def _bulk(self, user: dict[str, Any], ids: list[int], reason: str) -> dict[int, str]:
        metrics = self.console.metrics

        def counted(case: dict[str, Any]) -> None:
            metrics.count_review(case["decision"], "confirmed")
            metrics.actions.labels("confirm").inc()

        try:
            return bulk_confirm(self.console.actions, user, ids, reason, counted)
        except ActionError as exc:
            raise http_error(exc) from None

    async def api_bulk(self, request: web.Request, user: dict[str, Any]) -> web.Response:
        """``POST /api/v1/cases/confirm`` with ``{"case_ids": [...], "reason": "..."}``."""
        body = await json_body(request, user)
        ids = body.get("case_ids")
        if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids) or not ids:
            raise web.HTTPBadRequest(text='expected {"case_ids": [1, 2, ...], "reason": "..."}')
        results = self._bulk(user, ids, str(body.get("reason") or "")[:2000])
        return _json({"results": {str(k): v for k, v in results.items()}})

    async def page_bulk(self, request: web.Request, user: dict[str, Any]) -> web.StreamResponse:
        """The queue page's form: the ticked cases, confirmed."""
        await self.console.form(request, user)  # its CSRF token (403 without)
        data = await request.post()  # again, for the repeated case_id fields (aiohttp caches it)
        try:
            ids = [int(str(v)) for v in data.getall("case_id", [])]
        except ValueError:
            raise web.HTTPBadRequest(text="case ids are numbers") from None
        queue = request.match_info["queue"]
        if ids:
            results = self._bulk(user, ids, str(data.get("reason", ""))[:2000])
            done = sum(r == "confirmed" for r in results.values())
            left = len(results) - done
            raise web.HTTPSeeOther(f"/queue/{queue}?confirmed={done}&skipped={left}")
        raise web.HTTPSeeOther(f"/queue/{queue}")

    async def evidence(self, request: web.Request, user: dict[str, Any]) -> web.Response:
        """The evidence pack: JSON (``/api/v1/cases/{id}/evidence``), or a file to attach
        (``/case/{id}/evidence.json`` or ``.txt``)."""
        case_id = path_id(request, "case_id")
        kind = request.match_info.get("kind", "json")
        if kind not in ("json", "txt"):
            raise web.HTTPNotFound(text="evidence as .json or .txt")
        statement = self.console.appeals.statement(case_id, user["role"])
        try:
            pack = evidence_pack(self.console.actions, user, case_id, statement)
        except ActionError as exc:
            raise http_error(exc) from None
        self.console.metrics.actions.labels("evidence").inc()
        if kind == "txt":
            response = web.Response(text=evidence_text(pack), content_type="text/plain")
        else:
            response = _json(pack)
        if request.path.startswith("/case/"):
            name = f"evidence-case-{case_id}.{kind}"
            response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
        return response

    async def openapi(self, request: web.Request) -> web.Response:
        return _json(openapi_document())

    def routes(self) -> list[web.AbstractRouteDef]:
        s = self.console.signed_in
        return [
            web.get("/api/v1/openapi.json", self.openapi),
            web.get("/api/v1/queues/{queue}/cases", s(self.queue_cases)),
            web.post("/api/v1/cases/confirm", s(self.api_bulk)),
            web.get(r"/api/v1/cases/{case_id:\d+}", s(self.case)),
            web.get(r"/api/v1/cases/{case_id:\d+}/evidence", s(self.evidence)),
            web.post(r"/api/v1/cases/{case_id:\d+}/{action}", s(self.act)),
            web.post("/queue/{queue}/confirm", s(self.page_bulk)),
            web.get(r"/case/{case_id:\d+}/evidence.{kind}", s(self.evidence)),
        ]
