"""How every streamproc command finds and authenticates to Kafka: environment variables only."""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from streamproc._settings import SettingsError

DEFAULT_BROKER = "localhost:9092"

ENV_BROKER = "STREAMPROC_BROKER"
ENV_SECURITY_PROTOCOL = "STREAMPROC_SECURITY_PROTOCOL"
ENV_SASL_MECHANISM = "STREAMPROC_SASL_MECHANISM"
ENV_SASL_USERNAME = "STREAMPROC_SASL_USERNAME"
ENV_SASL_PASSWORD = "STREAMPROC_SASL_PASSWORD"
ENV_SSL_CAFILE = "STREAMPROC_SSL_CAFILE"
ENV_SSL_CERTFILE = "STREAMPROC_SSL_CERTFILE"
ENV_SSL_KEYFILE = "STREAMPROC_SSL_KEYFILE"

SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")


class KafkaSettingsError(SettingsError):
    """The Kafka connection settings in the environment are invalid."""


@dataclass(frozen=True)
class KafkaSettings:
    """Connection settings for a Kafka cluster.

    The password never appears in ``repr`` or :meth:`describe`; pass the object around rather
    than the kwargs, and build the clients' kwargs with :meth:`client_kwargs` at the last moment.
    """

    bootstrap_servers: tuple[str, ...] = (DEFAULT_BROKER,)
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str | None = None
    sasl_username: str | None = None
    sasl_password: str | None = field(default=None, repr=False)
    ssl_cafile: str | None = None
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None

    def __post_init__(self) -> None:
        if not self.bootstrap_servers:
            raise KafkaSettingsError(f"{ENV_BROKER}: no broker address given")
        for server in self.bootstrap_servers:
            _check_host_port(server)
        if self.security_protocol not in SECURITY_PROTOCOLS:
            raise KafkaSettingsError(
                f"{ENV_SECURITY_PROTOCOL}={self.security_protocol!r}: "
                f"expected one of {', '.join(SECURITY_PROTOCOLS)}"
            )
        if self.uses_sasl:
            if self.sasl_mechanism not in SASL_MECHANISMS:
                raise KafkaSettingsError(
                    f"{ENV_SASL_MECHANISM}={self.sasl_mechanism!r}: "
                    f"expected one of {', '.join(SASL_MECHANISMS)}"
                )
            if not self.sasl_username or self.sasl_password is None:
                raise KafkaSettingsError(
                    f"{self.security_protocol} needs {ENV_SASL_USERNAME} and {ENV_SASL_PASSWORD}"
                )
        if bool(self.ssl_certfile) != bool(self.ssl_keyfile):
            raise KafkaSettingsError(
                f"a client certificate needs both {ENV_SSL_CERTFILE} and {ENV_SSL_KEYFILE}"
            )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> KafkaSettings:
        """Read the ``STREAMPROC_*`` variables (from *environ*, default ``os.environ``)."""
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        protocol = (get(ENV_SECURITY_PROTOCOL) or "PLAINTEXT").upper()
        mechanism = get(ENV_SASL_MECHANISM)
        if mechanism is None and protocol.startswith("SASL_"):
            mechanism = "PLAIN"
        return cls(
            bootstrap_servers=parse_bootstrap(get(ENV_BROKER) or DEFAULT_BROKER),
            security_protocol=protocol,
            sasl_mechanism=mechanism.upper() if mechanism else None,
            sasl_username=get(ENV_SASL_USERNAME),
            # Passwords may legitimately have surrounding spaces: take the raw value.
            sasl_password=env.get(ENV_SASL_PASSWORD),
            ssl_cafile=get(ENV_SSL_CAFILE),
            ssl_certfile=get(ENV_SSL_CERTFILE),
            ssl_keyfile=get(ENV_SSL_KEYFILE),
        )

    @property
    def bootstrap(self) -> str:
        """The bootstrap servers as one comma-separated string."""
        return ",".join(self.bootstrap_servers)

    @property
    def uses_sasl(self) -> bool:
        return self.security_protocol.startswith("SASL_")

    @property
    def uses_ssl(self) -> bool:
        return self.security_protocol in ("SSL", "SASL_SSL")

    def ssl_context(self) -> ssl.SSLContext | None:
        """A client TLS context for SSL/SASL_SSL (system CAs unless a CA file is given)."""
        if not self.uses_ssl:
            return None
        from aiokafka.helpers import create_ssl_context

        context: ssl.SSLContext = create_ssl_context(
            cafile=self.ssl_cafile, certfile=self.ssl_certfile, keyfile=self.ssl_keyfile
        )
        return context

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for any aiokafka client (producer, consumer, admin)."""
        return {
            "bootstrap_servers": self.bootstrap,
            "security_protocol": self.security_protocol,
            # aiokafka's own default; it is ignored unless the protocol is SASL_*.
            "sasl_mechanism": self.sasl_mechanism or "PLAIN",
            "sasl_plain_username": self.sasl_username,
            "sasl_plain_password": self.sasl_password,
            "ssl_context": self.ssl_context(),
        }

    def faust_broker_urls(self) -> list[str]:
        """The bootstrap servers as Faust ``broker`` URLs (``kafka://host:port``)."""
        return [f"kafka://{server}" for server in self.bootstrap_servers]

    def describe(self) -> str:
        """A one-line summary that is safe to print or log (no password)."""
        text = f"{self.bootstrap} ({self.security_protocol}"
        if self.uses_sasl:
            text += f", {self.sasl_mechanism} as {self.sasl_username!r}"
        return text + ")"


def parse_bootstrap(value: str) -> tuple[str, ...]:
    """Split ``host:port[,host:port...]`` (``;`` or a ``kafka://`` prefix are accepted too)."""
    servers = []
    for raw in value.replace(";", ",").split(","):
        server = raw.strip().removeprefix("kafka://").rstrip("/")
        if server:
            servers.append(server)
    if not servers:
        raise KafkaSettingsError(f"{ENV_BROKER}={value!r}: no broker address given")
    return tuple(servers)


def _check_host_port(server: str) -> None:
    host, sep, port = server.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise KafkaSettingsError(f"{ENV_BROKER}: {server!r} is not host:port")
