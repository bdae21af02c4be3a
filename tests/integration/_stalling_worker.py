"""``streamproc worker`` with one fault added, for ``test_idle_member.py``.

Once the file named by ``$STREAMPROC_TEST_STALL_FLAG`` appears (the worker removes it), the
worker's consumer stops (while a file of that name with ``-always`` added exists, it stops
again each time it is resumed) the way a rebalance leaves it until Faust's recovery resumes it: flow
stopped and every assigned partition paused. Nothing resumes them here, as nothing does when
the recovery returns early; the worker stays a member of its group, heartbeating, holding its
partitions and reading none of them. Everything else is the real worker on the real broker.

    python tests/integration/_stalling_worker.py worker [options]
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import streamproc.worker as worker_package
from streamproc.cli import main

real_create_app = worker_package.create_app


def create_app(*args: Any, **kwargs: Any) -> Any:
    app = real_create_app(*args, **kwargs)
    flag = Path(os.environ["STREAMPROC_TEST_STALL_FLAG"])
    always = flag.with_name(flag.name + "-always")

    @app.timer(interval=0.2)
    async def stall_on_request() -> None:
        consumer = app.consumer
        if flag.exists():
            flag.unlink()
        elif not (always.exists() and consumer.flow_active and not app.in_recovery):
            return
        consumer.stop_flow()
        consumer.pause_partitions(consumer.assignment())

    return app


if __name__ == "__main__":
    worker_package.create_app = create_app  # run_worker looks it up when it runs
    sys.argv = ["streamproc", *sys.argv[1:]]
    main()
