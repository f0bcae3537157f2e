"""Dynamic client registration (RFC 7591) and client configuration (RFC 7592): authlib's
endpoints, their storage hooks filled in with the console's services.

A registration needs an initial access token (tokens.py); the client joins the token owner's
team, in development unless the token says live. The configuration endpoint is reached with the
client's registration access token, hashed at rest and replaced on each update.
"""

from __future__ import annotations

import uuid
from typing import Any

from authlib.oauth2.rfc6750 import InvalidTokenError
from authlib.oauth2.rfc7591 import ClientRegistrationEndpoint, InvalidClientMetadataError
from authlib.oauth2.rfc7592 import ClientConfigurationEndpoint
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse

from infra.origin import Origin
from oauth.clients import active_client, client_delete, client_register, client_update
from oauth.discovery import server_metadata
from oauth.hashing import generate_secret, secret_hash
from oauth.models import Client, ClientMember

from .metadata import client_fields, client_metadata
from .models import RegistrationAccess
from .services import app_prepare
from .tokens import bearer, initial_token_find, initial_token_use


class Endpoint:
    """What both endpoints' requests carry besides authlib's: where they came from (for
    security events) and the client_id of the URL."""

    server: Any

    def create_endpoint_request(self, request: Any) -> Any:
        json_request = self.server.create_json_request(request)
        json_request.origin = Origin.of(request)
        match = request.resolver_match
        json_request.client_id_in_path = match.kwargs.get("client_id", "") if match else ""
        return json_request


INVALID_TOKEN = "The access token is not valid."


def registration_info(client: Client, *, new_token: bool) -> dict[str, Any]:
    """RFC 7592 §3: where the client manages its registration, and (when issued) with what."""
    info: dict[str, Any] = {
        "registration_client_uri": settings.ISSUER
        + reverse("client-configuration", args=[client.client_id]),
    }
    if new_token:
        token = generate_secret()
        RegistrationAccess.objects.update_or_create(
            client=client, defaults={"token_hash": secret_hash(token)}
        )
        info["registration_access_token"] = token
    return info


class Registration(Endpoint, ClientRegistrationEndpoint):  # type: ignore[misc]
    def authenticate_token(self, request: Any) -> Any:
        token = initial_token_find(bearer(request.headers.get("Authorization")))
        if token is None:
            raise InvalidTokenError(description=INVALID_TOKEN)
        return token

    def get_server_metadata(self) -> dict[str, Any]:
        return server_metadata(openid=True)

    def extract_client_metadata(self, request: Any) -> dict[str, Any]:
        """Our rules instead of authlib's claims: they answer some bad redirect URIs with
        invalid_client_metadata, where RFC 7591 §3.2.2 says invalid_redirect_uri, and refuse
        native apps' private-use schemes."""
        name_default = f"App {uuid.uuid4().hex[:8]}"
        return client_fields(request.payload.data, name_default=name_default)

    def generate_client_info(self, request: Any) -> dict[str, Any]:
        return {}  # made by client_register: no client_id or secret is the registrant's choice

    def save_client(
        self, client_info: dict[str, Any], metadata: dict[str, Any], request: Any
    ) -> Client:
        token = request.credential
        client = app_prepare(Client(**metadata), live=token.live)
        with transaction.atomic():
            if not initial_token_use(token):
                raise InvalidTokenError(description=INVALID_TOKEN)
            if Client.objects.filter(name=client.name).exists():
                client.name = f"{client.name} ({uuid.uuid4().hex[:6]})"
            try:
                secret = client_register(client, origin=request.origin, actor_id=token.owner_id)
            except ValidationError:
                raise InvalidClientMetadataError(description="The metadata is not valid.") from None
            ClientMember.objects.create(
                client=client, user_id=token.owner_id, role=ClientMember.Role.OWNER
            )
        request.client_secret = secret
        return client

    def generate_client_registration_info(self, client: Client, request: Any) -> dict[str, Any]:
        info = {
            "client_id": client.client_id,
            "client_id_issued_at": int(client.created_at.timestamp()),
            **client_metadata(client),
            **registration_info(client, new_token=True),
        }
        if request.client_secret is not None:
            info.update(client_secret=request.client_secret, client_secret_expires_at=0)
        return info


class Configuration(Endpoint, ClientConfigurationEndpoint):  # type: ignore[misc]
    def authenticate_token(self, request: Any) -> Any:
        presented = bearer(request.headers.get("Authorization"))
        access = None
        if presented:
            access = (
                RegistrationAccess.objects.filter(token_hash=secret_hash(presented))
                .select_related("client")
                .first()
            )
        if access is None:
            raise InvalidTokenError(description=INVALID_TOKEN)
        return access

    def authenticate_client(self, request: Any) -> Client | None:
        return active_client(request.client_id_in_path)

    def revoke_access_token(self, *arguments: Any) -> None:
        """RFC 7592 §2: a token presented for a client that does not exist is revoked. authlib
        1.9 documents (token, request) and calls it with (request, token): take the token
        wherever it comes. A client an operator disabled still exists: its token is kept for
        when it is enabled again (the answer is 401 all the same)."""
        tokens = [argument for argument in arguments if isinstance(argument, RegistrationAccess)]
        requests = [argument for argument in arguments if hasattr(argument, "client_id_in_path")]
        for token in tokens:
            path_id = requests[0].client_id_in_path if requests else None
            if token.client.client_id != path_id:
                token.delete()

    def check_permission(self, client: Client, request: Any) -> bool:
        return True  # the registration access token is the permission

    def introspect_client(self, client: Client) -> dict[str, Any]:
        return {"client_id": client.client_id, **client_metadata(client)}

    def generate_client_registration_info(self, client: Client, request: Any) -> dict[str, Any]:
        return registration_info(client, new_token=request.method == "PUT")

    def get_server_metadata(self) -> dict[str, Any]:
        return server_metadata(openid=True)

    def extract_client_metadata(self, request: Any) -> dict[str, Any]:
        return client_fields(request.payload.data, name_default=request.client.name)

    def update_client(self, client: Client, metadata: dict[str, Any], request: Any) -> Client:
        """RFC 7592 §2.2: the request replaces the metadata. The kind stays what it was
        registered as: a client cannot trade its secret away, or gain one, here."""
        if metadata["kind"] != client.kind:
            raise InvalidClientMetadataError(description="The kind of client cannot change.")
        name_taken = Client.objects.filter(name=metadata["name"]).exclude(pk=client.pk).exists()
        if name_taken:
            metadata["name"] = client.name
        for name, value in metadata.items():
            setattr(client, name, value)
        try:
            client.full_clean()
        except ValidationError:
            raise InvalidClientMetadataError(description="The metadata is not valid.") from None
        client_update(client, fields=list(metadata), origin=request.origin)
        return client

    def delete_client(self, client: Client, request: Any) -> None:
        client_delete(client, origin=request.origin)
