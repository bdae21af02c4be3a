"""Webhook signatures, compared in constant time (``hmac.compare_digest``).

Meta (Facebook, Instagram): ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body,
keyed by the app secret>``. X: ``x-twitter-webhooks-signature: sha256=<base64 HMAC-SHA256 of the
raw body, keyed by the consumer secret>``, and the CRC answer ``sha256=<base64 HMAC of the
crc_token>``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

__all__ = ["meta_signature", "signature_matches", "x_crc_response", "x_signature"]


def meta_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def x_signature(secret: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(digest).decode("ascii")


def x_crc_response(secret: str, crc_token: str) -> str:
    return x_signature(secret, crc_token.encode())


def signature_matches(expected: str, given: str) -> bool:
    """Whether ``given`` (a header value) is ``expected``, in constant time. The ``sha256=``
    prefix is matched without regard to case; hex digests too (Meta's are lowercase)."""
    algorithm, _, digest = given.strip().partition("=")
    want_algorithm, _, want_digest = expected.partition("=")
    if algorithm.lower() != want_algorithm:
        return False
    if all(c in "0123456789abcdefABCDEF" for c in digest) and len(digest) == 64:
        digest = digest.lower()
    return hmac.compare_digest(digest.encode(), want_digest.encode())
