"""Client metadata of RFC 7591 §2, read into a client's fields with this server's rules.

Any unacceptable redirect URI is `invalid_redirect_uri`; any other bad value is
`invalid_client_metadata` (§3.2.2). Fields this server does not know are ignored (§2). The
registrant chooses neither the client_id nor the secret, cannot be first-party, and asks for no
scope beyond the server's.
"""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc7591 import InvalidClientMetadataError, InvalidRedirectURIError
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from oauth.models import CLIENT_AUTH_METHODS, PUBLIC_AUTH_METHOD, Client, GrantType
from oauth.redirect_uris import is_loopback, is_private_use, validate_for_kind
from oauth.redirect_uris import validate_redirect_uris as validate_uris
from oauth.scopes import SUPPORTED_SCOPES, scope_string

DEFAULT_SCOPE = "openid profile"
MAX_REDIRECT_URIS = 20
MAX_TEXT = 500
https_url = URLValidator(schemes=["https"])


def bad(description: str) -> InvalidClientMetadataError:
    return InvalidClientMetadataError(description=description)


def text(data: dict[str, Any], name: str, *, default: str = "") -> str:
    value = data.get(name, default)
    if value is None:
        return default
    if not isinstance(value, str) or len(value) > MAX_TEXT or not printable_utf8(value):
        raise bad(f"{name} must be a short string.")
    return value


def printable_utf8(value: str) -> bool:
    """No NUL (PostgreSQL text cannot hold it) and no lone surrogate (UTF-8 cannot)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in value


def url(data: dict[str, Any], name: str) -> str:
    value = text(data, name)
    if value:
        try:
            https_url(value)
        except ValidationError:
            raise bad(f"{name} must be an https URL.") from None
    return value


def strings(data: dict[str, Any], name: str, default: list[str]) -> list[str]:
    value = data.get(name, default)
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise bad(f"{name} must be an array of strings.")
    return value


def kind_of(method: str, application_type: str, uris: list[str]) -> str:
    """A client with a secret is a web server app; a public one is a native app when it says so
    (OpenID Connect Registration's application_type) or answers where only native apps can
    (a private-use scheme, loopback), and otherwise a single-page app."""
    if method != PUBLIC_AUTH_METHOD:
        return Client.Kind.WEB
    native = application_type == "native" or any(
        is_private_use(uri) or is_loopback(uri) for uri in uris
    )
    return Client.Kind.NATIVE if native else Client.Kind.SPA


def redirect_uris(data: dict[str, Any]) -> list[str]:
    uris = data.get("redirect_uris")
    if (
        not isinstance(uris, list)
        or not uris
        or len(uris) > MAX_REDIRECT_URIS
        or not all(isinstance(uri, str) and 0 < len(uri) <= 2000 for uri in uris)
    ):
        raise InvalidRedirectURIError(description="redirect_uris must list one to 20 URIs.")
    try:
        validate_uris(uris)
    except ValidationError:
        raise InvalidRedirectURIError(
            description="A redirect URI is not one this server accepts."
        ) from None
    if not all(uri.isascii() for uri in uris):
        raise InvalidRedirectURIError(description="Redirect URIs must be ASCII (use punycode).")
    return list(dict.fromkeys(uris))


def client_fields(data: object, *, name_default: str) -> dict[str, Any]:
    """The client's fields from registration metadata, or the RFC 7591 §3.2.2 error."""
    if not isinstance(data, dict):
        raise bad("The metadata must be a JSON object.")
    uris = redirect_uris(data)
    method = text(data, "token_endpoint_auth_method", default="client_secret_basic")
    if method not in CLIENT_AUTH_METHODS:
        raise bad("token_endpoint_auth_method is not supported.")
    application_type = text(data, "application_type", default="web")
    if application_type not in {"web", "native"}:
        raise bad("application_type is web or native.")
    grant_types = strings(data, "grant_types", [GrantType.AUTHORIZATION_CODE])
    if not set(grant_types) <= set(GrantType.values):
        raise bad("grant_types may hold authorization_code and refresh_token only.")
    if GrantType.AUTHORIZATION_CODE not in grant_types:
        raise bad("grant_types must include authorization_code.")
    if strings(data, "response_types", ["code"]) != ["code"]:
        raise bad("response_types may hold code only.")
    scope = text(data, "scope", default=DEFAULT_SCOPE).split()
    if not scope or not set(scope) <= set(SUPPORTED_SCOPES):
        raise bad("scope asks for scopes this server does not have.")
    kind = kind_of(method, application_type, uris)
    if kind != Client.Kind.NATIVE and any(uri.lower().startswith("http:") for uri in uris):
        # RFC 8252 §7.3: plain http only on a native app's own device (the console also lets
        # web apps use localhost while they are developed; a registration is not that).
        raise InvalidRedirectURIError(description="Use https (http is for native apps only).")
    try:
        validate_for_kind(kind, uris, public=kind != Client.Kind.WEB)
    except ValidationError:
        raise InvalidRedirectURIError(
            description="A redirect URI is not allowed for this kind of client."
        ) from None
    name = text(data, "client_name").strip() or name_default
    if len(name) > 100:
        raise bad("client_name is too long.")
    return {
        "name": name,
        "kind": kind,
        "redirect_uris": uris,
        "allowed_scopes": scope_string(scope),
        "grant_types": [value for value in GrantType.values if value in grant_types],
        "homepage_uri": url(data, "client_uri"),
        "privacy_policy_uri": url(data, "policy_uri"),
        "terms_uri": url(data, "tos_uri"),
    }


def client_metadata(client: Client) -> dict[str, Any]:
    """What this server holds of a client, in RFC 7591 §2's names."""
    metadata: dict[str, Any] = {
        "client_name": client.name,
        "redirect_uris": client.redirect_uris,
        "token_endpoint_auth_method": PUBLIC_AUTH_METHOD
        if client.is_public
        else "client_secret_basic",
        "grant_types": client.grant_types,
        "response_types": ["code"],
        "scope": client.allowed_scopes,
        "application_type": "native" if client.kind == Client.Kind.NATIVE else "web",
    }
    for name, field in (("client_uri", "homepage_uri"), ("policy_uri", "privacy_policy_uri"),
                        ("tos_uri", "terms_uri")):  # fmt: skip
        if getattr(client, field):
            metadata[name] = getattr(client, field)
    return metadata
