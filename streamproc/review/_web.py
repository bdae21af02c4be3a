"""The console: server-rendered pages (Jinja2) on aiohttp, and a small JSON API under /api/v1.

Sign-in makes a server-side session (the cookie holds a random token: HttpOnly, SameSite=Strict,
Secure unless turned off for local HTTP). Every POST carries the session's CSRF token (the
sign-in form a double-submit cookie). Pages send a strict Content-Security-Policy: no script
runs but our own file. The handlers query the database directly (short indexed queries); only
the password check, slow by design, runs in a thread.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from streamproc.core import load_pack
from streamproc.review._accounts import Accounts, RateLimited
from streamproc.review._actions import ActionError, Actions
from streamproc.review._api import CaseRoutes
from streamproc.review._appeals import Appeals
from streamproc.review._metrics import ReviewMetrics
from streamproc.review._public import AppealRoutes, http_error, path_id
from streamproc.review._render import highlighted, pseudonym
from streamproc.review._settings import ReviewSettings
from streamproc.review._store import Store, can
from streamproc.review._strikes import StrikeWindows

__all__ = ["make_app"]

SESSION_COOKIE = "streamproc_session"
LOGIN_CSRF_COOKIE = "streamproc_login_csrf"
MAX_BODY = 16 * 1024
TEMPLATES = Path(__file__).with_name("templates")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_USER: web.AppKey[Any] = web.AppKey("user", object)


@web.middleware
async def _headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; style-src 'self'; script-src 'self'; frame-ancestors 'none'",
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("Cache-Control", "no-store")
    return response


class Console:
    def __init__(
        self,
        settings: ReviewSettings,
        store: Store,
        accounts: Accounts,
        actions: Actions,
        metrics: ReviewMetrics,
        appeals: Appeals,
    ) -> None:
        self.settings = settings
        self.appeals = appeals
        self.store = store
        self.accounts = accounts
        self.actions = actions
        self.metrics = metrics
        self.templates = jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATES),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )
        self.templates.globals.update(pseudonym=pseudonym, can=can)
        self._windows: StrikeWindows | None = None

    def strike_windows(self) -> StrikeWindows:
        """The strike windows of the pack (read once, on the first case page)."""
        if self._windows is None:
            self._windows = StrikeWindows(load_pack(self.settings.policy_path))
        return self._windows
        self.appeal_routes: AppealRoutes

    # --- plumbing -------------------------------------------------------------------------

    def page(self, name: str, status: int = 200, **context: Any) -> web.Response:
        html = self.templates.get_template(name).render(**context)
        return web.Response(text=html, content_type="text/html", status=status)

    def user(self, request: web.Request) -> dict[str, Any] | None:
        return self.accounts.session(request.cookies.get(SESSION_COOKIE, ""))

    async def form(self, request: web.Request, user: dict[str, Any]) -> dict[str, str]:
        """The POSTed form, once its CSRF token matches the session's (else 403)."""
        data = await request.post()
        token = str(data.get("csrf", ""))
        if not secrets.compare_digest(token, user["csrf"]):
            raise web.HTTPForbidden(text="missing or wrong CSRF token")
        return {k: str(v) for k, v in data.items()}

    def signed_in(
        self, handler: Callable[[web.Request, dict[str, Any]], Awaitable[web.StreamResponse]]
    ) -> Handler:
        async def wrapped(request: web.Request) -> web.StreamResponse:
            user = self.user(request)
            if user is None:
                if request.path.startswith("/api/"):
                    raise web.HTTPUnauthorized(text="sign in first")
                raise web.HTTPSeeOther("/login")
            return await handler(request, user)

        return wrapped

    # --- sign-in --------------------------------------------------------------------------

    async def login_page(self, request: web.Request) -> web.StreamResponse:
        token = secrets.token_urlsafe(24)
        response = self.page("login.html", csrf=token, error=None, user=None)
        self._cookie(response, LOGIN_CSRF_COOKIE, token, 600)
        return response

    async def login(self, request: web.Request) -> web.StreamResponse:
        data = await request.post()
        expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
        if not expected or not secrets.compare_digest(str(data.get("csrf", "")), expected):
            raise web.HTTPForbidden(text="missing or wrong CSRF token: reload the sign-in page")
        address = request.remote or ""
        try:
            # In a thread: an Argon2 verification takes a while, and this loop also ingests.
            token, _user = await asyncio.to_thread(
                self.accounts.sign_in,
                str(data.get("name", "")),
                str(data.get("password", "")),
                address,
            )
        except RateLimited as exc:
            self.metrics.sign_ins.labels("rate_limited").inc()
            return self.page("login.html", 429, csrf=expected, error=str(exc), user=None)
        if not token:
            self.metrics.sign_ins.labels("wrong").inc()
            return self.page(
                "login.html", 401, csrf=expected, error="wrong name or password", user=None
            )
        self.metrics.sign_ins.labels("ok").inc()
        response = web.HTTPSeeOther("/")
        age = int(self.accounts.session_length.total_seconds())
        self._cookie(response, SESSION_COOKIE, token, age)
        response.del_cookie(LOGIN_CSRF_COOKIE)
        raise response

    def _cookie(self, response: web.StreamResponse, name: str, value: str, age: int) -> None:
        response.set_cookie(
            name,
            value,
            max_age=age,
            httponly=True,
            samesite="Strict",
            secure=bool(self.settings.secure_cookies),
            path="/",
        )

    async def logout(self, request: web.Request, user: dict[str, Any]) -> web.StreamResponse:
        await self.form(request, user)
        self.accounts.sign_out(request.cookies.get(SESSION_COOKIE, ""))
        response = web.HTTPSeeOther("/login")
        response.del_cookie(SESSION_COOKIE)
        raise response

    # --- pages ----------------------------------------------------------------------------

    async def home(self, request: web.Request, user: dict[str, Any]) -> web.StreamResponse:
        raise web.HTTPSeeOther("/queue/now")

    async def queue(self, request: web.Request, user: dict[str, Any]) -> web.StreamResponse:
        name = request.match_info["queue"]
        if name not in self.store.queues_for(user["role"]) and name != "all":
            raise web.HTTPNotFound(text=f"no queue {name!r}")
        return self.page(
            "queue.html",
            user=user,
            queue=name,
            counts=self.store.counts(user["role"]),
            cases=self.store.cases_in(name, user["role"]),
            bulk=_bulk_message(request.query),
        )

    async def case(self, request: web.Request, user: dict[str, Any]) -> web.StreamResponse:
        case = self.store.case(path_id(request, "case_id"), user["role"])
        if case is None:
            raise web.HTTPNotFound(text="no such case")
        return self._case_page(user, case, reveal=False)

    def _case_page(
        self, user: dict[str, Any], case: dict[str, Any], reveal: bool, message: str | None = None
    ) -> web.Response:
        comment = case["comment"]
        decision = case["decision"]
        text = (
            highlighted(comment["text"], decision.get("matches", []), reveal)
            if comment is not None
            else None
        )
        return self.page(
            "case.html",
            user=user,
            case=case,
            decision=decision,
            comment=comment,
            text=text,
            reveal=reveal,
            message=message,
            counts=self.store.counts(user["role"]),
            statement=self.appeals.statement(case["id"], user["role"]),
            strikes=self.strike_windows().annotate([case, *case["history"]]),
        )

    async def act(self, request: web.Request, user: dict[str, Any]) -> web.StreamResponse:
        data = await self.form(request, user)
        case_id = path_id(request, "case_id")
        action = request.match_info["action"]
        reason = data.get("reason", "")[:2000]
        try:
            if action == "reveal":
                case = self.actions.reveal(user, case_id)
                self.metrics.actions.labels("reveal").inc()
                return self._case_page(user, case, reveal=True)
            if action in ("confirm", "overturn"):
                decide = self.actions.confirm if action == "confirm" else self.actions.overturn
                decide(user, case_id, reason)
                reviewed = self.store.case(case_id, user["role"])
                if reviewed is not None:
                    self.metrics.count_review(reviewed["decision"], f"{action}ed")
            elif action == "claim":
                self.actions.claim(user, case_id)
            elif action == "note":
                self.actions.note(user, case_id, reason)
            elif action == "escalate":
                measures = [str(m) for m in (await request.post()).getall("measure", [])]
                self.actions.escalate(user, case_id, measures, reason)
            elif action == "appeal":
                self.actions.record_appeal(user, case_id, data.get("statement", ""))
            else:
                raise web.HTTPNotFound(text=f"no action {action!r}")
        except ActionError as exc:
            raise http_error(exc) from None
        self.metrics.actions.labels(action).inc()
        raise web.HTTPSeeOther(f"/case/{case_id}")

    async def answer(self, request: web.Request, user: dict[str, Any]) -> web.StreamResponse:
        data = await self.form(request, user)
        try:
            appeal_id = int(request.match_info["appeal_id"])
        except ValueError:
            raise web.HTTPNotFound(text="no such appeal") from None
        upheld = data.get("decision") == "uphold"
        self.appeal_routes.answer(user, appeal_id, upheld, data.get("answer", ""))
        raise web.HTTPSeeOther("/queue/appeals")

    async def api_queues(self, request: web.Request, user: dict[str, Any]) -> web.StreamResponse:
        return web.json_response({"queues": self.store.counts(user["role"])})


def _bulk_message(query: Any) -> str | None:
    """What the queue's bulk confirm did, from its redirect (counts only)."""
    try:
        done, skipped = int(query.get("confirmed", "")), int(query.get("skipped", "0"))
    except ValueError:
        return None
    left = f"; {skipped} left as they were (claimed by someone else, or no longer open)"
    return f"{done} cases confirmed" + (left if skipped else "")


def make_app(
    settings: ReviewSettings,
    store: Store,
    accounts: Accounts,
    actions: Actions,
    metrics: ReviewMetrics,
) -> web.Application:
    actions.on_first_review = metrics.first_review.observe
    appeals = Appeals(store.engine, store, settings.appeal)
    console = Console(settings, store, accounts, actions, metrics, appeals)
    routes = AppealRoutes(console, appeals)
    console.appeal_routes = routes
    app = web.Application(middlewares=[_headers], client_max_size=MAX_BODY)
    s = console.signed_in
    app.add_routes(
        [
            web.get("/login", console.login_page),
            web.post("/login", console.login),
            web.post("/logout", s(console.logout)),
            web.get("/", s(console.home)),
            web.get("/queue/{queue}", s(console.queue)),
            web.get(r"/case/{case_id}", s(console.case)),
            web.post(r"/case/{case_id}/{action}", s(console.act)),
            web.post(r"/appeal/{appeal_id}/answer", s(console.answer)),
            web.get("/api/v1/queues", s(console.api_queues)),
            *routes.routes(),
            *CaseRoutes(console).routes(),
            web.static("/static", TEMPLATES / "static"),
        ]
    )
    return app
