"""Kafka plumbing outside the pure core: connection settings, topics as code, the local broker.

Nothing in ``streamproc.core`` imports this package.
"""

from streamproc.kafka._admin import KafkaUnavailableError, admin_client
from streamproc.kafka._broker import DEFAULT_PORT, BrokerError, BrokerStatus, LocalBroker
from streamproc.kafka._declarations import (
    DeclarationError,
    TopicDeclaration,
    TopicDeclarations,
    load_declarations,
    parse_declarations,
)
from streamproc.kafka._jars import KafkaFetchError, ensure_kafka_jars
from streamproc.kafka._paths import cache_dir, default_broker_dir, resource_path
from streamproc.kafka._process import free_port
from streamproc.kafka._settings import (
    DEFAULT_BROKER,
    KafkaSettings,
    KafkaSettingsError,
)
from streamproc.kafka._topics import (
    Action,
    ApplyReport,
    ClusterTopic,
    Difference,
    TopicResult,
    apply,
    cluster_topics,
)

__all__ = [
    "DEFAULT_BROKER",
    "DEFAULT_PORT",
    "Action",
    "ApplyReport",
    "BrokerError",
    "BrokerStatus",
    "ClusterTopic",
    "DeclarationError",
    "Difference",
    "KafkaFetchError",
    "KafkaSettings",
    "KafkaSettingsError",
    "KafkaUnavailableError",
    "LocalBroker",
    "TopicDeclaration",
    "TopicDeclarations",
    "TopicResult",
    "admin_client",
    "apply",
    "cache_dir",
    "cluster_topics",
    "default_broker_dir",
    "ensure_kafka_jars",
    "free_port",
    "load_declarations",
    "parse_declarations",
    "resource_path",
]
