"""The local broker's optional security mode: SASL_SSL with SCRAM-SHA-512 and a throwaway CA.

The certificates are made with the ``openssl`` command (no Python crypto dependency for a
development-only feature) into ``<data dir>/tls/``; the broker reads a PEM keystore, which
Kafka supports since 2.7, so no JKS or keytool step is needed.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from streamproc.core._errors import StreamprocError

SCRAM_MECHANISM = "SCRAM-SHA-512"
# Long enough for the tests and a day of development; the CA is thrown away with the data dir.
_VALID_DAYS = "30"
# EC keys: made in milliseconds, where RSA keys take seconds on a busy machine.
_NEW_KEY = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256")


class TlsSetupError(StreamprocError, RuntimeError):
    """The test certificates could not be generated."""


@dataclass(frozen=True)
class BrokerSecurity:
    """SASL_SSL with SCRAM-SHA-512 on the client listener, as a production cluster runs it.

    *username*/*password* is the one SCRAM user, created when the log dirs are formatted (so a
    data dir keeps the credentials it was formatted with); the broker talks to itself as that
    user too. The controller listener stays PLAINTEXT on localhost.
    """

    username: str = "streamproc"
    password: str = field(default="streamproc-local-secret", repr=False)

    def __post_init__(self) -> None:
        # StorageTool's --add-scram syntax has no quoting for these.
        for what, value in (("username", self.username), ("password", self.password)):
            if not value or any(char in value for char in ",=[]\"' \n"):
                raise ValueError(f"BrokerSecurity {what}: non-empty, without ,=[]\"' or spaces")


@dataclass(frozen=True)
class TlsFiles:
    """The PEM files of one broker's throwaway CA."""

    directory: Path

    @property
    def ca_cert(self) -> Path:
        """What clients trust (``STREAMPROC_SSL_CAFILE``)."""
        return self.directory / "ca.pem"

    @property
    def keystore(self) -> Path:
        """The broker's private key and certificate chain (``ssl.keystore.type=PEM``)."""
        return self.directory / "broker-keystore.pem"

    def ensure(self) -> None:
        """Generate the CA and the broker certificate unless they exist."""
        if self.ca_cert.is_file() and self.keystore.is_file():
            return
        openssl = shutil.which("openssl")
        if openssl is None:
            raise TlsSetupError("openssl is not on PATH (needed for the broker's TLS certificates)")
        self.directory.mkdir(parents=True, exist_ok=True)
        ca_key = self.directory / "ca.key"
        broker_key = self.directory / "broker.key"
        request = self.directory / "broker.csr"
        broker_cert = self.directory / "broker.pem"
        extensions = self.directory / "broker.ext"
        extensions.write_text(
            "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
            "basicConstraints=critical,CA:FALSE\n"
            "keyUsage=critical,digitalSignature,keyEncipherment\n"
            "extendedKeyUsage=serverAuth\n"
        )

        def run(*args: str) -> None:
            result = subprocess.run(
                [openssl, *args], capture_output=True, text=True, stdin=subprocess.DEVNULL
            )
            if result.returncode != 0:
                raise TlsSetupError(f"openssl {args[0]} failed:\n{result.stderr.strip()}")

        run(
            "req", "-x509", *_NEW_KEY, "-nodes", "-sha256", "-days", _VALID_DAYS,
            "-keyout", str(ca_key), "-out", str(self.ca_cert),
            "-subj", "/CN=streamproc local test CA",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        )  # fmt: skip
        # OpenSSL 3 writes PKCS#8 keys ("BEGIN PRIVATE KEY"), the form Kafka's PEM store reads.
        run(
            "req", *_NEW_KEY, "-nodes", "-sha256",
            "-keyout", str(broker_key), "-out", str(request), "-subj", "/CN=localhost",
        )  # fmt: skip
        run(
            "x509", "-req", "-in", str(request), "-CA", str(self.ca_cert), "-CAkey", str(ca_key),
            "-CAcreateserial", "-days", _VALID_DAYS, "-sha256", "-extfile", str(extensions),
            "-out", str(broker_cert),
        )  # fmt: skip
        tmp = self.keystore.with_suffix(".tmp")
        tmp.write_text(broker_key.read_text() + broker_cert.read_text() + self.ca_cert.read_text())
        tmp.chmod(0o600)
        tmp.replace(self.keystore)
        for leftover in (request, extensions, self.directory / "ca.srl"):
            leftover.unlink(missing_ok=True)


def listener_properties(security: BrokerSecurity, tls: TlsFiles) -> dict[str, str]:
    """The server.properties entries of the SASL_SSL client listener (named SASL_SSL)."""
    jaas = (
        "org.apache.kafka.common.security.scram.ScramLoginModule required "
        f'username="{security.username}" password="{security.password}";'
    )
    return {
        "sasl.enabled.mechanisms": SCRAM_MECHANISM,
        "sasl.mechanism.inter.broker.protocol": SCRAM_MECHANISM,
        "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config": jaas,
        "ssl.keystore.type": "PEM",
        "ssl.keystore.location": str(tls.keystore),
        # The broker checks at start-up that a client with its truststore can talk to it.
        "ssl.truststore.type": "PEM",
        "ssl.truststore.location": str(tls.ca_cert),
        "ssl.client.auth": "none",
    }


def scram_format_argument(security: BrokerSecurity) -> str:
    """StorageTool's ``--add-scram`` value for the one user."""
    return f"{SCRAM_MECHANISM}=[name={security.username},password={security.password}]"


def client_environment(security: BrokerSecurity, tls: TlsFiles) -> dict[str, str]:
    """The documented ``STREAMPROC_*`` variables with which a service authenticates."""
    return {
        "STREAMPROC_SECURITY_PROTOCOL": "SASL_SSL",
        "STREAMPROC_SASL_MECHANISM": SCRAM_MECHANISM,
        "STREAMPROC_SASL_USERNAME": security.username,
        "STREAMPROC_SASL_PASSWORD": security.password,
        "STREAMPROC_SSL_CAFILE": str(tls.ca_cert),
    }
