"""streamproc: moderate an institution's social media comments against its published policy.

The policy core (``streamproc.core``) is pure: no Kafka, asyncio or network. The services (the
worker, the connectors, the sink, the review console) are thin layers around it, each a
``streamproc`` subcommand; ``streamproc.local`` runs them all on one machine.

Every exception streamproc raises on purpose derives from :class:`StreamprocError`.
"""

from streamproc._version import __version__
from streamproc.core._errors import StreamprocError

__all__ = ["StreamprocError", "__version__"]
