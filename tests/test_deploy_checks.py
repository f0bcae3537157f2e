"""`manage.py check --deploy`: quiet on production settings, and our own checks refuse an
http issuer or DEBUG, and warn when there is no shared cache."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import pytest

from tests.test_settings import manage

PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ISSUER": "https://auth.example.com",
    "REDIS_URL": "redis://127.0.0.1:6379/1",
    "EMAIL_HOST": "127.0.0.1",
}


@pytest.fixture(autouse=True)
def empty_database(tmp_path: Path) -> None:
    """A database of the checks' own: the one DATABASE_URL names may hold keys that `make run`
    encrypted with the development secret, which the production SECRET_KEY cannot read."""
    PRODUCTION["DATABASE_URL"] = f"sqlite:///{tmp_path / 'empty.sqlite3'}"


def test_check_deploy_passes_on_production_settings() -> None:
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)

    assert result.returncode == 0, result.stderr + result.stdout


def test_plain_http_issuer_is_refused_in_production() -> None:
    result = manage("check", **{**PRODUCTION, "ISSUER": "http://auth.example.com"})

    assert result.returncode != 0
    assert "refusing to serve OAuth over plain http" in result.stderr


def test_check_deploy_refuses_debug() -> None:
    result = manage("check", "--deploy", **{**PRODUCTION, "DEBUG": "true"})

    assert result.returncode != 0
    assert "authserver.E001" in result.stderr + result.stdout


def test_id_tokens_signed_other_than_rs256_are_warned_about() -> None:
    result = manage("check", "--deploy", **{**PRODUCTION, "ID_TOKEN_ALGORITHM": "ES256"})

    assert "authserver.W003" in result.stderr + result.stdout


def test_a_missing_shared_cache_is_warned_about() -> None:
    env = {key: value for key, value in PRODUCTION.items() if key != "REDIS_URL"}

    result = manage("check", "--deploy", REDIS_URL="", **env)

    assert "authserver.W001" in result.stderr + result.stdout


def test_signing_keys_that_no_longer_decrypt_are_refused_until_rotated(tmp_path: Path) -> None:
    """SECRET_KEY changed while SIGNING_KEY_ENCRYPTION_KEY was unset: nothing could be signed
    while the server looks healthy. check --deploy says so; one rotatekeys mends it. Keys of an
    algorithm not in use are never decrypted, so they are no error."""
    before = {
        **PRODUCTION,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "REDIS_URL": os.environ.get("REDIS_URL", ""),
    }
    after = {**before, "SECRET_KEY": secrets.token_urlsafe(50)}
    for command in (["migrate"], ["rotatekeys"], ["rotatekeys", "--algorithm", "ES256"]):
        assert manage(*command, **before).returncode == 0

    refused = manage("check", "--deploy", **after)
    assert refused.returncode != 0
    assert "authserver.E003" in refused.stderr + refused.stdout

    assert manage("rotatekeys", **after).returncode == 0
    mended = manage("check", "--deploy", **after)
    assert "authserver.E003" not in mended.stderr + mended.stdout
    assert mended.returncode == 0, mended.stderr + mended.stdout
