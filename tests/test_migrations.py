"""Migrations that move or rewrite rows, run on a database that has them: security events keep
their table, rows, content type and permissions when they move from the oauth app to their own;
whole names given by providers leave first_name."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.apps.registry import Apps
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from accounts.models import SocialIdentity, User
from events.models import SecurityEvent

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [
    ("oauth", "0005_hash_indexes"),
    ("events", None),
    ("accounts", "0002_social_identities"),
]


@pytest.fixture
def old_schema() -> Iterator[Apps]:
    """The database as it was before this layout: the models as those migrations knew them.
    Afterwards the database is migrated to the latest state again, whatever happened."""
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    try:
        executor.loader.build_graph()
        yield executor.loader.project_state([node for node in BEFORE if node[1]]).apps
    finally:
        migrate_to_latest()


def migrate_to_latest() -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_security_events_move_to_their_own_app_with_their_rows_and_permissions(
    old_schema: Apps,
) -> None:
    person = old_schema.get_model("accounts", "User").objects.create(username="jane")
    client = old_schema.get_model("oauth", "Client").objects.create(name="Printer")
    event = old_schema.get_model("oauth", "SecurityEvent").objects.create(
        kind="sign_in", user=person, client=client, ip_address="192.0.2.1",
        user_agent="Firefox", detail={"method": "password"},
    )  # fmt: skip
    content_types = old_schema.get_model("contenttypes", "ContentType")
    permissions = old_schema.get_model("auth", "Permission")
    event_type, _ = content_types.objects.get_or_create(app_label="oauth", model="securityevent")
    viewing, _ = permissions.objects.get_or_create(
        content_type=event_type, codename="view_securityevent", name="Can view security event"
    )
    auditors = old_schema.get_model("auth", "Group").objects.create(name="Auditors")
    auditors.permissions.add(viewing)

    migrate_to_latest()

    moved = SecurityEvent.objects.get(pk=event.pk)
    assert (moved.kind, moved.user_id, moved.client_id, moved.ip_address) == (
        "sign_in", person.pk, client.pk, "192.0.2.1",
    )  # fmt: skip
    assert moved.detail == {"method": "password"} and moved.actor is None
    assert ContentType.objects.get_for_model(SecurityEvent).pk == event_type.pk
    kept = Group.objects.get(name="Auditors").permissions.get()
    assert (kept.pk, kept.content_type.app_label) == (viewing.pk, "events")


def test_whole_names_providers_gave_leave_first_name_and_come_back(old_schema: Apps) -> None:
    users = old_schema.get_model("accounts", "User")
    identities = old_schema.get_model("accounts", "SocialIdentity")

    def made_through(provider: str, name: str, raw: dict[str, Any], **fields: Any) -> Any:
        user = users.objects.create(
            username=f"{provider}-{len(name)}", first_name=name, password="!unusable", **fields
        )
        identities.objects.create(
            user=user, provider=provider, uid=user.username, name=name, raw_profile=raw
        )
        return user

    google = made_through(
        "google", "Jane Doe",
        {"id_token": {"given_name": "Jane", "family_name": "Doe"}, "userinfo": {}},
    )  # fmt: skip
    kakao = made_through("kakao", "홍길동", {"id": 1})
    renamed = made_through("naver", "Old Name", {})
    identities.objects.filter(user=renamed).update(name="New Name")  # a later sign-in's name
    with_password = made_through("naver", "Alice", {})
    users.objects.filter(pk=with_password.pk).update(password="argon2$a-real-hash")

    migrate_to_latest()

    names = {
        user.pk: (user.name, user.first_name, user.last_name, user.get_full_name())
        for user in User.objects.all()
    }
    assert names[google.pk] == ("Jane Doe", "Jane", "Doe", "Jane Doe")
    assert names[kakao.pk] == ("홍길동", "", "", "홍길동")
    assert names[renamed.pk] == ("Old Name", "", "", "Old Name")
    assert names[with_password.pk] == ("", "Alice", "", "Alice")  # a name the person typed
    assert SocialIdentity.objects.count() == 4

    MigrationExecutor(connection).migrate([("accounts", "0003_whole_names")])

    back = {user.pk: (user.first_name, user.last_name) for user in users.objects.all()}
    assert back[google.pk] == ("Jane Doe", "") and back[kakao.pk] == ("홍길동", "")
