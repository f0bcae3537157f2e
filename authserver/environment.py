"""Reading settings from the environment: one helper per kind of value, each refusing a bad or
out-of-range value with ImproperlyConfigured (naming the variable) instead of clamping it or
failing later. authserver/settings.py reads every setting through these."""

from __future__ import annotations

import os
import secrets
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from django.core.exceptions import ImproperlyConfigured


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}.")


# Ten years: longer lifetimes overflow the dates they are added to.
LONGEST_LIFETIME = 10 * 365 * 24 * 3600


def env_int(name: str, default: int, *, minimum: int = 1, maximum: int | None = None) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.") from None
    if number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {number}.")
    if maximum is not None and number > maximum:
        raise ImproperlyConfigured(f"{name} must be at most {maximum}, not {number}.")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_networks(name: str) -> list[IPv4Network | IPv6Network]:
    """Comma-separated addresses or networks (10.0.0.0/8, ::1)."""
    try:
        return [ip_network(item, strict=False) for item in env_list(name, [])]
    except ValueError as error:
        raise ImproperlyConfigured(f"{name} must list IP networks: {error}") from None


def env_words(name: str) -> list[str]:
    """A space-separated list, as providers show keys and ids to copy (empty when unset)."""
    return os.environ.get(name, "").split()


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, "").strip() or default


def env_rate(name: str, default: str) -> tuple[int, int]:
    """A limit written "count/seconds", such as "5/900"."""
    value = os.environ.get(name, "").strip() or default
    count, _, seconds = value.partition("/")
    if not (count.isdigit() and seconds.isdigit() and int(count) > 0 and int(seconds) > 0):
        raise ImproperlyConfigured(f"{name} must look like 5/900 (count/seconds), not {value!r}.")
    return int(count), int(seconds)


def env_choice(
    name: str, default: str, choices: tuple[str, ...], *, upper: bool = False, lower: bool = False
) -> str:
    value = os.environ.get(name, "").strip() or default
    value = value.upper() if upper else value.lower() if lower else value
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}, not {value!r}.")
    return value


def development_secret_key(path: Path) -> str:
    """A random key generated once per checkout, so sessions survive restarts in development."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        key = secrets.token_urlsafe(50)
        path.write_text(key + "\n")
        path.chmod(0o600)
        return key


def issuer_from_env(debug: bool) -> str:
    issuer = env_str("ISSUER")
    if not issuer:
        if debug:
            return "http://127.0.0.1:8000"
        raise ImproperlyConfigured(
            "ISSUER is not set. Set it to the public https URL of this server, "
            "for example ISSUER=https://auth.example.com"
        )
    parts = urlsplit(issuer)
    if parts.scheme not in {"http", "https"} or not parts.hostname or parts.query or parts.fragment:
        raise ImproperlyConfigured(
            f"ISSUER must be an absolute http(s) URL without query or fragment, not {issuer!r}."
        )
    if parts.path.strip("/"):
        # Endpoint URLs are the issuer followed by their paths: served under a prefix, the
        # prefix would be in both.
        raise ImproperlyConfigured(
            f"ISSUER must be the server's origin, without a path, not {issuer!r}: serve it on a "
            "host of its own (auth.example.com)."
        )
    if parts.scheme == "http" and not debug and parts.hostname not in LOOPBACK_NAMES:
        raise ImproperlyConfigured(
            f"ISSUER is {issuer!r}: refusing to serve OAuth over plain http with DEBUG off. "
            "Use the https URL (behind a TLS proxy, also set TRUST_X_FORWARDED_PROTO=true)."
        )
    # Issuers are compared as strings (OIDC Discovery §4.3): one spelling, with the scheme and
    # host in lower case (HTTPS://Auth.Example.com is https://auth.example.com).
    return urlunsplit((parts.scheme, parts.netloc.lower(), parts.path.rstrip("/"), "", ""))


LOOPBACK_NAMES = {"127.0.0.1", "::1", "localhost"}


def host_pattern(hostname: str | None) -> str:
    """A host as ALLOWED_HOSTS names it: an IPv6 address in brackets, as in a Host header."""
    return f"[{hostname}]" if hostname and ":" in hostname else hostname or ""


def email_backend(host: str, debug: bool) -> str:
    """SMTP when a mail server is named; the console in development; in production, no start
    without one (sign-up and password reset send mail)."""
    if host:
        return "django.core.mail.backends.smtp.EmailBackend"
    if debug:
        return "django.core.mail.backends.console.EmailBackend"
    raise ImproperlyConfigured(
        "EMAIL_HOST is not set. Refusing to start with DEBUG off and no mail server: sign-up "
        "and password reset send mail. Set EMAIL_HOST (and EMAIL_PORT, EMAIL_HOST_USER, "
        "EMAIL_HOST_PASSWORD, EMAIL_USE_TLS as it needs), or set DEBUG=true for development."
    )
