"""The Dockerfile, built for real: a Debian bookworm base made here with mmdebstrap (no registry
is reachable), imported with podman, built with buildah (chroot isolation: podman's own runtime
is refused on these machines), then `streamproc --version` and a worker inside the image that
joins the session's broker and answers /healthz, /readyz and /metrics.

The base tarball is cached in ~/.cache/streamproc/image and buildah keeps its layers: a cold run
takes about five minutes (mmdebstrap half a minute, apt, then pip and mypyc), a run after a
source change about four (the wheel stage again), a warm one under a minute (mostly the broker
and the worker starting).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from streamproc._paths import cache_dir
from streamproc.kafka import TopicDeclarations
from streamproc.local import free_port
from tests.ops._manifests import ROOT
from tests.ops.test_monitoring import _exported_names

# The first build (base, apt, pip, mypyc) takes minutes on a busy machine; later ones seconds.
pytestmark = [pytest.mark.kafka, pytest.mark.timeout(1800)]

BASE_TAG = "localhost/streamproc-test-base:bookworm"
IMAGE_TAG = "localhost/streamproc:test"
MIRROR = "http://deb.debian.org/debian"
HOST_CA = Path("/etc/ssl/certs/ca-certificates.crt")


def _tool(name: str) -> str:
    path = shutil.which(name)
    assert path, f"{name} is missing: scripts/dev.sh test installs it (ensure_test_packages)"
    return path


def _run(*args: str, timeout: float = 900) -> str:
    result = subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)
    assert result.returncode == 0, f"{args}:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return result.stdout


def _base_image() -> str:
    tarball = cache_dir() / "image" / "bookworm-minbase.tar"
    if not tarball.is_file():
        tarball.parent.mkdir(parents=True, exist_ok=True)
        partial = tarball.with_suffix(".partial.tar")
        _run(_tool("mmdebstrap"), "--variant=minbase", "--quiet", "bookworm", str(partial), MIRROR)
        partial.rename(tarball)
    podman = _tool("podman")
    exists = subprocess.run([podman, "image", "exists", BASE_TAG], check=False).returncode == 0
    if not exists:
        _run(podman, "import", "--quiet", str(tarball), BASE_TAG)
    return BASE_TAG


@pytest.fixture(scope="module")
def image() -> str:
    command = [
        _tool("buildah"), "bud", "--isolation", "chroot", "--layers", "--quiet",
        "--build-arg", f"BASE_IMAGE={_base_image()}",
        "--build-arg", f"REVISION={_git_revision()}",
        "--tag", IMAGE_TAG,
    ]  # fmt: skip
    if HOST_CA.is_file():
        # Behind a TLS-inspecting proxy pip needs the host's CA bundle (see the Dockerfile).
        command += [
            "-v",
            f"{HOST_CA}:/run/host-ca.crt:ro",
            "--build-arg",
            "PIP_CERT=/run/host-ca.crt",
        ]
    _run(*command, str(ROOT), timeout=1800)
    return IMAGE_TAG


def _git_revision() -> str:
    result = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    return result.stdout.strip() or "unknown"


@pytest.fixture
def container(image: str) -> Iterator[str]:
    buildah = _tool("buildah")
    name = _run(buildah, "from", "--quiet", image).strip()
    try:
        yield name
    finally:
        subprocess.run([buildah, "rm", name], capture_output=True, check=False)


def _inside(container: str, *args: str, env: dict[str, str] | None = None) -> list[str]:
    flags = [f"--env={k}={v}" for k, v in (env or {}).items()]
    return [_tool("buildah"), "run", "--isolation", "chroot", *flags, container, "--", *args]


def test_image_is_non_root_with_the_streamproc_entrypoint(image: str) -> None:
    config = json.loads(_run(_tool("buildah"), "inspect", "--type", "image", image))["OCIv1"]
    config = config["config"]
    assert config["User"] == "10001:10001"
    assert config["Entrypoint"] == ["streamproc"]
    labels = config["Labels"]
    for key in ("title", "version", "revision", "licenses", "base.name"):
        assert labels[f"org.opencontainers.image.{key}"], key
    assert labels["org.opencontainers.image.base.name"] == BASE_TAG


def test_version_reports_the_compiled_core(container: str) -> None:
    out = _run(*_inside(container, "streamproc", "--version"), timeout=120)
    assert "policy core: compiled with mypyc" in out, out
    # No compiler in the runtime image.
    probe = subprocess.run(
        _inside(container, "sh", "-c", "command -v gcc cc || echo none"),
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert probe.stdout.strip() == "none", probe.stdout


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_worker_in_the_image_becomes_ready_against_the_broker(
    container: str, kafka_bootstrap: str, kafka_topics: TopicDeclarations
) -> None:
    port = free_port()
    env = {
        "STREAMPROC_BROKER": kafka_bootstrap,
        "STREAMPROC_METRICS_PORT": str(port),
        "STREAMPROC_METRICS_ADDRESS": "127.0.0.1",
        "STREAMPROC_APP_ID": f"image-test-{os.getpid()}",
        "STREAMPROC_LOG_LEVEL": "INFO",
    }
    log = cache_dir() / "image" / "worker.log"
    with log.open("w") as out:
        worker = subprocess.Popen(
            _inside(container, "streamproc", "worker", "--instance-id", "image-test", env=env),
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        ready = (0, "")
        while time.monotonic() < deadline and worker.poll() is None:
            try:
                ready = _get(f"http://127.0.0.1:{port}/readyz")
            except OSError:
                ready = (0, "")
            if ready[0] == 200:
                break
            time.sleep(1)
        assert ready[0] == 200, f"not ready: {ready}; log:\n{log.read_text()[-3000:]}"
        assert _get(f"http://127.0.0.1:{port}/healthz")[0] == 200
        status, metrics = _get(f"http://127.0.0.1:{port}/metrics")
        assert status == 200
        # Families are listed (# TYPE) even before their first labelled sample.
        suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count")}
        families = [
            line.split()[2:4] for line in metrics.splitlines() if line.startswith("# TYPE ")
        ]
        # (Counters are typed under their _total name in the text format.)
        served = {name for name, _ in families} | {
            name + end for name, kind in families for end in suffixes.get(kind, ("",))
        }
        worker_names = {
            n
            for n in _exported_names()
            if not n.startswith(("streamproc_sink_", "streamproc_connect_", "streamproc_review_"))
        }
        assert worker_names <= served, sorted(worker_names - served)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=10)
