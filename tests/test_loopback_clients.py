"""Native apps on loopback (RFC 8252 §7.3, §8.6): only a public client's loopback redirect URI
may take any port, written as a port is; and since any program on the device can listen there,
a consent remembered for such an app never approves a request silently."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus

import pytest
from django.test import Client as HttpClient

from tests.conftest import Pkce, RegisteredClient, authorize_url, query


@pytest.mark.parametrize(
    "asked",
    [
        "http://127.0.0.1:9999/cb",
        "http://127.0.0.1:0/cb",
        "http://127.0.0.1:80/cb",
        "http://127.0.0.1:09998/cb",
        "http://127.0.0.1/cb",
    ],
)
def test_a_web_clients_loopback_redirect_uri_is_matched_exactly(
    signed_in: HttpClient, make_client: Callable[..., RegisteredClient], asked: str
) -> None:
    client = make_client(redirect_uris=["http://127.0.0.1:9998/cb"], first_party=True)

    refused = signed_in.get(authorize_url(client, redirect_uri=asked))
    exact = signed_in.get(authorize_url(client, redirect_uri="http://127.0.0.1:9998/cb"))

    assert refused.status_code == HTTPStatus.BAD_REQUEST and "Location" not in refused
    assert exact["Location"].startswith("http://127.0.0.1:9998/cb?code=")


@pytest.mark.parametrize("port", ["0", "051004", "65536", ""])
def test_a_native_apps_port_is_a_port_written_plainly(
    signed_in: HttpClient, make_client: Callable[..., RegisteredClient], port: str
) -> None:
    client = make_client(public=True, redirect_uris=["http://127.0.0.1/callback"])

    response = signed_in.get(
        authorize_url(client, Pkce(), redirect_uri=f"http://127.0.0.1:{port}/callback")
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST and "Location" not in response


@pytest.mark.parametrize("first_party", [False, True])
def test_a_remembered_consent_does_not_silently_approve_a_native_app_on_loopback(
    signed_in: HttpClient, make_client: Callable[..., RegisteredClient], first_party: bool
) -> None:
    """Another program listening on another port, with a PKCE challenge of its own, would get
    the app's tokens without the person knowing."""
    client = make_client(
        public=True, first_party=first_party, redirect_uris=["http://127.0.0.1/callback"]
    )
    approved = authorize_url(client, Pkce(), redirect_uri="http://127.0.0.1:51004/callback")
    assert signed_in.post(approved, {"decision": "allow"}).status_code == HTTPStatus.SEE_OTHER

    again = signed_in.get(
        authorize_url(client, Pkce(), redirect_uri="http://127.0.0.1:61999/callback")
    )
    silent = signed_in.get(
        authorize_url(client, Pkce(), redirect_uri="http://127.0.0.1:61999/callback", prompt="none")
    )

    assert again.status_code == HTTPStatus.OK
    assert b"wants to use your account" in again.content
    assert query(silent["Location"])["error"] == "consent_required"


def test_a_web_clients_remembered_consent_still_stands(
    signed_in: HttpClient, make_client: Callable[..., RegisteredClient]
) -> None:
    client = make_client(redirect_uris=["https://app.example.com/callback"])
    url = authorize_url(client)
    signed_in.post(url, {"decision": "allow"})

    assert signed_in.get(authorize_url(client))["Location"].startswith(
        "https://app.example.com/callback?code="
    )
