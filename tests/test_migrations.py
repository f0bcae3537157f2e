"""Migrations that move or rewrite rows, run on a database that has them: security events keep
their table, rows, content type and permissions when they move from the oauth app to their own;
whole names given by providers leave first_name; emails get their canonical form."""

from __future__ import annotations

import importlib
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


FILL = "accounts.migrations.0006_email_canonical_fill"


@pytest.fixture
def before_canonical_emails() -> Iterator[Any]:
    """Accounts as they were when lower(email) was unique, then migrated again afterwards."""
    executor = MigrationExecutor(connection)
    executor.migrate([("accounts", "0004_whole_names_from_providers")])
    try:
        executor.loader.build_graph()
        apps = executor.loader.project_state(("accounts", "0004_whole_names_from_providers")).apps
        yield apps.get_model("accounts", "User")
    finally:
        migrate_to_latest()


def test_canonical_emails_are_filled_in_batches_and_the_uncomparable_logged(
    before_canonical_emails: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(importlib.import_module(FILL), "BATCH", 2)
    emails = {
        "nick": "Nick@Site.EXAMPLE",
        "wide": "\uff4e\uff49\uff43\uff4b@site.example",  # lower() told it apart from nick@ too
        "jane": "jane@B\u00fccher.example",
        "quoted": '"quoted"@site.example',
        "none": "",
    }
    for username, email in emails.items():
        before_canonical_emails.objects.create(username=username, email=email)

    migrate_to_latest()

    assert dict(User.objects.values_list("username", "email_canonical")) == {
        "nick": "nick@site.example",
        "wide": "\uff4e\uff49\uff43\uff4b@site.example",
        "jane": "jane@xn--bcher-kva.example",
        "quoted": None,
        "none": None,
    }
    assert "1 accounts have an email that cannot be compared" in caplog.text
    assert "quoted" in caplog.text
    MigrationExecutor(connection).migrate([("accounts", "0004_whole_names_from_providers")])


def test_accounts_that_would_share_an_address_stop_the_migration_until_one_gives_it_up(
    before_canonical_emails: Any,
) -> None:
    """One domain in Unicode and as an A-label: lower() told them apart, the canonical form does
    not. Which account keeps the address is the operator's choice, so the migration stops."""
    unicode = before_canonical_emails.objects.create(username="u", email="jane@b\u00fccher.example")
    before_canonical_emails.objects.create(username="a", email="jane@xn--bcher-kva.example")

    with pytest.raises(RuntimeError, match=r"(?s)the same email address.*  u, a\n"):
        migrate_to_latest()
    before_canonical_emails.objects.filter(pk=unicode.pk).update(email="")
    migrate_to_latest()

    assert dict(User.objects.values_list("username", "email_canonical")) == {
        "u": None,
        "a": "jane@xn--bcher-kva.example",
    }
