"""Fetch the Kafka broker jars with Maven into a cache outside the repository, once."""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from streamproc._paths import cache_dir
from streamproc.core._errors import StreamprocError
from streamproc.local._paths import kafka_version, resource_path


class KafkaFetchError(StreamprocError, RuntimeError):
    """Maven could not fetch the Kafka jars."""


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on *path* (created if needed) for the block."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def jars_dir(cache: Path | None = None) -> Path:
    """Where the jars of the packaged POM live (or will live) in the cache.

    Keyed by the Kafka version and a hash of the POM, so editing the POM (say, the logging
    versions) fetches afresh instead of reusing a stale set.
    """
    pom = resource_path("pom.xml").read_bytes()
    key = f"kafka-{kafka_version(pom.decode())}-{hashlib.sha256(pom).hexdigest()[:10]}"
    return (cache or cache_dir()) / key / "lib"


def _is_complete(lib: Path) -> bool:
    # The directory only ever appears through the final rename, so its presence means complete.
    return lib.is_dir() and any(lib.glob("kafka_2.13-*.jar"))


def ensure_kafka_jars(cache: Path | None = None, *, mvn: str = "mvn") -> Path:
    """Return the directory holding the broker's runtime jars, running Maven if not cached.

    Safe to call from several processes at once: a file lock serialises the fetch, and the
    result is moved into place with one rename, so nobody ever sees half a directory.
    """
    lib = jars_dir(cache)
    if _is_complete(lib):
        return lib
    final = lib.parent
    with file_lock(final.parent / f"{final.name}.lock"):
        if _is_complete(lib):  # another process fetched it while we waited
            return lib
        mvn_path = shutil.which(mvn)
        if mvn_path is None:
            raise KafkaFetchError(f"Maven ({mvn!r}) is not on PATH; install Maven 3.8 or newer")
        tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}-", dir=final.parent))
        try:
            # Maven runs on a copy: the packaged POM may sit in a read-only site-packages.
            pom = tmp / "pom.xml"
            shutil.copyfile(resource_path("pom.xml"), pom)
            _run_maven(mvn_path, pom, tmp / "lib")
            if not _is_complete(tmp / "lib"):
                raise KafkaFetchError(f"Maven finished but copied no Kafka jar into {tmp / 'lib'}")
            if final.exists():  # a leftover without lib/ (interrupted by hand): replace it
                shutil.rmtree(final)
            tmp.chmod(0o755)  # mkdtemp makes it private; the jars are not secret
            os.rename(tmp, final)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return lib


def _run_maven(mvn: str, pom: Path, out: Path) -> None:
    command = [
        mvn,
        "-q",
        "-B",
        "-Dstyle.color=never",
        "-f",
        str(pom),
        "dependency:copy-dependencies",
        f"-DoutputDirectory={out}",
        "-DincludeScope=runtime",
    ]
    result = subprocess.run(
        command, cwd=pom.parent, capture_output=True, text=True, stdin=subprocess.DEVNULL
    )
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip().splitlines()
        tail = "\n".join(output[-30:])
        raise KafkaFetchError(
            f"Maven failed (exit {result.returncode}) fetching the Kafka jars:\n"
            f"  {' '.join(command)}\n{tail}"
        )
