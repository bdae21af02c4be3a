"""The webhook server: ``/webhooks/{facebook,instagram,twitter}``, ``/healthz``, ``/readyz``,
``/metrics``.

A delivery is answered 200 only once its comments are acknowledged by the broker: a platform
delivers again what was not answered, so nothing is lost, and a redelivery yields the same
comment id and version, which the worker and the sink absorb. Bad input is refused and
counted, never published: no or a wrong signature 401/403 (compared in constant time), a body
over the limit 413, a body that is not JSON or not the platform's shape 400; the broker not
acknowledging in time 503. Logs name the platform and the reason, never the body.
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Callable

from aiohttp import web
from aiokafka.errors import KafkaError
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from streamproc._health import Health
from streamproc.connect._meta import parse_facebook, parse_instagram
from streamproc.connect._metrics import ConnectMetrics
from streamproc.connect._publisher import CommentPublisher
from streamproc.connect._records import Parsed, PayloadError
from streamproc.connect._settings import ConnectSettings
from streamproc.connect._signatures import (
    meta_signature,
    signature_matches,
    x_crc_response,
    x_signature,
)
from streamproc.connect._twitter import parse_twitter

__all__ = ["WEBHOOK_PLATFORMS", "create_web_app"]

log = logging.getLogger("streamproc.connect")
WEBHOOK_PLATFORMS = ("facebook", "instagram", "twitter")
_META_HEADER = "X-Hub-Signature-256"
_X_HEADER = "x-twitter-webhooks-signature"


class _Rejected(Exception):
    def __init__(self, status: int, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.detail = detail


class WebhookHandlers:
    def __init__(
        self,
        settings: ConnectSettings,
        publisher: CommentPublisher,
        metrics: ConnectMetrics,
        health: Health,
        enabled: set[str],
    ) -> None:
        self.settings = settings
        self.publisher = publisher
        self.metrics = metrics
        self.health = health
        self.enabled = enabled
        p = settings.platforms
        self.secrets = {
            "facebook": p.facebook.app_secret,
            "instagram": p.instagram.app_secret,
            "twitter": p.twitter.consumer_secret,
        }
        self.verify_tokens = {
            "facebook": p.facebook.verify_token,
            "instagram": p.instagram.verify_token,
        }
        self.parsers: dict[str, Callable[[bytes], Parsed]] = {
            "facebook": lambda body: parse_facebook(body, p.facebook.page_id or ""),
            "instagram": lambda body: parse_instagram(body, p.instagram.account_id or ""),
            "twitter": lambda body: parse_twitter(body, p.twitter.user_id or ""),
        }

    def _reject(self, platform: str, status: int, reason: str, detail: str = "") -> web.Response:
        self.metrics.rejections.labels(platform, reason).inc()
        self.metrics.events.labels(platform, "rejected").inc()
        log.warning("refused a %s request: %s %s", platform, reason, detail)
        return web.Response(status=status, text=f"{reason}\n")

    def _secret(self, platform: str) -> str:
        secret = self.secrets[platform]
        if platform not in self.enabled or not secret:
            raise _Rejected(404, "not_configured", "(the channel's credentials are not set)")
        return secret

    # --- verification handshakes ---------------------------------------------------------

    async def meta_verify(self, request: web.Request) -> web.Response:
        platform = request.match_info["platform"]
        try:
            self._secret(platform)
        except _Rejected as exc:
            return self._reject(platform, exc.status, exc.reason, exc.detail)
        query = request.query
        mode = query.get("hub.mode") or query.get("hub_mode")
        token = query.get("hub.verify_token") or query.get("hub_verify_token") or ""
        challenge = query.get("hub.challenge") or query.get("hub_challenge")
        expected = self.verify_tokens[platform] or ""
        if mode != "subscribe" or challenge is None:
            return self._reject(platform, 400, "invalid_shape", "(not a verification request)")
        if not expected or not hmac.compare_digest(token.encode(), expected.encode()):
            return self._reject(platform, 403, "bad_verify_token")
        return web.Response(text=challenge)

    async def x_crc(self, request: web.Request) -> web.Response:
        try:
            secret = self._secret("twitter")
        except _Rejected as exc:
            return self._reject("twitter", exc.status, exc.reason, exc.detail)
        token = request.query.get("crc_token")
        if not token:
            return self._reject("twitter", 400, "invalid_shape", "(no crc_token)")
        return web.json_response({"response_token": x_crc_response(secret, token)})

    # --- deliveries ------------------------------------------------------------------------

    async def _body(self, request: web.Request) -> bytes:
        limit = self.settings.max_body_bytes
        if request.content_length is not None and request.content_length > limit:
            raise _Rejected(413, "too_large", f"({request.content_length} bytes)")
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.content.iter_chunked(64 * 1024):
            size += len(chunk)
            if size > limit:
                raise _Rejected(413, "too_large", f"(over {limit} bytes)")
            chunks.append(chunk)
        return b"".join(chunks)

    def _check_signature(
        self, platform: str, secret: str, body: bytes, request: web.Request
    ) -> None:
        header = _X_HEADER if platform == "twitter" else _META_HEADER
        given = request.headers.get(header)
        if not given:
            raise _Rejected(401, "missing_signature")
        expected = (x_signature if platform == "twitter" else meta_signature)(secret, body)
        if not signature_matches(expected, given):
            raise _Rejected(403, "bad_signature")

    async def deliver(self, request: web.Request) -> web.Response:
        platform = request.match_info["platform"]
        started = time.perf_counter()
        try:
            secret = self._secret(platform)
            body = await self._body(request)
            self._check_signature(platform, secret, body, request)
            try:
                parsed = self.parsers[platform](body)
            except PayloadError as exc:
                raise _Rejected(400, exc.kind, f"({exc.reason})") from None
            except RecursionError:
                raise _Rejected(400, "invalid_json", "(nested too deeply)") from None
        except _Rejected as exc:
            return self._reject(platform, exc.status, exc.reason, exc.detail)
        try:
            await self.publisher.publish(parsed.comments)
        except (KafkaError, TimeoutError) as exc:
            self.metrics.events.labels(platform, "failed").inc(max(1, len(parsed.comments)))
            log.warning(
                "could not publish a %s delivery (%s); answered 503 for the platform to retry",
                platform,
                type(exc).__name__,
            )
            return web.Response(status=503, text="broker unavailable, deliver again\n")
        m = self.metrics
        m.publish_seconds.labels(platform).observe(time.perf_counter() - started)
        if parsed.comments:
            m.events.labels(platform, "published").inc(len(parsed.comments))
        if parsed.ignored:
            m.events.labels(platform, "ignored").inc(parsed.ignored)
        return web.Response(text="ok\n")

    # --- health ----------------------------------------------------------------------------

    async def healthz(self, request: web.Request) -> web.Response:
        ok, text = self.health.liveness()
        return web.Response(status=200 if ok else 503, text=text + "\n")

    async def readyz(self, request: web.Request) -> web.Response:
        ok, text = self.health.readiness()
        return web.Response(status=200 if ok else 503, text=text + "\n")

    async def metrics_page(self, request: web.Request) -> web.Response:
        body = generate_latest(self.metrics.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def create_web_app(handlers: WebhookHandlers) -> web.Application:
    # Bodies are read and limited by the handlers themselves (to count and log a 413).
    app = web.Application(client_max_size=handlers.settings.max_body_bytes + 1)
    app.router.add_get("/webhooks/{platform:facebook|instagram}", handlers.meta_verify)
    app.router.add_get("/webhooks/twitter", handlers.x_crc)
    app.router.add_post("/webhooks/{platform:facebook|instagram|twitter}", handlers.deliver)
    app.router.add_get("/healthz", handlers.healthz)
    app.router.add_get("/readyz", handlers.readyz)
    app.router.add_get("/metrics", handlers.metrics_page)
    return app
