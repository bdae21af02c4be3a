"""Session fixtures: one real single-node Kafka broker, started only if a test asks for it.

``kafka_bootstrap`` starts the broker (free ports, a temporary data directory) the first time a
test requests it and stops it when the session ends. Three layers make sure no JVM outlives the
session: the fixture's own teardown (also on errors and Ctrl-C), an ``atexit`` SIGKILL of the
broker's process group, and the kernel's parent-death signal (covers a SIGKILLed pytest).
"""

from __future__ import annotations

import asyncio
import atexit
from collections.abc import Iterator

import pytest

from streamproc.kafka import (
    KafkaSettings,
    TopicDeclarations,
    admin_client,
    apply,
    load_declarations,
)
from streamproc.local import LocalBroker, free_port
from tests.integration._streaming import streamproc_env

# The first run fetches the jars with Maven; later starts take a few seconds.
_BROKER_START_TIMEOUT = 300.0


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalBroker]:
    """The session's running :class:`LocalBroker` (prefer ``kafka_bootstrap``)."""
    data_dir = tmp_path_factory.mktemp("kafka-broker")
    broker = LocalBroker(data_dir, port=free_port(), controller_port=free_port())
    atexit.register(broker.kill)
    try:
        broker.start(timeout=_BROKER_START_TIMEOUT, die_with_parent=True)
        yield broker
    finally:
        broker.stop(timeout=20.0)
        atexit.unregister(broker.kill)


@pytest.fixture(scope="session")
def kafka_bootstrap(kafka_broker: LocalBroker) -> str:
    """``localhost:<port>`` of the session's broker."""
    bootstrap = kafka_broker.status().bootstrap
    assert bootstrap is not None, "the session's Kafka broker is not running"
    return bootstrap


@pytest.fixture(scope="session")
def kafka_settings(kafka_bootstrap: str) -> KafkaSettings:
    """Connection settings for the session's broker (PLAINTEXT)."""
    return KafkaSettings(bootstrap_servers=(kafka_bootstrap,))


@pytest.fixture
def kafka_env(kafka_bootstrap: str) -> dict[str, str]:
    """Environment for a ``streamproc`` subprocess that must talk to the session's broker."""
    return streamproc_env(kafka_bootstrap)


@pytest.fixture(scope="session")
def kafka_topics(kafka_settings: KafkaSettings) -> TopicDeclarations:
    """Apply the packaged topic declarations to the session's broker; return them."""
    declarations = load_declarations()

    async def run() -> None:
        async with admin_client(kafka_settings) as admin:
            report = await apply(declarations, admin)
        assert not report.has_errors and not report.has_differences, "\n".join(report.lines())

    asyncio.run(run())
    return declarations
