"""The Kubernetes manifests: both overlays render, validate against the Kubernetes schemas, and
keep the promises deploy/README.md makes (probes, limits, non-root, spread, disruption budgets,
network policies, graceful stop, static membership, scaling capped at the partitions)."""

from __future__ import annotations

import dataclasses
import shlex
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
from click.testing import CliRunner

from streamproc.cli import main
from streamproc.kafka import load_declarations, topology
from streamproc.sink._settings import SinkSettings
from streamproc.worker._settings import WorkerSettings
from tests.ops._manifests import OVERLAYS, ROOT, of_kind, rendered

SERVICES = {
    "streamproc-worker": 9464,
    "streamproc-connect": 8080,
    "streamproc-sink": 9466,
    "streamproc-review": 9467,
}
# What may come in (the scrape, webhooks, the console) and go out (DNS, Kafka, the platforms'
# HTTPS APIs, PostgreSQL), per service.
INGRESS = {
    "streamproc-worker": {9464},
    "streamproc-connect": {8080},
    "streamproc-sink": {9466},
    "streamproc-review": {8470, 9467},
}
EGRESS = {
    "streamproc-worker": {53, 9093},
    "streamproc-connect": {53, 9093, 443},
    "streamproc-sink": {53, 9093, 443},
    "streamproc-review": {53, 9093, 5432},
}
KUBERNETES_VERSION = "1.32"
# Custom resources: their operators' kinds, checked structurally below.
CUSTOM_KINDS = {"KafkaTopic", "KafkaUser", "ScaledObject", "TriggerAuthentication", "PodMonitor"}


def _default(settings: type, name: str) -> Any:
    return {f.name: f for f in dataclasses.fields(settings)}[name].default


def _container(deployment: dict[str, Any]) -> dict[str, Any]:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_core_object_validates_against_the_kubernetes_schemas(overlay: str) -> None:
    objects = rendered(overlay)
    kinds = {o["kind"] for o in objects}
    assert {"Deployment", "PodDisruptionBudget", "NetworkPolicy", "ConfigMap"} <= kinds
    for obj in objects:
        if obj["kind"] in CUSTOM_KINDS:
            continue
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
    assert all(o["metadata"]["namespace"] == f"streamproc-{overlay}" for o in objects)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_service_has_probes_limits_and_a_locked_down_pod(overlay: str) -> None:
    deployments = of_kind(overlay, "Deployment")
    assert set(deployments) == set(SERVICES)
    for name, port in SERVICES.items():
        pod = deployments[name]["spec"]["template"]["spec"]
        container = _container(deployments[name])
        assert container["image"].startswith("registry.example.org/streamproc:")
        probes = {
            kind: (container[kind]["httpGet"]["path"], container[kind]["httpGet"]["port"])
            for kind in ("livenessProbe", "readinessProbe")
        }
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        assert probes["livenessProbe"][0] == "/healthz", name
        assert probes["readinessProbe"][0] == "/readyz", name
        assert {ports[p] for _, p in probes.values()} == {port}, name
        assert set(container["resources"]) == {"requests", "limits"}
        for part in ("requests", "limits"):
            assert set(container["resources"][part]) == {"cpu", "memory"}, name
        security = container["securityContext"]
        assert security["readOnlyRootFilesystem"] is True
        assert security["allowPrivilegeEscalation"] is False
        assert security["capabilities"]["drop"] == ["ALL"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        mounts = {m["mountPath"] for m in container["volumeMounts"]}
        assert {"/tmp", "/var/lib/streamproc"} <= mounts, "writable places on a read-only root"
        assert pod["automountServiceAccountToken"] is False
        spread = pod["topologySpreadConstraints"]
        assert all(
            c["labelSelector"]["matchLabels"] == {"app.kubernetes.io/name": name} for c in spread
        )
        assert pod["terminationGracePeriodSeconds"] > 0


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_worker_stops_within_its_grace_and_joins_statically_by_pod_name(overlay: str) -> None:
    worker = of_kind(overlay, "Deployment")["streamproc-worker"]
    container = _container(worker)
    config = of_kind(overlay, "ConfigMap")["streamproc-config"]["data"]
    env = {e["name"]: e for e in container["env"]}
    shutdown = float(
        env.get("STREAMPROC_SHUTDOWN_TIMEOUT", {}).get("value")
        or config.get("STREAMPROC_SHUTDOWN_TIMEOUT")
        or _default(WorkerSettings, "shutdown_timeout")
    )
    grace = worker["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    # The worker gives up by itself after `shutdown`; Kubernetes must not SIGKILL it earlier.
    assert shutdown + 5 <= grace <= shutdown + 30
    args = container["args"]
    assert args[:1] == ["worker"]
    assert args[args.index("--instance-id") + 1] == "$(POD_NAME)"
    assert env["POD_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    # The sink joins statically too.
    sink = _container(of_kind(overlay, "Deployment")["streamproc-sink"])
    sink_env = {e["name"]: e for e in sink["env"]}
    assert sink_env["STREAMPROC_SINK_INSTANCE_ID"]["value"] == "$(POD_NAME)"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_disruption_budgets_and_network_policies_cover_every_service(overlay: str) -> None:
    budgets = of_kind(overlay, "PodDisruptionBudget")
    policies = of_kind(overlay, "NetworkPolicy")
    for name in SERVICES:
        selector = {"app.kubernetes.io/name": name}
        assert budgets[name]["spec"]["selector"]["matchLabels"] == selector
        policy = policies[name]["spec"]
        assert policy["podSelector"]["matchLabels"] == selector
        assert sorted(policy["policyTypes"]) == ["Egress", "Ingress"]
        ingress_ports = {p["port"] for rule in policy["ingress"] for p in rule["ports"]}
        assert ingress_ports == INGRESS[name], name
        egress_ports = {p["port"] for rule in policy["egress"] for p in rule["ports"]}
        assert egress_ports == EGRESS[name], name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_no_secret_values_in_the_manifests(overlay: str) -> None:
    objects = rendered(overlay)
    assert not [o for o in objects if o["kind"] == "Secret"]
    for deployment in of_kind(overlay, "Deployment").values():
        for env in _container(deployment).get("env", []):
            if any(w in env["name"] for w in ("PASSWORD", "TOKEN", "SECRET", "DATABASE")):
                assert "value" not in env, env["name"]
                assert "secretKeyRef" in env["valueFrom"]
    config = of_kind(overlay, "ConfigMap")["streamproc-config"]["data"]
    assert not [k for k in config if any(w in k for w in ("PASSWORD", "TOKEN", "SECRET"))]


def _regenerate(path: Path, tmp_path: Path) -> str:
    header = path.read_text(encoding="utf-8").splitlines()[1]
    assert header.startswith("# Regenerate: streamproc topics strimzi ")
    args = shlex.split(header.removeprefix("# Regenerate: streamproc "))
    output = args.index("--output") + 1
    assert (ROOT / args[output]).resolve() == path.resolve()
    args[output] = str(tmp_path / "topics.yaml")
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return (tmp_path / "topics.yaml").read_text(encoding="utf-8")


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_generated_kafka_topics_are_current(overlay: str, tmp_path: Path) -> None:
    path = ROOT / "deploy" / "k8s" / "overlays" / overlay / "kafka-topics.yaml"
    # The header names its own output file; what follows must be what the command writes now.
    fresh = _regenerate(path, tmp_path).splitlines()[2:]
    assert path.read_text(encoding="utf-8").splitlines()[2:] == fresh, (
        f"{path} is stale: run the command in its header"
    )


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_kafka_topics_match_the_declarations(overlay: str) -> None:
    topics = {t["spec"]["topicName"]: t["spec"] for t in of_kind(overlay, "KafkaTopic").values()}
    declared = {d.name: d for d in load_declarations()}
    assert set(topics) == set(declared)
    for name, spec in topics.items():
        assert spec["partitions"] == declared[name].partitions
        configs = {k: str(v) for k, v in spec["config"].items()}
        assert {k: v for k, v in configs.items() if k != "min.insync.replicas"} == {
            k: v for k, v in declared[name].configs.items() if k != "min.insync.replicas"
        }
        assert int(configs["min.insync.replicas"]) < spec["replicas"]
        if overlay == "production":
            assert spec["replicas"] == 3
            assert configs["min.insync.replicas"] == "2"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_lag_scaling_is_capped_at_the_partitions(overlay: str) -> None:
    scaled = of_kind(overlay, "ScaledObject")
    config = of_kind(overlay, "ConfigMap")["streamproc-config"]["data"]
    groups = {
        "streamproc-worker": (_default(WorkerSettings, "app_id"), topology().partitions),
        "streamproc-sink": (
            _default(SinkSettings, "group_id"),
            topology().partitions_of("moderation.actions"),
        ),
    }
    assert set(scaled) == set(groups)
    for name, (group, partitions) in groups.items():
        spec = scaled[name]["spec"]
        assert spec["scaleTargetRef"]["name"] == name
        assert 1 <= spec["minReplicaCount"] <= spec["maxReplicaCount"] <= partitions
        (trigger,) = spec["triggers"]
        assert trigger["type"] == "kafka"
        assert trigger["metadata"]["consumerGroup"] == group
        assert trigger["metadata"]["bootstrapServers"] == config["STREAMPROC_BROKER"]
        assert trigger["metadata"]["allowIdleConsumers"] == "false"
        auth = of_kind(overlay, "TriggerAuthentication")[trigger["authenticationRef"]["name"]]
        assert {"password", "ca"} <= {r["parameter"] for r in auth["spec"]["secretTargetRef"]}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_kafka_users_grant_only_declared_topics(overlay: str) -> None:
    users = of_kind(overlay, "KafkaUser")
    assert set(users) == set(SERVICES)
    names = load_declarations().names
    for user in users.values():
        for acl in user["spec"]["authorization"]["acls"]:
            resource = acl["resource"]
            assert "All" not in acl["operations"] and "Create" not in acl["operations"]
            if resource["type"] != "topic":
                continue
            if resource["patternType"] == "literal":
                assert resource["name"] in names, resource
            else:
                assert any(n.startswith(resource["name"]) for n in names), resource
