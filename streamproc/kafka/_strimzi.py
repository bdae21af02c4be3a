"""Strimzi ``KafkaTopic`` resources generated from the topic declarations (``topics.yaml``).

The declarations stay the one source: a cluster run by the Strimzi topic operator gets the same
topics, partitions and configs as ``streamproc topics apply`` creates, with the replication a
cluster of several brokers wants (``replicas`` and ``min.insync.replicas`` set per cluster).
The files under ``deploy/k8s`` are written by ``streamproc topics strimzi`` and checked for
staleness by the tests.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

import yaml

from streamproc.kafka._declarations import TopicDeclaration, TopicDeclarations

__all__ = ["StrimziOptions", "kafka_topic", "render_kafka_topics", "resource_name"]

STRIMZI_API_VERSION = "kafka.strimzi.io/v1beta2"
CLUSTER_LABEL = "strimzi.io/cluster"
_NOT_DNS = re.compile(r"[^a-z0-9.-]+")


@dataclass(frozen=True)
class StrimziOptions:
    """What differs between clusters; ``None`` keeps the declared value."""

    cluster: str
    namespace: str | None = None
    replication_factor: int | None = None
    min_insync_replicas: int | None = None


def resource_name(topic: str) -> str:
    """A Kubernetes object name (DNS-1123 subdomain) for a topic; ``spec.topicName`` keeps the
    real name. A name that had to change gets a digest of the original, so two topics can
    never map to one resource."""
    name = _NOT_DNS.sub("-", topic.lower())
    name = re.sub(r"-{2,}", "-", name).strip(".-")
    if name != topic:
        name = f"{name[:240]}-{hashlib.sha256(topic.encode()).hexdigest()[:8]}"
    return name


def _config_value(value: str) -> int | str:
    # Strimzi passes values through; numbers read as numbers in the manifests.
    return int(value) if value.isdigit() else value


def kafka_topic(declaration: TopicDeclaration, options: StrimziOptions) -> dict[str, Any]:
    configs: dict[str, str] = dict(declaration.configs)
    if options.min_insync_replicas is not None:
        configs["min.insync.replicas"] = str(options.min_insync_replicas)
    replicas = options.replication_factor or declaration.replication_factor
    metadata: dict[str, Any] = {
        "name": resource_name(declaration.name),
        "labels": {CLUSTER_LABEL: options.cluster, "app.kubernetes.io/part-of": "streamproc"},
    }
    if options.namespace:
        metadata["namespace"] = options.namespace
    return {
        "apiVersion": STRIMZI_API_VERSION,
        "kind": "KafkaTopic",
        "metadata": metadata,
        "spec": {
            "topicName": declaration.name,
            "partitions": declaration.partitions,
            "replicas": replicas,
            "config": {k: _config_value(v) for k, v in sorted(configs.items())},
        },
    }


def render_kafka_topics(
    declarations: TopicDeclarations, options: StrimziOptions, command: str = ""
) -> str:
    """Every declared topic as one multi-document YAML stream, with a header saying where it
    comes from and the command that regenerates it."""
    for declaration in declarations:
        replicas = options.replication_factor or declaration.replication_factor
        insync = options.min_insync_replicas or int(
            declaration.configs.get("min.insync.replicas", "1")
        )
        if insync > replicas:
            raise ValueError(
                f"{declaration.name}: min.insync.replicas {insync} > replicas {replicas}: "
                "no write could ever be acknowledged"
            )
    header = ["# Generated from topics/topics.yaml: do not edit."]
    if command:
        header.append(f"# Regenerate: {command}")
    documents = [
        yaml.safe_dump(kafka_topic(d, options), sort_keys=False, default_flow_style=False)
        for d in declarations
    ]
    return "\n".join(header) + "\n---\n" + "---\n".join(documents)
