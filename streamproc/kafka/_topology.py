"""The topology: which channels exist, what every topic is called, how they are partitioned.

Read from the topic declarations (``topics/topics.yaml``), the one place they are written: the
channels are the ``comments.<channel>`` topics, in file order; the comment topics must all have
the same partition count (the strikes table is co-partitioned with them); Faust's own topics
are declared for the default app id and renamed for another one.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from streamproc.kafka._declarations import DeclarationError, TopicDeclarations, load_declarations

__all__ = ["COMMENT_PREFIX", "DEFAULT_APP_ID", "Topology", "topology"]

COMMENT_PREFIX = "comments."
DEFAULT_APP_ID = "streamproc"


@dataclass(frozen=True)
class Topology:
    """Names and partitions of every topic, from one declarations file."""

    declarations: TopicDeclarations
    actions: str = "moderation.actions"
    dead_letters: str = "moderation.deadletter"
    policy: str = "moderation.policy"
    reviews: str = "moderation.reviews"

    def __post_init__(self) -> None:
        names = set(self.declarations.names)
        for role, name in (
            ("actions", self.actions),
            ("dead letters", self.dead_letters),
            ("policy", self.policy),
            ("reviews", self.reviews),
        ):
            if name not in names:
                raise DeclarationError(self.declarations.source, 0, 0, f"no {role} topic {name!r}")
        if not self.channels:
            raise DeclarationError(self.declarations.source, 0, 0, "no comments.<channel> topic")
        counts = {self.partitions_of(topic) for topic in self.worker_inputs}
        if len(counts) != 1:
            raise DeclarationError(
                self.declarations.source,
                0,
                0,
                "the comment topics and the reviews topic must have one partition count, "
                f"not {sorted(counts)}",
            )

    @property
    def channels(self) -> tuple[str, ...]:
        """Every channel, in the order of the declarations."""
        return tuple(
            name.removeprefix(COMMENT_PREFIX)
            for name in self.declarations.names
            if name.startswith(COMMENT_PREFIX)
        )

    @property
    def comment_topics(self) -> tuple[str, ...]:
        return tuple(self.comment_topic(channel) for channel in self.channels)

    @property
    def worker_inputs(self) -> tuple[str, ...]:
        """What the worker consumes in its group: the comments, and the reviews of people
        (co-partitioned with them, for the strikes)."""
        return (*self.comment_topics, self.reviews)

    def comment_topic(self, channel: str) -> str:
        return COMMENT_PREFIX + channel

    @property
    def partitions(self) -> int:
        """Partitions of every comment topic (and of the strikes table's changelog)."""
        return self.partitions_of(self.comment_topics[0])

    @property
    def comment_partitions(self) -> int:
        """Comment-topic partitions in all: the most workers that can share the work."""
        return self.partitions * len(self.channels)

    def partitions_of(self, topic: str) -> int:
        declared = self.declarations.get(topic)
        if declared is None:
            raise KeyError(f"{topic!r} is not declared in {self.declarations.source}")
        return declared.partitions

    def changelog(self, table: str, app_id: str = DEFAULT_APP_ID) -> str:
        """The changelog topic of a worker table (Faust's name for it)."""
        return f"{app_id}-{table}-changelog"

    def app_topics(self, app_id: str) -> dict[str, str]:
        """Faust's own topics, declared for the default app id: declared name -> this app's."""
        prefix = DEFAULT_APP_ID + "-"
        return {
            name: app_id + "-" + name.removeprefix(prefix)
            for name in self.declarations.names
            if name.startswith(prefix)
        }


@cache
def topology() -> Topology:
    """The topology of the packaged ``topics.yaml``."""
    return Topology(load_declarations())
