"""Discovery (OpenID Connect Discovery 1.0, RFC 8414), the health check, and what requests get
while the shared cache is out."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import pytest
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from authlib.oauth2.rfc9207 import AuthorizationServerMetadata as IssuerParameterMetadata
from authlib.oidc.discovery import OpenIDProviderMetadata
from django.conf import settings
from django.test import Client as HttpClient


def test_openid_configuration_is_valid_and_complete(browser: HttpClient, db: None) -> None:
    response = browser.get("/.well-known/openid-configuration")

    assert response.status_code == HTTPStatus.OK
    metadata = OpenIDProviderMetadata(response.json())
    metadata.validate(metadata_classes=[IssuerParameterMetadata])
    assert metadata["issuer"] == settings.ISSUER
    assert metadata["authorization_endpoint"] == settings.ISSUER + "/oauth/authorize"
    assert metadata["token_endpoint"] == settings.ISSUER + "/oauth/token"
    assert metadata["userinfo_endpoint"] == settings.ISSUER + "/oauth/userinfo"
    assert metadata["jwks_uri"] == settings.ISSUER + "/oauth/jwks"
    assert metadata["revocation_endpoint"] == settings.ISSUER + "/oauth/revoke"
    assert metadata["introspection_endpoint"] == settings.ISSUER + "/oauth/introspect"
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert metadata["response_types_supported"] == ["code"]
    assert metadata["authorization_response_iss_parameter_supported"] is True
    assert set(metadata["token_endpoint_auth_methods_supported"]) == {
        "client_secret_basic",
        "client_secret_post",
        "none",
    }
    assert metadata["id_token_signing_alg_values_supported"] == ["RS256"]


def test_oauth_authorization_server_metadata_is_valid(browser: HttpClient, db: None) -> None:
    response = browser.get("/.well-known/oauth-authorization-server")

    metadata = AuthorizationServerMetadata(response.json())
    metadata.validate()
    assert metadata["issuer"] == settings.ISSUER
    assert "userinfo_endpoint" in metadata
    assert "id_token_signing_alg_values_supported" not in metadata


def test_issuer_comes_from_settings_not_the_host_header(
    browser: HttpClient, db: None, settings: object
) -> None:
    response = browser.get("/.well-known/openid-configuration", HTTP_HOST="localhost")

    assert response.json()["issuer"] == "http://127.0.0.1:8000"


def test_healthz_checks_the_database(browser: HttpClient, db: None) -> None:
    response = browser.get("/healthz")

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"status": "ok"}
    assert "no-store" in response["Cache-Control"]


@pytest.fixture
def redis_out(settings: Any) -> None:
    """A shared cache where nothing listens."""
    settings.REDIS_URL = "redis://127.0.0.1:9/0"
    settings.CACHES = {
        "default": {"BACKEND": "infra.cache.RedisCache", "LOCATION": settings.REDIS_URL}
    }


def test_healthz_reports_a_shared_cache_that_does_not_answer(
    browser: HttpClient, db: None, redis_out: None
) -> None:
    response = browser.get("/healthz")

    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response.json() == {"status": "unavailable", "cache": "ConnectionError"}


def test_while_the_shared_cache_is_out_requests_get_a_503_that_says_so(
    browser: HttpClient, db: None, redis_out: None
) -> None:
    browser.raise_request_exception = False

    token = browser.post(
        "/oauth/token", "grant_type=refresh_token&refresh_token=x&client_id=x",
        "application/x-www-form-urlencoded",
    )  # fmt: skip
    login = browser.post("/accounts/login/", {"username": "alice", "password": "x"})

    assert token.status_code == login.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert token.json()["error"] == "temporarily_unavailable"
    assert token["Retry-After"] and token["Cache-Control"] == "no-store"
