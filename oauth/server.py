"""The one authlib authorization server, wired to our grants, endpoints and clients."""

from __future__ import annotations

from typing import Any

from authlib.common.encoding import json_dumps
from authlib.integrations.django_oauth2 import AuthorizationServer
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import OAuth2Request
from authlib.oauth2.rfc9207 import IssuerParameter
from django.conf import settings
from django.http import HttpRequest, HttpResponse

from infra.logs import log_client
from infra.origin import Origin
from infra.ratelimit import address_subject

from .clients import active_client
from .endpoints import IntrospectionEndpoint, RevocationEndpoint
from .errors import plain
from .grants import (
    PKCE,
    AuthorizationCodeGrant,
    ExchangeIdToken,
    OpenIDConnect,
    RefreshTokenGrant,
    TokenExchangeGrant,
)
from .limits import limit_hit
from .models import Client, RefreshToken
from .scopes import SUPPORTED_SCOPES, requested_scopes


class OAuthResponse(HttpResponse):
    """An HttpResponse whose Location authlib's extensions can read and rewrite."""

    @property
    def location(self) -> str | None:
        return self.headers.get("Location")

    @location.setter
    def location(self, value: str) -> None:
        self.headers["Location"] = value


class Issuer(IssuerParameter):
    """RFC 9207: every authorization response names its issuer, against mix-up attacks."""

    def get_issuer(self) -> str:
        return settings.ISSUER


class Server(AuthorizationServer):
    def __init__(self) -> None:
        super().__init__(client_model=Client, token_model=RefreshToken)
        self.scopes_supported = list(SUPPORTED_SCOPES)

    def query_client(self, client_id: str) -> Client | None:
        client = active_client(client_id)
        if client is not None:
            log_client(client.client_id)  # logs of the request name it from here on
        return client

    def validate_requested_scope(self, scope: str | None) -> None:
        """Unknown values refused, except in OpenID Connect requests (see requested_scopes)."""
        super().validate_requested_scope(" ".join(requested_scopes(scope)))

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """A client that has just authenticated at the token endpoint is counted against its
        rate limit (over it: 429, which authlib turns into the error response); a request
        merely naming a confidential client uses up none of its allowance."""
        if name == "after_authenticate_client":
            client, request = kwargs["client"], kwargs["grant"].request
            subject = client.client_id
            if request.auth_method == "none":
                # Naming a public client is all its authentication: strangers must not use up
                # its allowance, so its requests count per address too.
                subject = f"{subject} {address_subject(request.origin.ip_address)}"
            limit_hit("token_client", subject, request.origin)
        super().send_signal(name, *args, **kwargs)

    def create_oauth2_request(self, request: HttpRequest) -> OAuth2Request:
        """authlib's request, knowing where it came from (for security events)."""
        oauth_request = super().create_oauth2_request(request)
        oauth_request.origin = Origin.of(request)
        return oauth_request

    def save_token(self, token: dict[str, Any], request: Any) -> None:
        raise NotImplementedError("Each grant stores its own tokens; see grants.py.")

    def handle_error_response(self, request: Any, error: OAuth2Error) -> OAuthResponse:
        response: OAuthResponse = super().handle_error_response(request, plain(error))
        return response

    def handle_response(
        self, status_code: int, payload: Any, headers: list[tuple[str, str]]
    ) -> OAuthResponse:
        body = json_dumps(payload) if isinstance(payload, dict) else payload
        response = OAuthResponse(body, status=status_code)
        for name, value in headers:
            response[name] = value
        return response


issuer_parameter = Issuer()

server = Server()
server.register_grant(AuthorizationCodeGrant, [PKCE(required=True), OpenIDConnect()])
server.register_grant(RefreshTokenGrant)
server.register_grant(TokenExchangeGrant, [ExchangeIdToken()])
server.register_endpoint(RevocationEndpoint)
server.register_endpoint(IntrospectionEndpoint)
server.register_extension(issuer_parameter)
