"""What the topic tests (unit and on the broker) share: the channels as the README names them,
the CLI as a user runs it, declarations under fresh names."""

from __future__ import annotations

import shutil
import subprocess
import sys
import uuid
from dataclasses import replace
from pathlib import Path

from streamproc.kafka import TopicDeclarations

PLATFORMS = ("facebook", "instagram", "twitter", "youtube", "linkedin")
COMMENT_TOPICS = [f"comments.{platform}" for platform in PLATFORMS]


def streamproc(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).with_name("streamproc")
    command = [str(script)] if script.exists() else [shutil.which("streamproc") or "streamproc"]
    return subprocess.run(
        [*command, *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


def prefixed(declarations: TopicDeclarations) -> TopicDeclarations:
    """The declarations under fresh names, so each test sees topics nobody created yet."""
    prefix = f"t{uuid.uuid4().hex[:8]}."
    topics = tuple(replace(topic, name=prefix + topic.name) for topic in declarations)
    return TopicDeclarations(topics, declarations.source)
