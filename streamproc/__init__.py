"""streamproc: moderate an institution's social media comments against its published policy.

The policy core (``streamproc.core``) is pure: no Kafka, asyncio or network. The batch command,
the Faust worker, the local broker and the metrics are thin layers around it.
"""

from streamproc._version import __version__

__all__ = ["__version__"]
