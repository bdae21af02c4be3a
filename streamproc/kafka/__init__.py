"""Talking to a Kafka cluster: connection settings, the admin client, topics as code, topology.

Nothing in ``streamproc.core`` imports this package. Running Kafka on one machine (the embedded
broker) is :mod:`streamproc.local`'s business.
"""

from streamproc.kafka._admin import admin_client
from streamproc.kafka._declarations import (
    DeclarationError,
    TopicDeclaration,
    TopicDeclarations,
    load_declarations,
    parse_declarations,
)
from streamproc.kafka._diagnose import (
    KafkaAuthenticationError,
    KafkaUnavailableError,
    check_connection,
)
from streamproc.kafka._paths import resource_path
from streamproc.kafka._settings import (
    DEFAULT_BROKER,
    KafkaSettings,
    KafkaSettingsError,
)
from streamproc.kafka._topics import (
    ApplyReport,
    ClusterTopic,
    Difference,
    TopicAction,
    TopicResult,
    apply,
    cluster_topics,
)
from streamproc.kafka._topology import COMMENT_PREFIX, DEFAULT_APP_ID, Topology, topology

__all__ = [
    "COMMENT_PREFIX",
    "DEFAULT_APP_ID",
    "DEFAULT_BROKER",
    "ApplyReport",
    "ClusterTopic",
    "DeclarationError",
    "Difference",
    "KafkaAuthenticationError",
    "KafkaSettings",
    "KafkaSettingsError",
    "KafkaUnavailableError",
    "TopicAction",
    "TopicDeclaration",
    "TopicDeclarations",
    "TopicResult",
    "Topology",
    "admin_client",
    "apply",
    "check_connection",
    "cluster_topics",
    "load_declarations",
    "parse_declarations",
    "resource_path",
    "topology",
]
