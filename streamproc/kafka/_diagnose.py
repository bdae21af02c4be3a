"""Why a client cannot connect, in words: aiokafka reports every failed bootstrap as "Unable to
bootstrap", and Faust retries it for ever, so a wrong password or a TLS mismatch looked like an
unreachable broker (or a hang). One direct connection per bootstrap server tells them apart."""

from __future__ import annotations

import asyncio
import ssl

from streamproc.core._errors import StreamprocError
from streamproc.kafka._settings import (
    ENV_SASL_MECHANISM,
    ENV_SASL_PASSWORD,
    ENV_SASL_USERNAME,
    ENV_SECURITY_PROTOCOL,
    ENV_SSL_CAFILE,
    KafkaSettings,
)


class KafkaUnavailableError(StreamprocError, ConnectionError):
    """No broker of the configured cluster could be reached."""


class KafkaAuthenticationError(KafkaUnavailableError):
    """The cluster answered but refused the credentials or the TLS settings: retrying with the
    same settings cannot help, so a service says so and exits at start-up."""


async def check_connection(settings: KafkaSettings, timeout: float = 10.0) -> None:
    """Connect (TCP, TLS, API versions, SASL) to each bootstrap server in turn and return as
    soon as one accepts us; :class:`KafkaAuthenticationError` if one refuses the credentials or
    the TLS settings, else :class:`KafkaUnavailableError` (none answered)."""
    problem, definitive = await _connection_problem(settings, timeout)
    if problem is not None:
        raise (KafkaAuthenticationError if definitive else KafkaUnavailableError)(problem)


async def _connection_problem(settings: KafkaSettings, timeout: float) -> tuple[str | None, bool]:
    from aiokafka.conn import create_conn
    from aiokafka.errors import (
        AuthenticationFailedError,
        AuthenticationMethodNotSupported,
        KafkaError,
        SaslAuthenticationFailed,
        UnsupportedSaslMechanismError,
    )

    kwargs = settings.client_kwargs()
    del kwargs["bootstrap_servers"]
    unreachable: str | None = None
    for server in settings.bootstrap_servers:
        host, _, port = server.rpartition(":")
        try:
            conn = await asyncio.wait_for(
                create_conn(host, int(port), request_timeout_ms=int(timeout * 1000), **kwargs),
                timeout,
            )
        except (SaslAuthenticationFailed, AuthenticationFailedError) as exc:
            return (
                (
                    f"authentication failed at {server} for user {settings.sasl_username!r} "
                    f"({settings.sasl_mechanism}): {exc}; check {ENV_SASL_USERNAME} and "
                    f"{ENV_SASL_PASSWORD}"
                ),
                True,
            )
        except (UnsupportedSaslMechanismError, AuthenticationMethodNotSupported) as exc:
            return (
                f"authentication failed at {server}: {exc}; check {ENV_SASL_MECHANISM}",
                True,
            )
        except ssl.SSLCertVerificationError as exc:
            return (
                (
                    f"TLS certificate of {server} not trusted: {exc.verify_message}; "
                    f"check {ENV_SSL_CAFILE}"
                ),
                True,
            )
        except ssl.SSLError as exc:
            return (
                f"TLS handshake with {server} failed: {exc}; check {ENV_SECURITY_PROTOCOL}",
                True,
            )
        except (TimeoutError, KafkaError, OSError) as exc:
            # No answer in time from a listening port usually means the protocols differ.
            described = str(exc) or type(exc).__name__
            unreachable = unreachable or (
                f"no Kafka handshake with {server} ({described}); is it up, and does it speak "
                f"{settings.security_protocol} ({ENV_SECURITY_PROTOCOL})?"
            )
            continue
        conn.close()
        return None, False
    return unreachable, False
