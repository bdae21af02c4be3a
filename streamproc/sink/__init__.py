"""The sink: decisions (moderation.actions) carried out on the platforms exactly once, with
what was done recorded on moderation.outcomes."""

from streamproc.sink._client import Capabilities, PlatformClient, Target
from streamproc.sink._errors import AlreadyDone, CannotList, Permanent, PlatformError, Transient
from streamproc.sink._ledger import TERMINAL, OutcomeLedger
from streamproc.sink._plan import Step, plan_decision, plan_review
from streamproc.sink._ratelimit import DailyQuota, RateGate, meta_usage_wait, x_rate_limit_wait
from streamproc.sink._service import build_clients, run_sink
from streamproc.sink._settings import SinkSettings

__all__ = [
    "TERMINAL",
    "AlreadyDone",
    "CannotList",
    "Capabilities",
    "DailyQuota",
    "OutcomeLedger",
    "Permanent",
    "PlatformClient",
    "PlatformError",
    "RateGate",
    "SinkSettings",
    "Step",
    "Target",
    "Transient",
    "build_clients",
    "meta_usage_wait",
    "plan_decision",
    "plan_review",
    "run_sink",
    "x_rate_limit_wait",
]
