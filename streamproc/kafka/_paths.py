"""The topic declarations shipped with the package.

``topics/topics.yaml`` at the top of the repository is the file people edit; the package links
to it from ``streamproc/kafka/resources/`` (a symlink, which the build follows), so that an
install has it too.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

__all__ = ["resource_path"]


def resource_path(name: str) -> Path:
    """The path of a resource shipped with ``streamproc.kafka`` (``topics.yaml``)."""
    path = Path(str(files("streamproc.kafka").joinpath("resources", name)))
    if not path.is_file():
        raise FileNotFoundError(f"streamproc resource missing from the installation: {path}")
    return path
