"""PostgreSQL, with a health check of persistent connections that costs no round trip.

Django checks a reused connection at the start of every request that touches the database, by
sending `SELECT 1` and waiting for the answer: a round trip as dear as one of the token
endpoint's own statements, on every token request. A connection at rest has nothing to read,
unless the server has closed it (a restart, `pg_terminate_backend`, `idle_session_timeout`):
then its farewell or the end of the stream is waiting on the socket. So the socket is looked at
first, without waiting, and only a connection with something to read gets Django's full check,
which reads what was there and fails if the server has gone. (A connection cut without a word,
by a firewall say, shows nothing on its socket; `SELECT 1` would wait on it as long as the
request's own statement will. Nor is a farewell still on its way over the network seen: the
request's statement then fails, once.)
"""

from __future__ import annotations

import select

import psycopg
from django.db.backends.postgresql import base
from psycopg import pq


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed:
            return False
        if connection.info.transaction_status != pq.TransactionStatus.IDLE:
            return bool(super().is_usable())  # mid-transaction: only a statement can tell
        try:
            poller = select.poll()  # not select(), which fails on descriptors above 1023
            poller.register(connection.fileno(), select.POLLIN)
            waiting = poller.poll(0)
        except (OSError, ValueError, psycopg.Error):
            return False
        return not waiting or bool(super().is_usable())
