"""A pack as files: read from a directory, or bundled into one JSON document for the policy
topic, and fingerprinted.

A pack is read into a mapping of relative path -> text first, so that the same code loads a
pack from a directory, from a bundle published on Kafka, or from a test's dictionary.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Final

import orjson

from streamproc.core._policy import PackError, PackIssue

__all__ = [
    "BUNDLE_FORMAT",
    "DEFAULT_PACK_PATH",
    "bundle_pack",
    "digest",
    "read_pack_files",
    "unbundle_pack",
]

DEFAULT_PACK_PATH: Final = Path(__file__).resolve().parent.parent / "packs" / "default"
BUNDLE_FORMAT: Final = "streamproc.pack/1"


def read_pack_files(path: str | Path) -> dict[str, str]:
    """Every text file of the pack directory at ``path``, by relative POSIX path."""
    root = Path(path)
    if not root.is_dir():
        raise PackError([PackIssue(str(root), 0, "not a directory")])
    files: dict[str, str] = {}
    for file in sorted(root.rglob("*")):
        if file.is_file() and file.suffix in (".yaml", ".yml", ".txt", ".md"):
            rel = file.relative_to(root).as_posix()
            try:
                files[rel] = file.read_text(encoding="utf-8")
            except UnicodeDecodeError as exc:
                raise PackError([PackIssue(rel, 0, f"not UTF-8 text: {exc}")]) from None
    return files


def bundle_pack(files: Mapping[str, str]) -> bytes:
    """A pack as one JSON document, for the compacted policy topic."""
    return orjson.dumps({"format": BUNDLE_FORMAT, "files": dict(sorted(files.items()))})


def unbundle_pack(data: bytes) -> dict[str, str]:
    """The files of a bundle made by :func:`bundle_pack`; raises PackError if malformed."""
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise PackError([PackIssue("<bundle>", 0, f"not JSON: {exc}")]) from None
    if not isinstance(doc, dict):
        raise PackError([PackIssue("<bundle>", 0, "not a streamproc.pack/1 bundle")])
    files = doc.get("files")
    if doc.get("format") != BUNDLE_FORMAT or not isinstance(files, dict):
        raise PackError([PackIssue("<bundle>", 0, "not a streamproc.pack/1 bundle")])
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in files.items()):
        raise PackError([PackIssue("<bundle>", 0, "bundle files must map names to text")])
    return files


def digest(files: Mapping[str, str]) -> str:
    h = hashlib.sha256()
    for name in sorted(files):
        h.update(name.encode())
        h.update(b"\0")
        h.update(files[name].encode())
        h.update(b"\0")
    return h.hexdigest()
