"""The pieces of the secured local broker and of the connection diagnosis that need no broker."""

from __future__ import annotations

import asyncio
import ssl
import subprocess
from pathlib import Path

import pytest

from streamproc.kafka import (
    KafkaAuthenticationError,
    KafkaSettings,
    KafkaUnavailableError,
    check_connection,
    check_credentials,
)
from streamproc.local import BrokerError, BrokerSecurity, LocalBroker, free_port
from streamproc.local._tls import TlsFiles, scram_format_argument


def test_the_generated_ca_signs_a_localhost_certificate_that_tls_accepts(tmp_path: Path) -> None:
    tls = TlsFiles(tmp_path / "tls")
    tls.ensure()
    verified = subprocess.run(
        ["openssl", "verify", "-CAfile", str(tls.ca_cert), str(tls.directory / "broker.pem")],
        capture_output=True,
        text=True,
    )
    assert verified.returncode == 0, verified.stderr
    # What a client does: trust the CA, check the host name against the broker's certificate.
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(tls.keystore)
    client = ssl.create_default_context(cafile=str(tls.ca_cert))
    assert client.check_hostname
    first = tls.keystore.read_text()
    tls.ensure()  # kept: clients configured with the CA keep working across restarts
    assert tls.keystore.read_text() == first
    assert tls.keystore.stat().st_mode & 0o077 == 0


def test_broker_security_rejects_what_the_format_tool_cannot_quote() -> None:
    for bad in ("", "a,b", "x=y", "with space", "br]acket"):
        with pytest.raises(ValueError):
            BrokerSecurity(password=bad)
    security = BrokerSecurity(username="u", password="p-1")
    assert scram_format_argument(security) == "SCRAM-SHA-512=[name=u,password=p-1]"
    assert "p-1" not in repr(security)


def test_a_secured_broker_tells_its_clients_the_documented_variables(tmp_path: Path) -> None:
    broker = LocalBroker(tmp_path, security=BrokerSecurity(username="u", password="p"))
    env = broker.client_env()
    settings = broker.client_settings("localhost:9093")
    assert env["STREAMPROC_SSL_CAFILE"] == str(tmp_path.resolve() / "tls" / "ca.pem")
    assert (settings.security_protocol, settings.sasl_mechanism) == ("SASL_SSL", "SCRAM-SHA-512")
    assert (settings.sasl_username, settings.sasl_password) == ("u", "p")
    assert LocalBroker(tmp_path).client_env() == {}


def test_no_broker_is_unavailable_not_an_authentication_error() -> None:
    settings = KafkaSettings(bootstrap_servers=(f"localhost:{free_port()}",))
    with pytest.raises(KafkaUnavailableError) as raised:
        asyncio.run(check_connection(settings, timeout=5.0))
    assert not isinstance(raised.value, KafkaAuthenticationError)
    assert "does it speak PLAINTEXT" in str(raised.value)
    asyncio.run(check_credentials(settings, timeout=5.0))  # left to the caller's retries


def test_a_data_dir_formatted_without_the_scram_user_is_refused_at_once(tmp_path: Path) -> None:
    (tmp_path / "kafka-logs").mkdir()
    (tmp_path / "kafka-logs" / "meta.properties").write_text("node.id=1\n")
    broker = LocalBroker(tmp_path, port=free_port(), security=BrokerSecurity(username="u"))
    with pytest.raises(BrokerError, match="formatted with no SCRAM user, not 'u'"):
        broker.start(timeout=5.0)
    (tmp_path / "scram-user").write_text("someone-else\n")
    with pytest.raises(BrokerError, match="formatted with SCRAM user 'someone-else'"):
        broker.start(timeout=5.0)
