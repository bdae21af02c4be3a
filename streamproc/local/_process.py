"""Process helpers for the detached broker: liveness, identity, process-group kill, free ports."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import time
from collections.abc import Callable
from pathlib import Path

_PR_SET_PDEATHSIG = 1


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago (the OS picks it when binding port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """True if something is listening on *host*:*port* (or the port cannot be bound).

    With SO_REUSEADDR, as the broker's own server socket has: the TIME_WAIT connections of a
    broker that was just killed do not count.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def pid_alive(pid: int) -> bool:
    """True if *pid* runs and is not a zombie; reaps it first if it is our own child."""
    with contextlib.suppress(ChildProcessError):
        reaped, _ = os.waitpid(pid, os.WNOHANG)
        if reaped == pid:
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    # The state follows the parenthesised command name, which may itself hold spaces.
    return stat.rpartition(")")[2].split()[:1] != ["Z"]


def cmdline(pid: int) -> list[str]:
    """The argument vector of *pid*, or an empty list if it cannot be read."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def wait_while(condition: Callable[[], bool], timeout: float) -> bool:
    """Wait up to *timeout* seconds for *condition* to turn false; True if it did."""
    deadline = time.monotonic() + timeout
    while condition():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)
    return True


def wait_gone(pid: int, timeout: float) -> bool:
    """Wait up to *timeout* seconds for *pid* to exit; True if it did."""
    return wait_while(lambda: pid_alive(pid), timeout)


def signal_group(pid: int, sig: signal.Signals) -> None:
    """Send *sig* to the process group led by *pid* (the broker runs in its own session)."""
    try:
        if os.getpgid(pid) == pid:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
    except ProcessLookupError:
        pass


def terminate_group(pid: int, timeout: float) -> None:
    """SIGTERM the group, wait up to *timeout* s for a clean shutdown, then SIGKILL it."""
    signal_group(pid, signal.SIGTERM)
    if not wait_gone(pid, timeout):
        signal_group(pid, signal.SIGKILL)
        wait_gone(pid, 10.0)


def kill_me_with_parent() -> None:
    """``preexec_fn``: have the kernel SIGKILL the child when the thread that forked it dies.

    Used for test brokers, so that even a SIGKILLed pytest leaves no JVM behind.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
