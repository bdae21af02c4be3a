"""The local broker's files: the Kafka POM and logging config shipped with the package, and
where a broker keeps its data by default."""

from __future__ import annotations

import re
from importlib.resources import files
from pathlib import Path

from streamproc._paths import cache_dir

__all__ = ["default_broker_dir", "kafka_version", "resource_path"]


def resource_path(name: str) -> Path:
    """The path of a resource shipped with ``streamproc.local`` (``pom.xml``, ``log4j2.yaml``)."""
    path = Path(str(files("streamproc.local").joinpath("resources", name)))
    if not path.is_file():
        raise FileNotFoundError(f"streamproc resource missing from the installation: {path}")
    return path


def default_broker_dir() -> Path:
    """Data directory of the local broker when none is given."""
    return cache_dir() / "broker"


def kafka_version(pom_text: str) -> str:
    """The ``kafka.version`` property of the POM: the single place the version is written."""
    match = re.search(r"<kafka\.version>\s*([^<\s]+)\s*</kafka\.version>", pom_text)
    if match is None:
        raise ValueError("the Kafka POM has no <kafka.version> property")
    return match.group(1)
