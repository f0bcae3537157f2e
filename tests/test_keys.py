"""Signing keys: rotation without downtime, the JWKS through a key's life, encryption at rest."""

from __future__ import annotations

import time
from collections.abc import Callable
from io import StringIO
from typing import Any

import jwt as pyjwt
import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command
from django.db import OperationalError
from django.test import Client as HttpClient

from oauth import keys
from oauth.models import SigningKey
from tests.conftest import RegisteredClient


def kid_of(token: str) -> str:
    return pyjwt.get_unverified_header(token)["kid"]


def claims_of(token: str) -> dict[str, Any]:
    return pyjwt.decode(token, options={"verify_signature": False})


def published(browser: HttpClient) -> list[str]:
    return [key["kid"] for key in browser.get("/oauth/jwks").json()["keys"]]


def rotate() -> str:
    out = StringIO()
    call_command("rotatekeys", stdout=out)
    return out.getvalue()


def test_rotation_activates_a_new_key_and_keeps_the_old_one_published(
    exchange: Callable[..., dict[str, Any]],
    confidential_client: RegisteredClient,
    browser: HttpClient,
) -> None:
    before = exchange(confidential_client)
    old_kid = kid_of(before["access_token"])

    output = rotate()
    after = exchange(confidential_client)

    new_kid = kid_of(after["access_token"])
    assert new_kid != old_kid
    assert f"key {new_kid} is now active" in output
    assert f"key {old_kid} is retired" in output
    states = dict(SigningKey.objects.values_list("kid", "state"))
    assert states[old_kid] == SigningKey.State.RETIRED
    assert states[new_kid] == SigningKey.State.ACTIVE
    assert list(states.values()).count(SigningKey.State.NEXT) == 1  # published ahead of use
    assert {old_kid, new_kid} <= set(published(browser))
    # Tokens signed before the rotation keep working until they expire.
    for token in (before["access_token"], after["access_token"]):
        response = browser.get("/api/me", HTTP_AUTHORIZATION=f"Bearer {token}")
        assert response.status_code == 200


@pytest.mark.parametrize("rotations_before", [0, 1])
def test_next_key_is_published_before_it_signs(
    exchange: Callable[..., dict[str, Any]],
    confidential_client: RegisteredClient,
    browser: HttpClient,
    rotations_before: int,
) -> None:
    """The first rotation too: the first key comes with its successor already published."""
    exchange(confidential_client)
    for _ in range(rotations_before):
        rotate()
    upcoming = SigningKey.objects.get(state=SigningKey.State.NEXT).kid
    assert upcoming in published(browser)

    rotate()

    assert kid_of(exchange(confidential_client)["access_token"]) == upcoming


def test_retired_key_leaves_the_jwks_when_its_last_token_has_expired(
    exchange: Callable[..., dict[str, Any]],
    confidential_client: RegisteredClient,
    browser: HttpClient,
) -> None:
    old = exchange(confidential_client)
    before = time.time()
    rotate()
    after = time.time()  # the key was retired in between, however slow the machine
    # Its last token may be signed by a process that notices the rotation a little late.
    longest = max(settings.ACCESS_TOKEN_LIFETIME, settings.ID_TOKEN_LIFETIME)
    window = longest + settings.SHARED_CACHE_CHECK_INTERVAL

    with time_machine.travel(claims_of(old["access_token"])["exp"] - 1):
        response = browser.get("/api/me", HTTP_AUTHORIZATION=f"Bearer {old['access_token']}")
        assert response.status_code == 200
    with time_machine.travel(before + window - 1):
        assert kid_of(old["access_token"]) in published(browser)
    with time_machine.travel(after + window + 1):
        assert kid_of(old["access_token"]) not in published(browser)


def test_a_token_signed_just_before_a_process_noticed_the_rotation_lives_its_whole_life(
    exchange: Callable[..., dict[str, Any]],
    confidential_client: RegisteredClient,
    browser: HttpClient,
) -> None:
    old_kid = kid_of(exchange(confidential_client)["access_token"])
    stale, stale_stamp = keys.key_ring(), keys.keys_stamp.seen
    rotate()  # through another process: this one has not looked at the stamp yet
    keys._holder.ring = stale
    keys.keys_stamp.seen, keys.keys_stamp.checked_at = stale_stamp, time.monotonic()

    with time_machine.travel(time.time() + settings.SHARED_CACHE_CHECK_INTERVAL - 1):
        late = exchange(confidential_client)["access_token"]
    assert kid_of(late) == old_kid
    keys.key_ring_forget()  # the process catches up

    with time_machine.travel(claims_of(late)["exp"] - 1):
        response = browser.get("/api/me", HTTP_AUTHORIZATION=f"Bearer {late}")
    assert response.status_code == 200


def test_a_failed_reload_of_the_keys_is_tried_again_by_the_next_request(
    exchange: Callable[..., dict[str, Any]],
    confidential_client: RegisteredClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    exchange(confidential_client)
    stale, stale_stamp = keys.key_ring(), keys.keys_stamp.seen
    activated, _ = keys.signing_key_rotate(algorithm="RS256")  # through another process
    keys._holder.ring, keys.keys_stamp.seen = stale, stale_stamp
    load = keys.KeyRing.load

    def database_gone(cls: type[keys.KeyRing]) -> keys.KeyRing:
        raise OperationalError("the database went away for a moment")

    monkeypatch.setattr(keys.KeyRing, "load", classmethod(database_gone))
    with pytest.raises(OperationalError):
        keys.key_ring(recheck=True)
    monkeypatch.setattr(keys.KeyRing, "load", load)

    assert keys.key_ring().signing["RS256"].kid == activated.kid


def test_a_process_with_stale_keys_picks_up_a_rotation_without_restart(
    exchange: Callable[..., dict[str, Any]],
    confidential_client: RegisteredClient,
    browser: HttpClient,
    settings: Any,
) -> None:
    settings.SHARED_CACHE_CHECK_INTERVAL = 3600
    exchange(confidential_client)
    stale, stale_stamp = keys.key_ring(), keys.keys_stamp.seen
    rotate()  # as if through another process: this one gets its old view back below
    fresh_token = exchange(confidential_client)["access_token"]
    keys._holder.ring = stale
    keys.keys_stamp.seen, keys.keys_stamp.checked_at = stale_stamp, time.monotonic()

    response = browser.get("/api/me", HTTP_AUTHORIZATION=f"Bearer {fresh_token}")

    assert response.status_code == 200  # the unknown kid made it look at the stamp again


def test_private_keys_are_encrypted_with_the_configured_key(db: None, settings: Any) -> None:
    settings.SIGNING_KEY_ENCRYPTION_KEY = "first"
    stored = keys.signing_key_create(algorithm="RS256")
    assert keys.signing_key_private(stored).kid == stored.kid

    settings.SIGNING_KEY_ENCRYPTION_KEY = "second"
    with pytest.raises(Exception, match="cannot be decrypted"):
        keys.signing_key_private(stored)


def test_rotating_one_algorithm(db: None) -> None:
    out = StringIO()
    call_command("rotatekeys", "--algorithm", "ES256", stdout=out)

    assert SigningKey.objects.get(state=SigningKey.State.ACTIVE).algorithm == "ES256"
    assert "ES256: key" in out.getvalue()


def test_one_rotation_recovers_from_a_changed_encryption_key(
    exchange: Callable[..., dict[str, Any]],
    confidential_client: RegisteredClient,
    browser: HttpClient,
    settings: Any,
) -> None:
    settings.SIGNING_KEY_ENCRYPTION_KEY = "the first one"
    before = exchange(confidential_client)["access_token"]
    unreadable_next = SigningKey.objects.get(state=SigningKey.State.NEXT).kid
    settings.SIGNING_KEY_ENCRYPTION_KEY = "another one"  # SECRET_KEY changed, say
    keys.key_ring_forget()
    with pytest.raises(Exception, match="cannot be decrypted"):
        exchange(confidential_client)
    # Only signing stops: the keys are published and tokens already issued still verify.
    assert kid_of(before) in published(browser)
    assert browser.get("/api/me", HTTP_AUTHORIZATION=f"Bearer {before}").status_code == 200

    rotate()
    after = exchange(confidential_client)["access_token"]

    assert kid_of(after) != unreadable_next  # the next key was passed over, not activated
    states = dict(SigningKey.objects.values_list("kid", "state"))
    assert states[unreadable_next] == SigningKey.State.RETIRED
    assert keys.signing_key_readable(SigningKey.objects.get(state=SigningKey.State.NEXT))
    for token in (before, after):  # the old key's tokens still verify by its public part
        assert browser.get("/api/me", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200


def test_an_unreadable_key_of_an_algorithm_not_in_use_does_not_stop_signing(
    exchange: Callable[..., dict[str, Any]],
    confidential_client: RegisteredClient,
    settings: Any,
) -> None:
    settings.SIGNING_KEY_ENCRYPTION_KEY = "the first one"
    keys.signing_key_create(algorithm="ES256", state=SigningKey.State.ACTIVE)
    exchange(confidential_client)
    settings.SIGNING_KEY_ENCRYPTION_KEY = "another one"
    rotate()  # the algorithms in use only
    keys.key_ring_forget()

    assert "ES256" not in keys.key_ring().signing
    assert kid_of(exchange(confidential_client)["access_token"])


def test_rotating_without_a_shared_cache_says_running_servers_will_not_notice(
    db: None, settings: Any
) -> None:
    settings.REDIS_URL = ""
    err = StringIO()
    call_command("rotatekeys", stdout=StringIO(), stderr=err)

    assert "until they restart" in err.getvalue()
