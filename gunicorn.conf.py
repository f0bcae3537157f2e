"""gunicorn's settings for this server: every worker's metrics counted together.

prometheus_client keeps each worker's counts in files of PROMETHEUS_MULTIPROC_DIR, and a
scrape of /metrics sums them. The directory must be set before the workers import the
application, empty when the server starts (files of an earlier run would be summed in), and
the files of a worker that exits must be marked dead. Without PROMETHEUS_MULTIPROC_DIR in the
environment, a fresh directory is made for this server.

Other options are given on the command line as usual (docs/operating.md); gunicorn reads this
file from the directory it starts in, or with `--config gunicorn.conf.py`.
"""

from __future__ import annotations

import glob
import os
import shutil
import tempfile
from typing import Any

from prometheus_client import multiprocess

MADE_HERE = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if MADE_HERE:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="authserver-metrics-")


def on_starting(server: Any) -> None:
    """Start counting from zero: the counts an earlier run left (its *.db files) go."""
    directory = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    os.makedirs(directory, exist_ok=True)
    for left in glob.glob(os.path.join(directory, "*.db")):
        os.remove(left)


def child_exit(server: Any, worker: Any) -> None:
    """A worker that exits (a restart, --max-requests): its live gauges leave the sums."""
    multiprocess.mark_process_dead(worker.pid)


def on_exit(server: Any) -> None:
    """A directory made for this server goes with it."""
    if MADE_HERE:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
