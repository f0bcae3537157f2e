"""The hot paths' hand-written statements (oauth/rows.py): they read what the ORM would
read, write what the ORM would write, and on PostgreSQL a token response's rows and its security
event are written all together or not at all."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import IntegrityError, connection
from django.forms.models import model_to_dict
from django.utils import timezone

from accounts.models import User
from events.models import SecurityEvent
from events.recording import Kind, security_event
from infra import rows as infra_rows
from oauth import rows, services
from oauth.hashing import generate_secret, secret_hash
from oauth.models import AuthorizationCode, Consent, Grant, RefreshToken
from tests.conftest import RegisteredClient


def fields(instance: Any) -> dict[str, Any]:
    return {field.attname: getattr(instance, field.attname) for field in instance._meta.fields}


def issued_events() -> int:
    return SecurityEvent.objects.filter(kind=Kind.TOKENS_ISSUED).count()


@pytest.fixture
def code(user: User, confidential_client: RegisteredClient) -> AuthorizationCode:
    return services.code_create(
        code="the-code", client=confidential_client.model, user=user,
        redirect_uri="https://app.example.com/callback", scope="openid profile",
        nonce="n-0S6", code_challenge="", code_challenge_method="",
        auth_time=int(timezone.now().timestamp()),
    )  # fmt: skip


def exchange(code: AuthorizationCode, refresh_token: str | None = "first") -> Grant:
    return services.code_exchange(code=code, grant_id=Grant().id, refresh_token=refresh_token)


def rotate(old: RefreshToken, new_token: str) -> None:
    """Rotate `old` (issued as "first") as the token endpoint does, keeping an answer."""
    services.refresh_token_rotate(
        old=old, client=old.grant.client, new_token=new_token, refresh_token="first",
        answer=b'{"refresh_token": "%s"}' % new_token.encode(),
    )  # fmt: skip


def test_an_inserted_row_is_the_row_save_would_write(code: AuthorizationCode) -> None:
    twin = AuthorizationCode(**{**fields(code), "id": None, "code_hash": secret_hash("twin")})
    twin.save(force_insert=True)

    inserted, saved = (fields(AuthorizationCode.objects.get(pk=each.pk)) for each in (code, twin))
    assert code.pk is not None and not code._state.adding and fields(code) == inserted
    assert {**inserted, "id": None, "code_hash": None} == {**saved, "id": None, "code_hash": None}


def test_a_person_is_read_as_the_orm_reads_them(user: User) -> None:
    found = infra_rows.one(User, id=str(user.pk))

    assert found is not None and model_to_dict(found) == model_to_dict(user)
    assert infra_rows.one(User, id=str(uuid.uuid4())) is None


def test_a_consent_is_read_as_the_orm_reads_it(
    user: User, confidential_client: RegisteredClient, make_client: Callable[..., RegisteredClient]
) -> None:
    services.consent_grant(user=user, client=confidential_client.model, scope="openid email")

    found = rows.consent(user.pk, confidential_client.model.pk)

    assert found is not None
    assert fields(found) == fields(Consent.objects.get(user=user))
    assert found.covers("email") and not found.covers("profile")
    assert rows.consent(user.pk, make_client().model.pk) is None


def test_a_code_is_read_with_its_person(code: AuthorizationCode, user: User) -> None:
    found = rows.code_with_grant(secret_hash("the-code"), code.client_id)

    assert found is not None
    assert fields(found) == fields(AuthorizationCode.objects.get(pk=code.pk))
    assert fields(found.user) == fields(user) and found.issued_grant is None


def test_a_used_code_is_read_with_the_grant_it_started(code: AuthorizationCode) -> None:
    grant = exchange(code)

    found = rows.code_with_grant(secret_hash("the-code"), code.client_id)

    assert found is not None and found.issued_grant is not None
    assert fields(found.issued_grant) == fields(Grant.objects.get(pk=grant.pk))


def test_a_code_of_another_client_is_not_found(
    code: AuthorizationCode, make_client: Callable[..., RegisteredClient]
) -> None:
    assert rows.code_with_grant(secret_hash("the-code"), make_client().model.pk) is None
    assert rows.code_with_grant(secret_hash("another-code"), code.client_id) is None


def test_a_refresh_token_is_read_with_its_grant_and_person(
    code: AuthorizationCode, user: User
) -> None:
    grant = exchange(code)

    found = rows.refresh_token_with_grant(secret_hash("first"))

    assert found is not None
    assert fields(found) == fields(RefreshToken.objects.get(grant=grant))
    assert fields(found.grant) == fields(Grant.objects.get(pk=grant.pk))
    assert model_to_dict(found.grant.user) == model_to_dict(user)
    assert rows.refresh_token_with_grant(secret_hash("unknown")) is None


def test_starting_a_grant_writes_the_grant_its_token_and_the_event(
    code: AuthorizationCode,
) -> None:
    grant = exchange(code)

    stored = Grant.objects.get()
    assert fields(stored) == fields(grant) and stored.authorization_code_id == code.pk
    token = RefreshToken.objects.get()
    assert token.token_hash == secret_hash("first") and token.used_at is None
    assert token.expires_at <= stored.expires_at
    event = SecurityEvent.objects.get(kind=Kind.TOKENS_ISSUED)
    assert (event.kind, event.user_id, event.client_id) == (
        Kind.TOKENS_ISSUED, code.user_id, code.client_id,
    )  # fmt: skip
    assert event.detail == {"grant": str(grant.id), "scope": "openid profile"}


def test_a_grant_without_refresh_token_writes_only_the_grant_and_event(
    code: AuthorizationCode,
) -> None:
    exchange(code, refresh_token=None)

    assert Grant.objects.count() == 1 and issued_events() == 1
    assert not RefreshToken.objects.exists()


def test_a_code_starts_one_grant_and_a_second_start_writes_nothing(
    code: AuthorizationCode,
) -> None:
    exchange(code)
    now = timezone.now()
    second = Grant(
        user_id=code.user_id, client_id=code.client_id, scope=code.scope,
        auth_time=code.auth_time, expires_at=now + timedelta(days=1), authorization_code=code,
    )  # fmt: skip
    token = RefreshToken(token_hash=secret_hash("second"), grant=second, expires_at=now)
    event = security_event(Kind.TOKENS_ISSUED, user_id=code.user_id, client_id=code.client_id)

    assert rows.grant_start(second, token, event) is False
    assert Grant.objects.count() == 1 and RefreshToken.objects.count() == 1
    assert issued_events() == 1


def test_rotation_marks_the_token_used_and_adds_its_successor(code: AuthorizationCode) -> None:
    grant = exchange(code)
    old = rows.refresh_token_with_grant(secret_hash("first"))
    assert old is not None

    rotate(old, "second")

    assert RefreshToken.objects.get(pk=old.pk).used_at is not None
    successor = RefreshToken.objects.get(token_hash=secret_hash("second"))
    assert successor.grant_id == grant.id and successor.used_at is None
    event = SecurityEvent.objects.filter(kind=Kind.TOKENS_REFRESHED).get()
    assert event.detail == {"grant": str(grant.id)} and event.client_id == code.client_id


def test_a_token_used_meanwhile_is_not_rotated_again(code: AuthorizationCode) -> None:
    exchange(code)
    old = rows.refresh_token_with_grant(secret_hash("first"))
    assert old is not None
    rotate(old, "second")
    successor = RefreshToken(
        token_hash=secret_hash("third"), grant=old.grant, expires_at=timezone.now()
    )
    event = security_event(Kind.TOKENS_REFRESHED, client_id=code.client_id)

    assert rows.refresh_token_rotate(old, successor, event, None) is False  # read before use
    assert not RefreshToken.objects.filter(token_hash=secret_hash("third")).exists()
    assert SecurityEvent.objects.filter(kind=Kind.TOKENS_REFRESHED).count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="one statement on PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_a_failing_write_leaves_the_code_unused_and_nothing_behind(
    code: AuthorizationCode,
) -> None:
    """Outside a transaction, as in production: the statement itself is all or nothing."""
    now = timezone.now()
    grant = Grant(
        user_id=code.user_id, client_id=code.client_id, scope=code.scope,
        auth_time=code.auth_time, expires_at=now + timedelta(days=1), authorization_code=code,
    )  # fmt: skip
    token = RefreshToken(token_hash=secret_hash(generate_secret()), grant=grant, expires_at=now)
    broken = security_event(Kind.TOKENS_ISSUED, client_id=2**31 - 1)  # no such client

    with pytest.raises(IntegrityError):
        rows.grant_start(grant, token, broken)

    assert not Grant.objects.exists() and not RefreshToken.objects.exists()
    assert issued_events() == 0
    found = rows.code_with_grant(code.code_hash, code.client_id)
    assert found is not None and found.issued_grant is None
