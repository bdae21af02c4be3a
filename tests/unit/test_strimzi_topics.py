"""``streamproc topics strimzi``: KafkaTopic resources from the declarations."""

from __future__ import annotations

import re

import pytest
import yaml

from streamproc.kafka import parse_declarations
from streamproc.kafka._strimzi import StrimziOptions, render_kafka_topics, resource_name

DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
DECLARATIONS = """
defaults: {partitions: 6, replication_factor: 1, configs: {min.insync.replicas: 1}}
topics:
  comments.facebook: {}
  streamproc-__assignor-__leader: {partitions: 1, configs: {cleanup.policy: compact}}
"""


def test_names_become_valid_object_names_and_keep_the_topic_name() -> None:
    assert resource_name("comments.facebook") == "comments.facebook"
    odd = resource_name("streamproc-__assignor-__leader")
    assert DNS_SUBDOMAIN.match(odd) and odd.startswith("streamproc-assignor-leader-")
    assert resource_name("a_b") != resource_name("a-b")


def test_replication_is_set_per_cluster() -> None:
    text = render_kafka_topics(
        parse_declarations(DECLARATIONS), StrimziOptions("prod", None, 3, 2), command="x"
    )
    docs = [d for d in yaml.safe_load_all(text) if d]
    assert [d["spec"]["topicName"] for d in docs] == [
        "comments.facebook",
        "streamproc-__assignor-__leader",
    ]
    for doc in docs:
        assert doc["metadata"]["labels"]["strimzi.io/cluster"] == "prod"
        assert doc["spec"]["replicas"] == 3
        assert doc["spec"]["config"]["min.insync.replicas"] == 2
    assert docs[1]["spec"]["partitions"] == 1
    assert docs[1]["spec"]["config"]["cleanup.policy"] == "compact"


def test_min_insync_above_replicas_is_refused() -> None:
    with pytest.raises(ValueError, match=re.escape("min.insync.replicas 2 > replicas 1")):
        render_kafka_topics(parse_declarations(DECLARATIONS), StrimziOptions("c", None, 1, 2))
