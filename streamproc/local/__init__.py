"""Everything that exists only to run streamproc on one machine: the embedded Kafka broker
(KRaft, from the Maven jars), service processes for the demo, the benchmarks and the tests, and
the demo itself (with its platform loop), and local stand-ins for the platforms' APIs
(``streamproc.local.platforms``, used by the tests and the demo). Nothing a deployment uses
imports this package.
"""

from streamproc.local._broker import DEFAULT_PORT, BrokerError, BrokerStatus, LocalBroker
from streamproc.local._jars import KafkaFetchError, ensure_kafka_jars
from streamproc.local._paths import default_broker_dir
from streamproc.local._process import free_port
from streamproc.local._promtext import (
    histogram_buckets,
    histogram_quantile,
    metric_total,
    parse_metrics,
)
from streamproc.local._services import (
    ChildProcess,
    ServiceProcess,
    WorkerProcess,
    service_env,
    streamproc_command,
)
from streamproc.local._tls import BrokerSecurity, TlsSetupError

__all__ = [
    "DEFAULT_PORT",
    "BrokerError",
    "BrokerSecurity",
    "BrokerStatus",
    "ChildProcess",
    "KafkaFetchError",
    "LocalBroker",
    "ServiceProcess",
    "TlsSetupError",
    "WorkerProcess",
    "default_broker_dir",
    "ensure_kafka_jars",
    "free_port",
    "histogram_buckets",
    "histogram_quantile",
    "metric_total",
    "parse_metrics",
    "service_env",
    "streamproc_command",
]
