"""The pure policy core: normalize, match, validate, decide. No Kafka, asyncio or network.

Everything a caller needs is re-exported here; the underscored modules are private.
"""

from importlib.machinery import EXTENSION_SUFFIXES

from streamproc.core import _engine
from streamproc.core._engine import Analysis, Engine
from streamproc.core._hours import ModerationHours
from streamproc.core._matcher import Found, Matcher
from streamproc.core._models import (
    ACTIONS,
    CATEGORIES,
    CHANNELS,
    COMMENT_KINDS,
    LEXICON_CATEGORIES,
    MAX_ID_CHARS,
    PII_KINDS,
    ROLES,
    Author,
    Comment,
    CommentError,
    Decision,
    Escalation,
    Match,
    Platform,
    PlatformIds,
    decode_comment,
    validate_comment,
)
from streamproc.core._normalize import OffsetMap, fold_char, normalize, plain_form
from streamproc.core._pack import (
    DEFAULT_PACK_PATH,
    CategoryPolicy,
    Ladder,
    LexiconEntry,
    PackError,
    PackIssue,
    PolicyPack,
    bundle_pack,
    check_pack,
    load_pack,
    parse_pack,
    read_pack_files,
    unbundle_pack,
)
from streamproc.core._pii import PiiFound, find_pii
from streamproc.core._strikes import MemoryStrikeStore, StrikeStore, record_strike

COMPILED: bool = _engine.__file__.endswith(tuple(EXTENSION_SUFFIXES))
"""Whether this install runs the core compiled with mypyc (see setup.py) or as pure Python."""

__all__ = [
    "ACTIONS",
    "CATEGORIES",
    "CHANNELS",
    "COMMENT_KINDS",
    "COMPILED",
    "DEFAULT_PACK_PATH",
    "LEXICON_CATEGORIES",
    "MAX_ID_CHARS",
    "PII_KINDS",
    "ROLES",
    "Analysis",
    "Author",
    "CategoryPolicy",
    "Comment",
    "CommentError",
    "Decision",
    "Engine",
    "Escalation",
    "Found",
    "Ladder",
    "LexiconEntry",
    "Match",
    "Matcher",
    "MemoryStrikeStore",
    "ModerationHours",
    "OffsetMap",
    "PackError",
    "PackIssue",
    "PiiFound",
    "Platform",
    "PlatformIds",
    "PolicyPack",
    "StrikeStore",
    "bundle_pack",
    "check_pack",
    "decode_comment",
    "find_pii",
    "fold_char",
    "load_pack",
    "normalize",
    "parse_pack",
    "plain_form",
    "read_pack_files",
    "record_strike",
    "unbundle_pack",
    "validate_comment",
]
