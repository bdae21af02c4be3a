"""The review console in the demo: ``streamproc review serve`` on an SQLite file in the demo's
folder, local HTTP only, with a throwaway admin account whose password is printed."""

from __future__ import annotations

import secrets
import subprocess
from collections.abc import Mapping
from pathlib import Path

from streamproc.local._process import free_port
from streamproc.local._services import ServiceProcess, streamproc_command

__all__ = ["DEMO_USER", "ConsoleProcess", "demo_console_env"]

DEMO_USER = "demo"


def demo_console_env(data_dir: Path) -> dict[str, str]:
    """What the sink and the console share in the demo: a fresh appeal key and the console's
    address (so warning replies carry appeal links that open on this machine)."""
    port = free_port()
    return {
        "STREAMPROC_APPEAL_SECRET": secrets.token_urlsafe(32),
        "STREAMPROC_APPEAL_BASE_URL": f"http://127.0.0.1:{port}",
        "STREAMPROC_REVIEW_PORT": str(port),
        "STREAMPROC_REVIEW_ADDRESS": "127.0.0.1",
        "STREAMPROC_REVIEW_SECURE_COOKIES": "0",  # plain HTTP on the loopback only
        "STREAMPROC_REVIEW_DATABASE": f"sqlite:///{data_dir / 'review' / 'review.db'}",
    }


class ConsoleProcess(ServiceProcess):
    """``streamproc review serve`` (its metrics on ``STREAMPROC_REVIEW_METRICS_PORT``)."""

    command = "review"

    def __init__(self, env: Mapping[str, str], directory: Path) -> None:
        super().__init__(env, directory, args=("serve",))
        self.env["STREAMPROC_REVIEW_METRICS_PORT"] = str(self.metrics_port)
        self.url = f"http://127.0.0.1:{self.env['STREAMPROC_REVIEW_PORT']}/"
        self.password = ""

    def add_demo_user(self) -> str:
        """A local-only admin with a random password (the database is the demo's, thrown away
        with it); the password."""
        self.password = secrets.token_urlsafe(12)
        subprocess.run(
            [*streamproc_command(), "review", "users", "add", DEMO_USER, "--role", "admin",
             "--password-stdin"],
            input=self.password + "\n", env=self.env, check=True, capture_output=True,
            text=True, timeout=120,
        )  # fmt: skip
        return self.password

    def start(self, timeout: float = 90.0) -> ConsoleProcess:
        self.launch()
        self.wait_until(lambda _samples: self.ready(), timeout)
        return self

    def queue_depths(self) -> dict[str, int]:
        samples = self.samples() or {}
        prefix = 'streamproc_review_queue_depth{queue="'
        return {
            name[len(prefix) : -2]: int(value)
            for name, value in samples.items()
            if name.startswith(prefix)
        }
