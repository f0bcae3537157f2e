"""`make run` keeps its data in SQLite when no DATABASE_URL is set, so the flows must work there
too, although CI runs the suite on PostgreSQL. The modules that drive the flows and the
hand-written statements (oauth/rows.py) run again here, on SQLite."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FLOWS = [
    "tests/test_end_to_end.py",
    "tests/test_authorization_request.py",
    "tests/test_consent.py",
    "tests/test_sign_in_demands.py",
    "tests/test_code_exchange.py",
    "tests/test_refresh_rotation.py",
    "tests/test_refresh_retry.py",
    "tests/test_rows.py",
    "tests/test_pages.py",
]


def test_the_flows_work_on_sqlite() -> None:
    if not os.environ.get("DATABASE_URL"):
        pytest.skip("this whole run is on SQLite already")
    environment = {name: value for name, value in os.environ.items() if name != "DATABASE_URL"}

    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *FLOWS],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=600,
    )  # fmt: skip

    assert run.returncode == 0, run.stdout[-4000:]
