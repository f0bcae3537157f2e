"""Settings come from the environment; production refuses to start without what it needs."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
# What production needs set: with these, the server starts.
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "x" * 50,
    "ISSUER": "https://auth.example.com",
    "EMAIL_HOST": "127.0.0.1",
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "SECRET_KEY", "ISSUER", "EMAIL_HOST"}
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_refuses_to_start_without_a_secret_key() -> None:
    result = manage("check", DEBUG="false", ISSUER="https://auth.example.com")

    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_production_refuses_to_start_without_an_issuer() -> None:
    result = manage("check", DEBUG="false", SECRET_KEY="x" * 50, EMAIL_HOST="127.0.0.1")

    assert result.returncode != 0
    assert "ISSUER is not set" in result.stderr


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DEBUG", "maybe"),
        ("ACCESS_TOKEN_LIFETIME", "ten"),
        ("ISSUER", "auth.example.com"),
        ("ACCESS_TOKEN_ALGORITHM", "HS256"),
        ("DATABASE_URL", "nonsense://"),
        ("LOG_LEVEL", "chatty"),
        ("ISSUER", "https://example.com/auth"),  # a path would be in every endpoint twice
        ("AUTHORIZATION_CODE_LIFETIME", str(10**12)),  # overflows the dates it is added to
        ("REFRESH_TOKEN_ABSOLUTE_LIFETIME", str(10**12)),
        ("REDIS_URL", "127.0.0.1:6379"),
        ("UPSTREAM_TIMEOUT", "11"),  # refused, never cut down to 10 without a word
        ("UPSTREAM_TIMEOUT", "0"),
        ("EMAIL_PORT", "smtp"),
        ("EMAIL_TIMEOUT", "600"),  # the person waits meanwhile
    ],
)
def test_bad_values_are_refused_with_the_settings_name(name: str, value: str) -> None:
    env = {"DEBUG": "true", name: value}
    result = manage("check", **env)

    assert result.returncode != 0
    assert name in result.stderr


def test_production_refuses_to_start_without_a_mail_server() -> None:
    result = manage("check", DEBUG="false", SECRET_KEY="x" * 50, ISSUER="https://auth.example.com")

    assert result.returncode != 0
    assert "EMAIL_HOST is not set" in result.stderr


def test_production_starts_with_the_required_settings() -> None:
    result = manage("check", **PRODUCTION)

    assert result.returncode == 0, result.stderr


def test_log_level_in_any_case_and_hsts_turned_off_with_zero() -> None:
    production = PRODUCTION
    result = manage(
        "shell", "-c", "from django.conf import settings as s; "
        "print(s.LOG_LEVEL, s.LOGGING['root']['level'], s.SECURE_HSTS_SECONDS)",
        LOG_LEVEL="warning", HSTS_SECONDS="0", **production,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].split() == ["WARNING", "WARNING", "0"]
    refused = manage("check", HSTS_SECONDS="-1", **production)
    assert refused.returncode != 0 and "HSTS_SECONDS must be at least 0" in refused.stderr


def test_the_issuer_has_one_spelling_and_its_https_turns_on_the_protections() -> None:
    show = "from django.conf import settings as s; print(s.ISSUER, s.SESSION_COOKIE_SECURE, " \
        "s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS > 0)"  # fmt: skip
    result = manage("shell", "-c", show, **{**PRODUCTION, "ISSUER": "HTTPS://Auth.Example.COM/"})

    assert result.stdout.splitlines()[-1].split() == ["https://auth.example.com"] + ["True"] * 4


def test_an_ipv6_issuer_is_an_allowed_host() -> None:
    show = "from django.conf import settings as s; print(s.ALLOWED_HOSTS)"
    result = manage("shell", "-c", show, **{**PRODUCTION, "ISSUER": "https://[2001:db8::1]"})

    assert result.stdout.splitlines()[-1] == "['[2001:db8::1]']"


def test_error_pages_and_reports_hide_urls_that_may_carry_passwords(settings: Any) -> None:
    from django.views.debug import get_default_exception_reporter_filter

    settings.DATABASE_URL = "postgres://app:hunter2@db.example/authserver"
    settings.REDIS_URL = "redis://:hunter2@cache.example/0"
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": settings.REDIS_URL}}

    shown = get_default_exception_reporter_filter().get_safe_settings()

    assert "hunter2" not in str(shown)


def test_deploy_check_warns_of_the_demo_app() -> None:
    production = PRODUCTION

    with_demo = manage("check", "--deploy", **production, DEMO_CLIENT="true")
    without = manage("check", "--deploy", **production, DEMO_CLIENT="false")

    assert "authserver.W002" in with_demo.stdout + with_demo.stderr
    assert "authserver.W002" not in without.stdout + without.stderr


def test_development_generates_a_secret_key_file_once(tmp_path: Path) -> None:
    from authserver.environment import development_secret_key

    path = tmp_path / ".secret_key"
    first = development_secret_key(path)

    assert len(first) >= 50
    assert development_secret_key(path) == first
    assert path.stat().st_mode & 0o777 == 0o600


def test_authlib_debug_logs_never_show_tokens() -> None:
    """authlib logs issued tokens at DEBUG; its logger is held at INFO whatever LOG_LEVEL is."""
    import logging

    assert logging.getLogger("authlib.oauth2.rfc6749.grants").getEffectiveLevel() >= logging.INFO


def test_the_redis_cache_keeps_its_client_between_operations(settings: Any) -> None:
    """Django's own Redis cache builds a client per operation; ours holds on to it."""
    if not settings.REDIS_URL:
        pytest.skip("REDIS_URL is not set")
    from django.core.cache import cache

    client = cache.client(write=True)
    cache.set("client-reuse", 1)

    assert cache.get("client-reuse") == 1
    assert cache.client(write=True) is client and cache.client() is client


def test_settings_read_the_environment_only_through_their_helpers() -> None:
    """One place decides how a value is read and refused (the env_* helpers of
    authserver/environment.py): a setting read straight from os.environ would skip the checks."""

    def environ_reads(tree: ast.AST) -> int:
        return sum(
            isinstance(node, ast.Attribute) and node.attr == "environ" for node in ast.walk(tree)
        )

    settings_module = ast.parse((ROOT / "authserver" / "settings.py").read_text())
    helpers = ast.parse((ROOT / "authserver" / "environment.py").read_text())
    readers = [
        function
        for function in ast.walk(helpers)
        if isinstance(function, ast.FunctionDef) and environ_reads(function)
    ]

    assert environ_reads(settings_module) == 0
    assert readers and all(function.name.startswith("env_") for function in readers)
    assert sum(environ_reads(function) for function in readers) == environ_reads(helpers)
