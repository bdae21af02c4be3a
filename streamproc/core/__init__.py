"""The pure policy core: normalize, match, validate, decide. No Kafka, asyncio or network.

Everything a caller needs is re-exported here; the underscored modules are private.
"""

import json
from importlib.machinery import EXTENSION_SUFFIXES as _EXTENSION_SUFFIXES
from pathlib import Path as _Path

from streamproc.core import _engine
from streamproc.core._decode import decode_comment, validate_comment
from streamproc.core._engine import Analysis, Engine
from streamproc.core._errors import StreamprocError
from streamproc.core._hours import ModerationHours
from streamproc.core._matcher import Found, Matcher
from streamproc.core._models import (
    ACTIONS,
    CATEGORIES,
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
)
from streamproc.core._normalize import OffsetMap, fold_char, normalize, plain_form
from streamproc.core._pace import pausing
from streamproc.core._pack import PackCheck, check_pack, inspect_pack, load_pack, parse_pack
from streamproc.core._packfiles import (
    DEFAULT_PACK_PATH,
    bundle_pack,
    read_pack_files,
    unbundle_pack,
)
from streamproc.core._pii import PiiFound, find_pii
from streamproc.core._policy import (
    CategoryPolicy,
    Ladder,
    LexiconEntry,
    PackError,
    PackIssue,
    PolicyPack,
)
from streamproc.core._strikes import (
    MemoryStrikeStore,
    StrikeStore,
    overturn_strike,
    record_strike,
    strike_key,
)

COMPILED: bool = _engine.__file__.endswith(tuple(_EXTENSION_SUFFIXES))
"""Whether this install runs the core compiled with mypyc (see setup.py) or as pure Python."""


def _core_build() -> str:
    """How this install runs the core, and why (for ``--version`` and the services' logs)."""
    if COMPILED:
        return "compiled with mypyc"
    note = _Path(__file__).with_name("_build.json")
    try:
        reason = json.loads(note.read_text()).get("reason")
    except (OSError, ValueError, AttributeError):
        return "pure Python (an editable install, or STREAMPROC_PURE_PYTHON=1)"
    return f"pure Python: {reason}" if reason else "pure Python (STREAMPROC_PURE_PYTHON=1)"


CORE_BUILD: str = _core_build()
"""``compiled with mypyc``, or ``pure Python`` and why (a failed compilation says what failed)."""
COMPILE_FAILED: bool = CORE_BUILD.startswith("pure Python: ")

__all__ = [
    "ACTIONS",
    "CATEGORIES",
    "COMMENT_KINDS",
    "COMPILED",
    "COMPILE_FAILED",
    "CORE_BUILD",
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
    "PackCheck",
    "PackError",
    "PackIssue",
    "PiiFound",
    "Platform",
    "PlatformIds",
    "PolicyPack",
    "StreamprocError",
    "StrikeStore",
    "bundle_pack",
    "check_pack",
    "decode_comment",
    "find_pii",
    "fold_char",
    "inspect_pack",
    "load_pack",
    "normalize",
    "overturn_strike",
    "parse_pack",
    "pausing",
    "plain_form",
    "read_pack_files",
    "record_strike",
    "strike_key",
    "unbundle_pack",
    "validate_comment",
]
