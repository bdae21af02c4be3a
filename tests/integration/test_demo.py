"""The README's first command runs `streamproc demo`: it must work start to finish."""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from ._streaming import streamproc_command

pytestmark = pytest.mark.kafka


def test_demo_runs_end_to_end_and_stops_everything() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMPROC_")}
    if "STREAMPROC_CACHE" in os.environ:
        env["STREAMPROC_CACHE"] = os.environ["STREAMPROC_CACHE"]
    env["COLUMNS"] = "120"
    result = subprocess.run(
        [*streamproc_command(), "demo", "--copies", "2"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    assert "Kafka broker at localhost:" in out
    assert "worker ready" in out
    assert "comments by policy category and channel" in out
    assert "422/422 decisions" in out and "844/844 decisions" in out
    for action in ("remove", "warn", "block", "redirect", "escalate", "notify_compliance"):
        assert action in out
    assert "comments/s" in out and "/metrics" in out
    # The sample went in through the connector and out through the sink, on the stand-ins.
    assert "Platform calls the sink made" in out
    for call in ("POST /{id}/messages", "PUT /2/tweets/{id}/hidden", "setModerationStatus"):
        assert call in out, call
    # The console ran beside them, read the decisions and has cases in its queues.
    pattern = r"Review console: (http://127\.0\.0\.1:\d+/) .* sign in as demo with password "
    console = re.search(pattern + r"(\S+) .*cases by queue: (.*)", " ".join(out.split()))
    assert console is not None, out[-3000:]
    queues = dict(q.rsplit(" ", 1) for q in console.group(3).split(" (use")[0].split(", "))
    assert sum(int(n) for n in queues.values()) > 0, queues
    assert out.rstrip().endswith("stopped")
