"""Where things live: the packaged resources and the cache outside the repository."""

from __future__ import annotations

import os
import re
from importlib.resources import files
from pathlib import Path

#: Environment variable naming the cache directory (jars, default broker data).
CACHE_ENV = "STREAMPROC_CACHE"

# The POM, log4j2 config and topic declarations ship inside the package so that a non-editable
# install has them; deploy/kafka/ and topics/ in the repository are symlinks to these files.
_RESOURCES = "resources"


def resource_path(name: str) -> Path:
    """Return the path of a packaged resource (``pom.xml``, ``log4j2.yaml``, ``topics.yaml``)."""
    path = Path(str(files("streamproc.kafka").joinpath(_RESOURCES, name)))
    if not path.is_file():
        raise FileNotFoundError(f"streamproc resource missing from the installation: {path}")
    return path


def cache_dir() -> Path:
    """``$STREAMPROC_CACHE``, else ``$XDG_CACHE_HOME/streamproc``, else ``~/.cache/streamproc``."""
    explicit = os.environ.get(CACHE_ENV)
    if explicit:
        return Path(explicit).expanduser().resolve()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return (base / "streamproc").resolve()


def default_broker_dir() -> Path:
    """Data directory of the local broker when none is given."""
    return cache_dir() / "broker"


def kafka_version(pom_text: str) -> str:
    """The ``kafka.version`` property of the POM: the single place the version is written."""
    match = re.search(r"<kafka\.version>\s*([^<\s]+)\s*</kafka\.version>", pom_text)
    if match is None:
        raise ValueError("the Kafka POM has no <kafka.version> property")
    return match.group(1)
