"""The author's appeal page (public: no account) and the JSON API of appeals and statements.

``/appeal/{token}`` is opened from the link in a warning, removal or block reply. Its form is
CSRF-protected by a double-submit cookie (the page has no session), its submissions are
rate-limited per address in the database, and the statement is bounded (2000 characters, a
16 KiB body). Status codes: 404 a forged token (or a decision the console has no case of),
410 an expired one, 403 a missing CSRF token, 400 an empty statement, 413 one too long,
429 too many submissions, 201 the first appeal, 200 a repeated one (stored once).
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import web

from streamproc._appeal import ExpiredToken, ForgedToken
from streamproc.review._actions import ActionError
from streamproc.review._appeals import Appeals, NoSuchDecision

if TYPE_CHECKING:
    from streamproc.review._web import Console

__all__ = ["AppealRoutes", "http_error", "json_body", "path_id"]

APPEAL_CSRF_COOKIE = "streamproc_appeal_csrf"
_ERRORS: dict[int, type[web.HTTPException]] = {
    400: web.HTTPBadRequest,
    403: web.HTTPForbidden,
    404: web.HTTPNotFound,
    413: web.HTTPRequestEntityTooLarge,
    429: web.HTTPTooManyRequests,
}


def http_error(exc: ActionError) -> web.HTTPException:
    kind = _ERRORS.get(exc.status, web.HTTPConflict)
    if kind is web.HTTPRequestEntityTooLarge:
        return web.HTTPRequestEntityTooLarge(max_size=2000, actual_size=2001, text=str(exc))
    return kind(text=str(exc))


def path_id(request: web.Request, name: str) -> int:
    """The number in the route's ``name`` part (``case_id``, ``appeal_id``); 404 otherwise."""
    try:
        return int(request.match_info[name])
    except ValueError:
        raise web.HTTPNotFound(text=f"no such {name.removesuffix('_id')}") from None


async def json_body(request: web.Request, user: dict[str, Any]) -> dict[str, Any]:
    """The JSON object a signed-in write sends, once the ``X-CSRF-Token`` header matches the
    session's (403 otherwise); 400 for a body that is not a JSON object (an empty one is
    ``{}``)."""
    if not secrets.compare_digest(request.headers.get("X-CSRF-Token", ""), user["csrf"]):
        raise web.HTTPForbidden(text="missing or wrong X-CSRF-Token")
    raw = await request.read()
    try:
        body = orjson.loads(raw) if raw else {}
    except orjson.JSONDecodeError:
        raise web.HTTPBadRequest(text="the body is not JSON") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="the body is not a JSON object")
    return body


class AppealRoutes:
    def __init__(self, console: Console, appeals: Appeals) -> None:
        self.console = console
        self.appeals = appeals
        self.metrics = console.metrics

    # --- the public page -------------------------------------------------------------------

    def _error(self, status: int, message: str) -> web.Response:
        return self.console.page(
            "appeal.html", status, user=None, error=message, statement=None, appeal=None
        )

    def _open(self, token: str) -> tuple[Any, dict[str, Any], dict[str, Any]] | web.Response:
        try:
            return self.appeals.open(token)
        except ForgedToken:
            self.metrics.appeals_received.labels("forged").inc()
            return self._error(404, "This appeal link is not valid: check that it is complete.")
        except ExpiredToken:
            self.metrics.appeals_received.labels("expired").inc()
            return self._error(410, "The period to appeal this decision is over.")
        except NoSuchDecision:
            self.metrics.appeals_received.labels("unknown").inc()
            return self._error(404, "This decision cannot be appealed here (yet): retry later.")

    async def page(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        opened = self._open(token)
        if isinstance(opened, web.Response):
            return opened
        _read, _case, statement = opened
        csrf = secrets.token_urlsafe(24)
        response = self.console.page(
            "appeal.html",
            user=None,
            error=None,
            statement=statement,
            appeal=None,
            token=token,
            csrf=csrf,
        )
        response.set_cookie(
            APPEAL_CSRF_COOKIE,
            csrf,
            max_age=4 * 3600,
            httponly=True,
            samesite="Strict",
            secure=bool(self.console.settings.secure_cookies),
            path="/appeal/",
        )
        return response

    async def submit(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        opened = self._open(token)
        if isinstance(opened, web.Response):
            return opened
        _read, _case, statement = opened
        try:
            data = await request.post()  # over 16 KiB: 413 from aiohttp
        except web.HTTPRequestEntityTooLarge:
            self.metrics.appeals_received.labels("too_long").inc()
            raise
        expected = request.cookies.get(APPEAL_CSRF_COOKIE, "")
        if not expected or not secrets.compare_digest(str(data.get("csrf", "")), expected):
            self.metrics.appeals_received.labels("csrf").inc()
            return self._error(403, "The form expired or came from elsewhere: reload the page.")
        text = str(data.get("statement", ""))
        try:
            appeal, created = self.appeals.receive(token, text, request.remote or "")
        except ActionError as exc:
            result = {400: "invalid", 413: "too_long", 429: "rate_limited"}.get(exc.status)
            self.metrics.appeals_received.labels(result or "invalid").inc()
            return self.console.page(
                "appeal.html",
                exc.status,
                user=None,
                error=str(exc),
                statement=statement,
                appeal=None,
                token=token,
                csrf=expected,
            )
        except (ForgedToken, ExpiredToken, NoSuchDecision):  # expired meanwhile: reload says why
            return self._error(410, "The period to appeal this decision is over.")
        self.metrics.appeals_received.labels("accepted" if created else "duplicate").inc()
        self.metrics.appeals_open.set(self.appeals.open_count())
        return self.console.page(
            "appeal.html",
            201 if created else 200,
            user=None,
            error=None,
            statement=statement,
            appeal=appeal,
            token=token,
        )

    # --- the JSON API ----------------------------------------------------------------------

    async def api_statement(self, request: web.Request, user: dict[str, Any]) -> web.Response:
        statement = self.appeals.statement(path_id(request, "case_id"), user["role"])
        if statement is None:
            raise web.HTTPNotFound(text="no such case")
        return web.json_response(statement)

    async def api_appeals(self, request: web.Request, user: dict[str, Any]) -> web.Response:
        status = request.query.get("status") or None
        return web.json_response({"appeals": self.appeals.listing(user["role"], status)})

    async def api_appeal(self, request: web.Request, user: dict[str, Any]) -> web.Response:
        appeal = self.appeals.get(path_id(request, "appeal_id"), user["role"])
        if appeal is None:
            raise web.HTTPNotFound(text="no such appeal")
        appeal["statement_of_reasons"] = self.appeals.statement(appeal["case_id"], user["role"])
        return web.json_response(appeal)

    async def api_answer(self, request: web.Request, user: dict[str, Any]) -> web.Response:
        """``{"decision": "uphold" | "reject", "answer": "..."}``, with the session's CSRF
        token in the ``X-CSRF-Token`` header."""
        body = await json_body(request, user)
        appeal_id = path_id(request, "appeal_id")
        if body.get("decision") not in ("uphold", "reject"):
            raise web.HTTPBadRequest(text='expected {"decision": "uphold"|"reject", "answer"}')
        answer = body.get("answer")
        upheld = body["decision"] == "uphold"
        review_ids = self.answer(user, appeal_id, upheld, answer if isinstance(answer, str) else "")
        appeal = self.appeals.get(appeal_id, user["role"])
        return web.json_response({"appeal": appeal, "review_ids": review_ids})

    def answer(self, user: dict[str, Any], appeal_id: int, upheld: bool, text: str) -> list[str]:
        """Answer an appeal (the page's form and the API): counted, the open gauge updated."""
        try:
            ids = self.console.actions.answer_appeal(user, appeal_id, upheld, text)
        except ActionError as exc:
            raise http_error(exc) from None
        outcome = "upheld" if upheld else "rejected"
        self.metrics.appeals_decided.labels(outcome).inc()
        self.metrics.actions.labels(f"appeal_{outcome}").inc()
        appeal = self.appeals.get(appeal_id, "compliance")
        if upheld and appeal is not None:
            case = self.console.store.case(appeal["case_id"], "compliance")
            if case is not None:  # an upheld appeal is an overturn, for the rules' rates too
                self.metrics.count_review(case["decision"], "overturned")
        self.metrics.appeals_open.set(self.appeals.open_count())
        return ids

    def routes(self) -> list[web.AbstractRouteDef]:
        s = self.console.signed_in
        return [
            web.get("/appeal/{token}", self.page),
            web.post("/appeal/{token}", self.submit),
            web.get(r"/api/v1/cases/{case_id}/statement", s(self.api_statement)),
            web.get("/api/v1/appeals", s(self.api_appeals)),
            web.get(r"/api/v1/appeals/{appeal_id}", s(self.api_appeal)),
            web.post(r"/api/v1/appeals/{appeal_id}/answer", s(self.api_answer)),
        ]
