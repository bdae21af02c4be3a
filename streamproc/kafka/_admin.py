"""An aiokafka admin client built from :class:`KafkaSettings`, with a clear connection error."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from streamproc.kafka._diagnose import (
    KafkaAuthenticationError,
    KafkaUnavailableError,
    check_connection,
)
from streamproc.kafka._settings import KafkaSettings


@asynccontextmanager
async def admin_client(
    settings: KafkaSettings | None = None, *, request_timeout_ms: int = 30_000
) -> AsyncIterator[Any]:
    """Yield a started ``AIOKafkaAdminClient`` (settings from the environment by default)."""
    from aiokafka.admin import AIOKafkaAdminClient
    from aiokafka.errors import KafkaError

    settings = settings or KafkaSettings.from_env()
    admin = AIOKafkaAdminClient(**settings.client_kwargs(), request_timeout_ms=request_timeout_ms)
    try:
        await admin.start()
    except (KafkaError, OSError) as exc:
        await admin.close()
        # aiokafka says "Unable to bootstrap" whatever the cause: find out which it was.
        detail = ""
        try:
            await check_connection(settings)
        except KafkaAuthenticationError as refused:
            raise KafkaAuthenticationError(
                f"Kafka at {settings.describe()} refused the connection: {refused}"
            ) from exc
        except KafkaUnavailableError as unreachable:
            detail = f" ({unreachable})"
        raise KafkaUnavailableError(
            f"cannot reach Kafka at {settings.describe()}: {exc}{detail}. "
            "Set STREAMPROC_BROKER, or start a local broker with `streamproc broker start`."
        ) from exc
    try:
        yield admin
    finally:
        await admin.close()
