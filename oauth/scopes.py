"""The scopes this server knows, and how each is described to the person asked to allow it."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

SCOPE_DESCRIPTIONS: dict[str, Promise] = {
    "openid": _("Confirm who you are (your account's identifier on this server)"),
    "profile": _("See your name and username"),
    "email": _("See your email address and whether it is verified"),
}

SUPPORTED_SCOPES: tuple[str, ...] = tuple(SCOPE_DESCRIPTIONS)


def scope_list(scope: str | None) -> list[str]:
    """Split a scope string, dropping duplicates but keeping the order (RFC 6749 §3.3)."""
    return list(dict.fromkeys((scope or "").split()))


def scope_string(scopes: list[str] | set[str]) -> str:
    """The canonical form stored and compared: space separated, in the server's order."""
    return " ".join(s for s in SUPPORTED_SCOPES if s in scopes)


def requested_scopes(scope: str | None) -> list[str]:
    """What an authorization request asks for. In an OpenID Connect request, values this server
    does not know are ignored (OIDC Core §3.1.2.1; libraries add `offline_access` and others by
    default); in a plain OAuth request they are refused (RFC 6749 §3.3, invalid_scope)."""
    scopes = scope_list(scope)
    if "openid" in scopes:
        return [name for name in scopes if name in SUPPORTED_SCOPES]
    return scopes


def validate_scopes(value: str) -> None:
    """A client's allowed scopes: known ones, at least one."""
    unknown = set(scope_list(value)) - set(SUPPORTED_SCOPES)
    if unknown:
        raise ValidationError(
            _("Unknown scopes: %(scopes)s."), params={"scopes": " ".join(sorted(unknown))}
        )
    if not scope_list(value):
        raise ValidationError(_("Allow at least one scope."))
