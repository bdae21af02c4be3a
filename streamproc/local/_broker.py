"""The local single-node Kafka broker: KRaft, combined broker and controller, run from jars.

Everything about one broker lives in its data directory::

    server.properties   generated at every start
    log4j2.yaml         copied from the package at every start
    ports.json          the client and controller ports, reused on restart
    kafka-logs/         log.dirs (formatted once; a restart keeps the data)
    broker.log          the JVM's console output
    broker.pid          pid of the running JVM, which leads its own process group
    tls/                the throwaway CA and broker keystore (security mode only)
    scram-user          the SCRAM user created at format time (security mode only)
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from streamproc.core._errors import StreamprocError
from streamproc.kafka import KafkaSettings
from streamproc.local._jars import ensure_kafka_jars, file_lock
from streamproc.local._paths import default_broker_dir, resource_path
from streamproc.local._probe import broker_answers, run_sync, tcp_open
from streamproc.local._process import (
    cmdline,
    free_port,
    kill_me_with_parent,
    pid_alive,
    port_in_use,
    signal_group,
    terminate_group,
    wait_gone,
    wait_while,
)
from streamproc.local._tls import (
    BrokerSecurity,
    TlsFiles,
    client_environment,
    listener_properties,
    scram_format_argument,
)

DEFAULT_PORT = 9092
# A JVM killed a moment ago still holds its listening sockets until the kernel has torn down its
# memory (seconds for a large heap on a busy machine): its own ports get that long to be free.
_RELEASE_SECONDS = 10.0
# Enough for development and the test suite on a 2-core machine; Kafka's own default is 1 GiB.
DEFAULT_HEAP = "768m"
_HOST = "localhost"


class BrokerError(StreamprocError, RuntimeError):
    """The local broker could not be started or stopped."""


@dataclass(frozen=True)
class BrokerStatus:
    """What the data directory says about its broker."""

    data_dir: Path
    running: bool
    pid: int | None = None
    bootstrap: str | None = None
    #: A pid file named a process that is gone or is not this broker.
    stale_pid: int | None = None

    def describe(self) -> str:
        if self.running:
            return f"running: pid {self.pid}, bootstrap {self.bootstrap}, data {self.data_dir}"
        if self.stale_pid is not None:
            return f"not running (stale pid file for pid {self.stale_pid}), data {self.data_dir}"
        return f"not running, data {self.data_dir}"


class LocalBroker:
    """A single-node KRaft broker whose state lives in *data_dir*.

    *port* defaults to the port recorded by the previous start, else 9092; *controller_port*
    to the recorded one, else a free port. With *security* the client port is a SASL_SSL
    listener (SCRAM-SHA-512, certificates of a CA generated into the data dir) instead of
    PLAINTEXT; :meth:`client_env` gives the variables with which services authenticate. Start
    it with :meth:`start` (it keeps running after this process exits) and stop it with
    :meth:`stop`, from this or any other process.
    """

    def __init__(
        self,
        data_dir: Path | None = None,
        *,
        port: int | None = None,
        controller_port: int | None = None,
        heap: str = DEFAULT_HEAP,
        cache: Path | None = None,
        security: BrokerSecurity | None = None,
    ) -> None:
        self.data_dir = (data_dir or default_broker_dir()).expanduser().resolve()
        self._port = port
        self._controller_port = controller_port
        self.heap = heap
        self.cache = cache
        self.security = security
        self.tls = TlsFiles(self.data_dir / "tls")

    # Files -------------------------------------------------------------------------------

    @property
    def pid_file(self) -> Path:
        return self.data_dir / "broker.pid"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "broker.log"

    @property
    def config_file(self) -> Path:
        return self.data_dir / "server.properties"

    @property
    def log_dirs(self) -> Path:
        return self.data_dir / "kafka-logs"

    @property
    def _ports_file(self) -> Path:
        return self.data_dir / "ports.json"

    def _recorded_ports(self) -> dict[str, int]:
        try:
            data = json.loads(self._ports_file.read_text())
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict):
            return {}
        return {
            key: value
            for key, value in data.items()
            if key in ("port", "controller_port") and isinstance(value, int) and 0 < value < 65536
        }

    def _read_pid(self) -> int | None:
        try:
            return int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None

    def _is_ours(self, pid: int) -> bool:
        # A pid can be reused by any process after a reboot or crash: check it is this broker.
        args = cmdline(pid)
        return "kafka.Kafka" in args and str(self.config_file) in args

    # Status ------------------------------------------------------------------------------

    def status(self) -> BrokerStatus:
        pid = self._read_pid()
        if pid is None:
            return BrokerStatus(self.data_dir, running=False)
        if not (pid_alive(pid) and self._is_ours(pid)):
            return BrokerStatus(self.data_dir, running=False, stale_pid=pid)
        port = self._recorded_ports().get("port", DEFAULT_PORT)
        return BrokerStatus(self.data_dir, running=True, pid=pid, bootstrap=f"{_HOST}:{port}")

    # Start -------------------------------------------------------------------------------

    def start(self, timeout: float = 90.0, *, die_with_parent: bool = False) -> str:
        """Start the broker (idempotent) and return its bootstrap address once it answers.

        With *die_with_parent* the kernel kills the JVM when the calling thread exits (tests).
        """
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with file_lock(self.data_dir / ".lock"):
            current = self.status()
            if current.running:
                wanted = self._port
                if wanted is not None and current.bootstrap != f"{_HOST}:{wanted}":
                    raise BrokerError(
                        f"the broker of {self.data_dir} already runs at {current.bootstrap}; "
                        "stop it first to change its port"
                    )
                assert current.bootstrap is not None
                return current.bootstrap
            if current.stale_pid is not None:
                self.pid_file.unlink(missing_ok=True)
            if (self.log_dirs / "meta.properties").is_file():
                self._check_scram_user()
            port, controller_port = self._choose_ports()
            if self.security is not None:
                self.tls.ensure()
            self._write_config(port, controller_port)
            lib = ensure_kafka_jars(self.cache)
            if not (self.log_dirs / "meta.properties").is_file():
                self._format(lib)
            process = self._launch(lib, die_with_parent=die_with_parent)
            bootstrap = f"{_HOST}:{port}"
            try:
                self._wait_ready(process, port, timeout)
            except BaseException:
                # Never leave a half-started JVM behind, also on Ctrl-C.
                terminate_group(process.pid, 10.0)
                self.pid_file.unlink(missing_ok=True)
                raise
            return bootstrap

    def _choose_ports(self) -> tuple[int, int]:
        recorded = self._recorded_ports()
        port = self._port or recorded.get("port") or DEFAULT_PORT
        controller_port = self._controller_port or recorded.get("controller_port")
        if controller_port is None or (
            self._controller_port is None
            and (controller_port == port or port_in_use(controller_port))
        ):
            # Only this node talks to its controller port, so any free one will do.
            controller_port = free_port()
        for what, number in (("port", port), ("controller port", controller_port)):
            if not wait_while(functools.partial(port_in_use, number), _RELEASE_SECONDS):
                raise BrokerError(
                    f"{what} {number} is already in use (another broker?); "
                    "choose another with --port"
                )
        if port == controller_port:
            raise BrokerError(f"port and controller port are both {port}")
        self._ports_file.write_text(
            json.dumps({"port": port, "controller_port": controller_port}) + "\n"
        )
        return port, controller_port

    def client_env(self) -> dict[str, str]:
        """The ``STREAMPROC_*`` security variables a client of this broker needs (none for a
        PLAINTEXT broker); ``STREAMPROC_BROKER`` is the bootstrap :meth:`start` returns."""
        if self.security is None:
            return {}
        return client_environment(self.security, self.tls)

    def client_settings(self, bootstrap: str) -> KafkaSettings:
        """The Kafka settings with which a client connects to this broker at *bootstrap*."""
        return KafkaSettings.from_env({**self.client_env(), "STREAMPROC_BROKER": bootstrap})

    def _write_config(self, port: int, controller_port: int) -> None:
        # The client listener is named after its protocol: PLAINTEXT, or SASL_SSL.
        client = "PLAINTEXT" if self.security is None else "SASL_SSL"
        properties = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@{_HOST}:{controller_port}",
            "listeners": f"{client}://{_HOST}:{port},CONTROLLER://{_HOST}:{controller_port}",
            "advertised.listeners": f"{client}://{_HOST}:{port}",
            "listener.security.protocol.map": f"{client}:{client},CONTROLLER:PLAINTEXT",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": client,
            "log.dirs": str(self.log_dirs),
            # One node: every replication factor and ISR minimum must be 1.
            "default.replication.factor": "1",
            "min.insync.replicas": "1",
            "offsets.topic.replication.factor": "1",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            # Fewer internal partitions than the default 50: faster first group join, fewer files.
            "offsets.topic.num.partitions": "10",
            "transaction.state.log.num.partitions": "10",
            # Consumers join at once instead of waiting 3 s for more members (tests, dev loop).
            "group.initial.rebalance.delay.ms": "0",
            # Topics come only from topics/topics.yaml (`streamproc topics apply`).
            "auto.create.topics.enable": "false",
            "num.partitions": "1",
        }
        if self.security is not None:
            properties.update(listener_properties(self.security, self.tls))
        header = "# Generated by streamproc at every `broker start`; edits are overwritten.\n"
        body = "".join(f"{key}={value}\n" for key, value in properties.items())
        self.config_file.write_text(header + body)
        shutil.copyfile(resource_path("log4j2.yaml"), self.data_dir / "log4j2.yaml")

    def _java(self, lib: Path, main: str, *args: str, heap: str | None = None) -> list[str]:
        java_home = os.environ.get("JAVA_HOME")
        java = (
            str(Path(java_home) / "bin" / "java")
            if java_home and (Path(java_home) / "bin" / "java").is_file()
            else shutil.which("java")
        )
        if java is None:
            raise BrokerError("java is not on PATH (Kafka 4 needs Java 17 or newer)")
        options = (
            [f"-Xmx{heap}", "-Xms256m", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20"] if heap else []
        )
        return [
            java,
            *options,
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={self.data_dir / 'log4j2.yaml'}",
            "-cp",
            f"{lib}/*",
            main,
            *args,
        ]

    def _format(self, lib: Path) -> None:
        def run(*args: str) -> str:
            result = subprocess.run(
                self._java(lib, "kafka.tools.StorageTool", *args),
                capture_output=True,
                text=True,
                stdin=subprocess.DEVNULL,
                cwd=self.data_dir,
            )
            if result.returncode != 0:
                raise BrokerError(
                    f"kafka.tools.StorageTool {args[0]} failed (exit {result.returncode}):\n"
                    + (result.stdout + result.stderr).strip()
                )
            return result.stdout

        cluster_id = run("random-uuid").strip().splitlines()[-1].strip()
        security = self.security
        scram = () if security is None else ("--add-scram", scram_format_argument(security))
        run("format", "-t", cluster_id, "-c", str(self.config_file), *scram)
        if security is not None:
            self._scram_user_file.write_text(security.username + "\n")

    @property
    def _scram_user_file(self) -> Path:
        return self.data_dir / "scram-user"

    def _check_scram_user(self) -> None:
        # SCRAM users are created when the log dirs are formatted, that is at the first start.
        if self.security is None:
            return
        try:
            formatted_with = self._scram_user_file.read_text().strip()
        except OSError:
            formatted_with = None
        if formatted_with != self.security.username:
            had = f"SCRAM user {formatted_with!r}" if formatted_with else "no SCRAM user"
            raise BrokerError(
                f"{self.data_dir} was formatted with {had}, not {self.security.username!r}; "
                "use a new data directory for the secured broker"
            )

    def _launch(self, lib: Path, *, die_with_parent: bool) -> subprocess.Popen[bytes]:
        command = self._java(lib, "kafka.Kafka", str(self.config_file), heap=self.heap)
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        with self.log_file.open("ab") as log:
            log.write(f"\n===== streamproc: broker starting at {stamp} =====\n".encode())
            log.flush()
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.data_dir,
                # Own session and process group: Ctrl-C in the starting shell does not reach it,
                # and stop() can signal the whole group.
                start_new_session=True,
                preexec_fn=kill_me_with_parent if die_with_parent else None,
            )
        tmp = self.pid_file.with_suffix(".pid.tmp")
        tmp.write_text(f"{process.pid}\n")
        tmp.replace(self.pid_file)
        return process

    def _wait_ready(self, process: subprocess.Popen[bytes], port: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            code = process.poll()
            if code is not None:
                raise BrokerError(
                    f"the broker exited with code {code} while starting; "
                    f"last lines of {self.log_file}:\n{self.log_tail()}"
                )
            settings = self.client_settings(f"{_HOST}:{port}")
            if tcp_open(_HOST, port) and run_sync(broker_answers(settings)):
                return
            if time.monotonic() >= deadline:
                raise BrokerError(
                    f"the broker did not answer on {_HOST}:{port} within {timeout:.0f} s; "
                    f"last lines of {self.log_file}:\n{self.log_tail()}"
                )
            time.sleep(0.25)

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_file.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    # Stop --------------------------------------------------------------------------------

    def stop(self, timeout: float = 30.0) -> bool:
        """Stop the broker: SIGTERM its process group, then SIGKILL after *timeout* seconds.

        Returns True if a running broker was stopped; a stale pid file is just removed.
        """
        current = self.status()
        if current.running:
            assert current.pid is not None
            terminate_group(current.pid, timeout)
        self.pid_file.unlink(missing_ok=True)
        return current.running

    def kill(self) -> None:
        """SIGKILL the broker's process group at once (last-resort cleanup, e.g. atexit)."""
        current = self.status()
        if current.running:
            assert current.pid is not None
            signal_group(current.pid, signal.SIGKILL)
            wait_gone(current.pid, 10.0)
        self.pid_file.unlink(missing_ok=True)
