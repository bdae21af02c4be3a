"""``streamproc review``: the people's console. Cases from moderation.actions and
moderation.outcomes in a database (SQLite file or PostgreSQL, Alembic migrations), reviewed in a
server-rendered console; overturns and appeal answers go out on moderation.reviews."""

from streamproc.review._accounts import AccountError, Accounts, RateLimited
from streamproc.review._actions import ActionError, Actions
from streamproc.review._export import export_audit, export_cases
from streamproc.review._ingest import Ingestion, classify
from streamproc.review._metrics import ReviewMetrics
from streamproc.review._migrate import open_database
from streamproc.review._retention import Purged, purge_expired
from streamproc.review._service import run_review
from streamproc.review._settings import ReviewSettings
from streamproc.review._store import QUEUES, ROLES, Incoming, Store, can
from streamproc.review._web import make_app

__all__ = [
    "QUEUES",
    "ROLES",
    "AccountError",
    "Accounts",
    "ActionError",
    "Actions",
    "Incoming",
    "Ingestion",
    "Purged",
    "RateLimited",
    "ReviewMetrics",
    "ReviewSettings",
    "Store",
    "can",
    "classify",
    "export_audit",
    "export_cases",
    "make_app",
    "open_database",
    "purge_expired",
    "run_review",
]
