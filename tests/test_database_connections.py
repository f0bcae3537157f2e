"""Persistent database connections: one the server has closed (a restart, an administrator, an
idle timeout) is replaced before a request uses it, and one in good health is trusted without
the round trip of Django's `SELECT 1` (authserver/postgresql)."""

from __future__ import annotations

import select
from collections.abc import Callable, Iterator

import pytest
from django.db import connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper

from accounts.models import User
from tests.conftest import RegisteredClient
from tests.test_instances import eventually, instances, post, signed_in_session, tokens_from

__all__ = ["instances"]  # the fixture, imported for the end-to-end test

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="PostgreSQL's backend, and its server"
    ),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def second_connection() -> Iterator[BaseDatabaseWrapper]:
    """A persistent connection of its own, as a server process holds between requests."""
    wrapper = connections.create_connection("default")
    wrapper.ensure_connection()
    yield wrapper
    wrapper.close()


def backend_pid(wrapper: BaseDatabaseWrapper) -> int:
    return wrapper.connection.info.backend_pid  # type: ignore[no-any-return]


def last_statement(pid: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone()[0]  # type: ignore[no-any-return,index]


def gone(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone()[0] == 0  # type: ignore[index]


def terminate(pids: list[int]) -> None:
    """What a restart of the database does to its connections."""
    with connection.cursor() as cursor:
        for pid in pids:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    assert eventually(lambda: all(gone(pid) for pid in pids))


def something_to_read(wrapper: BaseDatabaseWrapper) -> bool:
    """Wait, up to five seconds, for the server to have sent something on the connection."""
    poller = select.poll()
    poller.register(wrapper.connection.fileno(), select.POLLIN)
    return bool(poller.poll(5000))


def test_a_healthy_connection_is_checked_without_a_round_trip(
    second_connection: BaseDatabaseWrapper,
) -> None:
    second_connection.connection.execute("SELECT 'the last statement'")
    assert second_connection.is_usable()
    assert last_statement(backend_pid(second_connection)) == "SELECT 'the last statement'"


def test_a_connection_the_server_closed_is_found_unusable_and_replaced(
    second_connection: BaseDatabaseWrapper,
) -> None:
    terminate([backend_pid(second_connection)])
    assert something_to_read(second_connection)  # the farewell, however far the server
    assert not second_connection.is_usable()

    second_connection.health_check_done = False
    second_connection.close_if_health_check_failed()
    with second_connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)


def test_a_connection_with_a_harmless_message_waiting_is_kept(
    second_connection: BaseDatabaseWrapper,
) -> None:
    second_connection.connection.execute("LISTEN deploys")
    with connection.cursor() as cursor:
        cursor.execute("NOTIFY deploys")
    assert something_to_read(second_connection)
    held = second_connection.connection

    second_connection.health_check_done = False
    second_connection.close_if_health_check_failed()
    assert second_connection.connection is held


def test_a_server_whose_database_restarted_answers_the_next_request(
    instances: tuple[str, str], user: User, make_client: Callable[..., RegisteredClient]
) -> None:
    first, _ = instances
    client = make_client(first_party=True)
    tokens = tokens_from(first, signed_in_session(first, user), client)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND backend_type = 'client backend'"
        )
        held = [pid for (pid,) in cursor.fetchall()]
    assert held  # the servers' persistent connections
    terminate(held)

    refreshed = post(
        first, "/oauth/token", client,
        grant_type="refresh_token", refresh_token=tokens["refresh_token"],
    )  # fmt: skip
    assert refreshed.status_code == 200, refreshed.text
