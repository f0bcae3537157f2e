"""Protocol errors whose descriptions are fixed sentences (authlib's own echo client input)."""

from __future__ import annotations

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import (
    InvalidClientError,
    UnsupportedGrantTypeError,
    UnsupportedResponseTypeError,
)
from authlib.oauth2.rfc6750 import InsufficientScopeError
from django.conf import settings


class GrantTypeUnsupported(UnsupportedGrantTypeError):
    def __init__(self) -> None:
        super().__init__(grant_type=None)

    def get_error_description(self) -> str:
        return "This grant_type is not supported."


class ResponseTypeUnsupported(UnsupportedResponseTypeError):
    def __init__(self, redirect_uri: str | None = None) -> None:
        super().__init__(response_type=None, redirect_uri=redirect_uri)

    def get_error_description(self) -> str:
        return "Only response_type=code is supported."


class ClientAuthenticationFailed(InvalidClientError):
    """invalid_client in one sentence, whatever failed: authlib's descriptions list the methods
    it tried or say whether the client exists. With 401, a challenge of RFC 7617's shape."""

    def __init__(self, status_code: int = 401) -> None:
        super().__init__(status_code=status_code, description="Client authentication failed.")

    def get_headers(self) -> list[tuple[str, str]]:
        headers: list[tuple[str, str]] = OAuth2Error.get_headers(self)
        if self.status_code == 401:
            challenge = f'Basic realm="{settings.ISSUER}", charset="UTF-8"'
            headers.append(("WWW-Authenticate", challenge))
        return headers


def plain(error: OAuth2Error) -> OAuth2Error:
    """The error as this server words it to clients."""
    if isinstance(error, InvalidClientError) and not isinstance(error, ClientAuthenticationFailed):
        # Always 401: authlib answers 400 for an unknown client named in the body, 401 for a
        # known one whose secret is wrong, which would tell which clients exist.
        return ClientAuthenticationFailed(401)
    return error


class TooManyRequests(OAuth2Error):
    """Over a rate limit: 429 with Retry-After, in the RFC 6749 error shape."""

    error = "too_many_requests"
    status_code = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__(description="Too many requests; retry later.")
        self.retry_after = retry_after

    def get_headers(self) -> list[tuple[str, str]]:
        return [*super().get_headers(), ("Retry-After", str(self.retry_after))]


class ScopeMissing(InsufficientScopeError):
    """403 that names the scope needed, in the body and in WWW-Authenticate (RFC 6750 §3)."""

    def __init__(self, scope: str) -> None:
        super().__init__(description=f"This needs a token with the {scope} scope.")
        self.scope = scope

    def get_headers(self) -> list[tuple[str, str]]:
        challenge = f'Bearer error="insufficient_scope", scope="{self.scope}"'
        return [*super().get_headers(), ("WWW-Authenticate", challenge)]
