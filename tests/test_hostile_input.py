"""Bad input from outside gets a clean 4xx, never a 500, and changes no row (RFC 6749 §5.2)."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable
from http import HTTPStatus
from typing import Any
from urllib.parse import quote, unquote, urlsplit
from wsgiref.util import setup_testing_defaults

import pytest
from django.core.signals import request_started
from django.db import close_old_connections
from django.test import Client as HttpClient

from accounts.models import User
from oauth.models import AuthorizationCode, Client, Consent, Grant, RefreshToken
from tests.conftest import RegisteredClient, authorize_url, basic_auth

MODELS = (AuthorizationCode, Grant, RefreshToken, Consent, Client, User)

HOSTILE_VALUES = {
    "non-utf8": "%ff%fe%fd",
    "quotes": quote("\"'<>`;--"),
    "non-ascii": quote("한국어 ünïcödé 🎉"),
    "nul": "%00",
    "control": "%0d%0aSet-Cookie:%20x=1",
    "huge": "A" * 100_000,
    "path-traversal": quote("../../etc/passwd"),
}

FORM_ENDPOINTS = ["/oauth/token", "/oauth/revoke", "/oauth/introspect", "/oauth/native/nonce"]

BAD_BASIC_HEADERS = {
    "not-base64": "Basic %%%",
    "non-utf8": "Basic " + base64.b64encode(b"\xff\xfe:\xfd").decode(),
    "no-colon": "Basic " + base64.b64encode(b"just-an-id").decode(),
    "huge": "Basic " + "A" * 20_000,
    "nul": "Basic " + base64.b64encode(b"id\x00:secret").decode(),
    "quotes": "Basic " + base64.b64encode(b'"id":"se\'cret"').decode(),
    "empty": "Basic",
    "other-scheme": "Digest username=x",
}


@pytest.fixture
def snapshot(db: None) -> Callable[[], list[list[dict[str, Any]]]]:
    def take() -> list[list[dict[str, Any]]]:
        return [list(model.objects.order_by("pk").values()) for model in MODELS]

    return take


@pytest.fixture
def known(
    exchange: Callable[..., dict[str, Any]], confidential_client: RegisteredClient
) -> dict[str, Any]:
    """A server with a client, a person, a grant and live tokens to be disturbed."""
    return {"client": confidential_client, "tokens": exchange(confidential_client)}


def assert_clean_refusal(response: Any) -> None:
    assert HTTPStatus.BAD_REQUEST <= response.status_code < HTTPStatus.INTERNAL_SERVER_ERROR, (
        response.status_code,
        response.content[:300],
    )


def assert_oauth_error(response: Any) -> None:
    """RFC 6749 §5.2: a JSON error that no cache keeps."""
    assert_clean_refusal(response)
    assert response["Content-Type"] == "application/json", response.content[:300]
    assert response.json()["error"]
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize("name", HOSTILE_VALUES)
@pytest.mark.parametrize(
    "parameter",
    [
        "client_id",
        "redirect_uri",
        "scope",
        "state",
        "nonce",
        "response_type",
        "code_challenge",
        "prompt",
        "max_age",
    ],
)
def test_authorize_never_fails_on_hostile_parameters(
    signed_in: HttpClient,
    confidential_client: RegisteredClient,
    snapshot: Callable[[], Any],
    parameter: str,
    name: str,
) -> None:
    params = {
        "response_type": "code",
        "client_id": confidential_client.client_id,
        "redirect_uri": confidential_client.model.redirect_uris[0],
        "scope": "openid",
        "state": "s",
    }
    params[parameter] = HOSTILE_VALUES[name]
    url = "/oauth/authorize?" + "&".join(f"{key}={value}" for key, value in params.items())
    before = snapshot()

    for method in (signed_in.get, signed_in.post):
        response = method(url)
        if response.status_code == HTTPStatus.OK:
            continue  # odd but legal (a state, say): the consent page, nothing issued yet
        if response.status_code == HTTPStatus.FOUND:
            assert "error=" in response["Location"]  # to the verified redirect_uri
            continue
        assert_clean_refusal(response)
    assert snapshot() == before


@pytest.mark.parametrize("endpoint", FORM_ENDPOINTS)
@pytest.mark.parametrize("name", HOSTILE_VALUES)
@pytest.mark.parametrize(
    "parameter",
    [
        "grant_type",
        "code",
        "refresh_token",
        "redirect_uri",
        "client_id",
        "token",
        "token_type_hint",
        "code_verifier",
        "scope",
    ],
)
def test_form_endpoints_never_fail_on_hostile_parameters(
    browser: HttpClient,
    known: dict[str, Any],
    snapshot: Callable[[], Any],
    endpoint: str,
    name: str,
    parameter: str,
) -> None:
    client = known["client"]
    body = f"grant_type=refresh_token&token=x&{parameter}={HOSTILE_VALUES[name]}"
    before = snapshot()

    response = browser.post(
        endpoint,
        body.encode("latin-1"),
        "application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=basic_auth(client.client_id, client.secret),
    )

    if response.status_code != HTTPStatus.OK:  # revocation and introspection answer 200
        assert_clean_refusal(response)
        assert response.json()["error"]
    assert snapshot() == before


@pytest.mark.parametrize("name", HOSTILE_VALUES)
@pytest.mark.parametrize(
    ("parameter", "token_type"),
    [
        ("subject_token", "id_token"),
        ("subject_token", "access_token"),
        ("subject_token_type", "id_token"),
        ("subject_issuer", "access_token"),
        ("subject_issuer", "id_token"),
        ("actor_token", "id_token"),
        ("requested_token_type", "id_token"),
        ("audience", "id_token"),
        ("resource", "id_token"),
        ("scope", "id_token"),
        ("client_id", "id_token"),
    ],
)
def test_the_token_exchange_never_fails_on_hostile_parameters(
    browser: HttpClient,
    upstream: Any,
    make_client: Callable[..., RegisteredClient],
    snapshot: Callable[[], Any],
    parameter: str,
    token_type: str,
    name: str,
) -> None:
    """Our native app's token exchange (test_native_sign_in), the Kakao fake asked too."""
    app = make_client(name="Our phone app", public=True, first_party=True, native=True)
    form = {
        "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
        "client_id": app.client_id,
        "subject_token": "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln",
        "subject_token_type": f"urn:ietf:params:oauth:token-type:{token_type}",
        "subject_issuer": "kakao",
    }
    form[parameter] = HOSTILE_VALUES[name]
    before = snapshot()

    response = browser.post(
        "/oauth/token",
        "&".join(f"{key}={value}" for key, value in form.items()).encode("latin-1"),
        "application/x-www-form-urlencoded",
    )

    assert_oauth_error(response)
    assert snapshot() == before


@pytest.mark.parametrize("endpoint", FORM_ENDPOINTS)
@pytest.mark.parametrize("name", BAD_BASIC_HEADERS)
def test_form_endpoints_refuse_malformed_basic_credentials(
    browser: HttpClient,
    known: dict[str, Any],
    snapshot: Callable[[], Any],
    endpoint: str,
    name: str,
) -> None:
    before = snapshot()

    response = browser.post(
        endpoint,
        f"grant_type=refresh_token&refresh_token={known['tokens']['refresh_token']}&token=x",
        "application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=BAD_BASIC_HEADERS[name],
    )

    assert_clean_refusal(response)
    assert response.json()["error"] in {"invalid_client", "invalid_request"}
    assert snapshot() == before


@pytest.mark.parametrize("endpoint", FORM_ENDPOINTS)
@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", b'{"grant_type": "refresh_token", "token": "x"'),
        ("application/x-www-form-urlencoded", b"\xff\xfe\x00\x01=\x80"),
        ("application/x-www-form-urlencoded", b"%%%%&&&===;;;"),
        ("multipart/form-data; boundary=zz", b"--zz\r\nbroken"),
        ("application/x-www-form-urlencoded; charset=latin-1", b"grant_type=%E9"),
        ("", b"grant_type=refresh_token"),
    ],
)
def test_form_endpoints_refuse_malformed_bodies(
    browser: HttpClient,
    known: dict[str, Any],
    snapshot: Callable[[], Any],
    endpoint: str,
    content_type: str,
    body: bytes,
) -> None:
    client = known["client"]
    before = snapshot()

    response = browser.post(
        endpoint,
        body,
        content_type,
        HTTP_AUTHORIZATION=basic_auth(client.client_id, client.secret),
    )

    assert_oauth_error(response)
    assert snapshot() == before


@pytest.mark.parametrize(
    "endpoint",
    [
        *FORM_ENDPOINTS,
        "/oauth/userinfo",
        "/oauth/jwks",
        "/.well-known/openid-configuration",
        "/oauth/authorize",
        "/accounts/login/",
        "/healthz",
        "/api/me",
        "/accounts/login/naver/",
        "/accounts/callback/naver/",
        "/accounts/apps/",
        "/accounts/unlink/kakao/",
        "/accounts/unlink/naver/",
    ],
)
@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_wrong_methods_are_refused(
    browser: HttpClient, upstream: Any, endpoint: str, method: str
) -> None:
    response = getattr(browser, method)(endpoint)

    # DRF authenticates before it looks at the method: an anonymous PUT is a 401 there.
    expected = HTTPStatus.UNAUTHORIZED if endpoint == "/api/me" else HTTPStatus.METHOD_NOT_ALLOWED
    assert response.status_code == expected


@pytest.mark.parametrize(
    "header",
    [
        "Bearer " + "A" * 20_000,
        "Bearer \x00",
        "Bearer a.b.c.d.e",
        "Bearer " + "é" * 10,
        "Bearer eyJhbGciOiJIUzI1NiIsImtpZCI6IngifQ.e30.x",
        "bearer",
        "Bearer  two  spaces",
    ],
)
def test_userinfo_refuses_garbage_tokens(browser: HttpClient, db: None, header: str) -> None:
    response = browser.get("/oauth/userinfo", HTTP_AUTHORIZATION=header)

    assert response.status_code == HTTPStatus.UNAUTHORIZED


@pytest.mark.parametrize("name", HOSTILE_VALUES)
def test_login_form_never_fails(browser: HttpClient, user: User, name: str) -> None:
    value = HOSTILE_VALUES[name]
    body = f"username={value}&password={value}&next={value}"

    response = browser.post("/accounts/login/", body.encode(), "application/x-www-form-urlencoded")

    assert response.status_code == HTTPStatus.OK
    assert "_auth_user_id" not in browser.session


@pytest.mark.parametrize("name", HOSTILE_VALUES)
@pytest.mark.parametrize("parameter", ["state", "code", "error", "error_description", "scope"])
def test_upstream_callbacks_never_fail(
    browser: HttpClient, upstream: Any, snapshot: Callable[[], Any], parameter: str, name: str
) -> None:
    before = snapshot()
    params = {"state": "s", "code": "c", parameter: HOSTILE_VALUES[name]}
    query = "&".join(f"{key}={value}" for key, value in params.items())

    for provider in ("google", "naver", "kakao"):
        response = browser.get(f"/accounts/callback/{provider}/?{query}&state=again")
        assert_clean_refusal(response)
        assert 'href="/accounts/login/' in response.content.decode()
    assert snapshot() == before


@pytest.mark.parametrize("decision", ["", "ALLOW", "allow\x00", "maybe", "allow" * 1000, "'\"<>"])
def test_consent_answers_other_than_allow_or_deny_issue_nothing(
    signed_in: HttpClient, confidential_client: RegisteredClient, decision: str
) -> None:
    response = signed_in.post(authorize_url(confidential_client), {"decision": decision})

    assert response.status_code in {HTTPStatus.OK, HTTPStatus.BAD_REQUEST}
    assert "Location" not in response
    assert not AuthorizationCode.objects.exists()


def served(
    method: str, path: str, *, query: str = "", content_type: str = "", body: bytes = b""
) -> tuple[int, dict[str, str]]:
    """One request through the WSGI application gunicorn serves (authserver.wsgi), which the
    test client bypasses: it builds Django's own request objects."""
    from authserver.wsgi import application

    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "CONTENT_TYPE": content_type,
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_HOST": "testserver",
        "HTTP_ORIGIN": "https://testserver",  # so the CSRF check goes on to the body
        "HTTP_COOKIE": "csrftoken=" + "a" * 32,
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "https",
    }
    setup_testing_defaults(environ)
    answer: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        answer.update(status=int(status.split()[0]), headers=dict(headers))

    # As Django's test client does: the test's transaction must outlive the request.
    request_started.disconnect(close_old_connections)
    try:
        b"".join(application(environ, start_response))
    finally:
        request_started.connect(close_old_connections)
    return answer["status"], answer["headers"]


@pytest.mark.parametrize(
    ("charset", "state"),
    [("unicode_escape", "\\ud800"), ("utf-7", "+2AA-"), ("latin-1", "é"), ("hex", "41")],
)
def test_urls_are_read_as_utf8_whatever_charset_a_request_names(
    known: dict[str, Any], charset: str, state: str
) -> None:
    """Read in the charset a request named, these states became a lone surrogate that no
    redirect and no database can hold, or (`hex`) failed before Django could answer: a 500."""
    named = f"text/plain; charset={charset}"
    request = urlsplit(authorize_url(known["client"], state=state, prompt="none"))

    status, headers = served("GET", request.path, query=request.query, content_type=named)
    login, _ = served("GET", "/accounts/login/", query=f"next=/{quote(state)}", content_type=named)

    assert status == HTTPStatus.FOUND
    assert f"state={quote(state, safe='')}" in headers["Location"]  # the text it was sent as
    assert login == HTTPStatus.OK


@pytest.mark.parametrize(
    ("content_type", "body", "status"),
    [
        ("application/x-www-form-urlencoded; charset=latin-1", b"a=%E9", HTTPStatus.FORBIDDEN),
        ("application/x-www-form-urlencoded; charset=utf8", b"a=%C3%A9", HTTPStatus.FORBIDDEN),
        ("application/x-www-form-urlencoded", b"&".join([b"f=1"] * 1200), HTTPStatus.BAD_REQUEST),
        ("application/x-www-form-urlencoded", b"a=" + b"x" * 3_000_000, HTTPStatus.BAD_REQUEST),
    ],
    ids=["other-charset", "utf8-spelled-so", "too-many-fields", "too-large"],
)
@pytest.mark.parametrize(
    ("path", "query"),
    [("/accounts/login/", ""), ("/no/such/page/", ""), ("/oauth/authorize", "client_id=x")],
)
def test_a_form_body_that_cannot_be_read_is_refused_by_the_csrf_check_or_a_400(
    db: None, path: str, query: str, content_type: str, body: bytes, status: int
) -> None:
    """Django's CSRF check reads the body; its error pages used to read it again, fail the same
    way, and leave the client with the WSGI server's bare 500."""
    answered, _ = served("POST", path, query=query, content_type=content_type, body=body)

    assert answered == (HTTPStatus.NOT_FOUND if path == "/no/such/page/" else status)


@pytest.mark.parametrize("name", HOSTILE_VALUES)
@pytest.mark.parametrize(
    "field",
    ["redirect_uris", "client_name", "scope", "client_uri", "token_endpoint_auth_method",
     "grant_types", "application_type"],
)  # fmt: skip
def test_client_registration_never_fails_on_hostile_metadata(
    browser: HttpClient, user: User, snapshot: Callable[[], Any], name: str, field: str
) -> None:
    from developers.tokens import initial_token_create

    token = initial_token_create(owner_id=user.pk)[1]
    value = unquote(HOSTILE_VALUES[name], errors="surrogateescape")
    metadata: dict[str, Any] = {"redirect_uris": ["https://hostile.example/cb"]}
    metadata[field] = [value] if field in {"redirect_uris", "grant_types"} else value
    before = snapshot()

    response = browser.post(
        "/oauth/register",
        json.dumps(metadata, ensure_ascii=True).encode("utf-8", "surrogatepass"),
        "application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )

    if response.status_code != HTTPStatus.CREATED:
        assert_oauth_error(response)
        assert snapshot() == before


@pytest.mark.parametrize(
    "header", [*BAD_BASIC_HEADERS.values(), "Bearer " + "A" * 20_000, "Bearer \x00", "Bearer"]
)
def test_client_registration_refuses_bad_credentials(
    browser: HttpClient, db: None, header: str
) -> None:
    response = browser.post(
        "/oauth/register", '{"redirect_uris": ["https://a.example/cb"]}', "application/json",
        HTTP_AUTHORIZATION=header,
    )  # fmt: skip

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert_oauth_error(response)


@pytest.mark.parametrize("name", HOSTILE_VALUES)
@pytest.mark.parametrize(
    "field",
    ["name", "kind", "redirect_uris", "allowed_scopes", "homepage_uri", "privacy_policy_uri",
     "terms_uri"],
)  # fmt: skip
def test_the_consoles_app_form_never_fails(
    signed_in: HttpClient, snapshot: Callable[[], Any], name: str, field: str
) -> None:
    fields: dict[str, Any] = {
        "name": "Hostile", "kind": "web", "redirect_uris": "https://h.example/cb",
        "allowed_scopes": ["openid"],
    }  # fmt: skip
    fields[field] = unquote(HOSTILE_VALUES[name])
    before = snapshot()

    response = signed_in.post("/developers/new", fields)

    assert response.status_code in (HTTPStatus.OK, HTTPStatus.BAD_REQUEST)
    if response.status_code == HTTPStatus.OK and response.context.get("secret") is None:
        assert response.context["form"].errors
        assert snapshot() == before


@pytest.mark.parametrize("name", HOSTILE_VALUES)
def test_the_consoles_small_forms_never_fail(
    signed_in: HttpClient, user: User, make_client: Callable[..., RegisteredClient], name: str
) -> None:
    from oauth.models import ClientMember

    app = make_client(kind="web", live=False)
    ClientMember.objects.create(client=app.model, user=user, role="owner")
    value = unquote(HOSTILE_VALUES[name])
    base = f"/developers/apps/{app.client_id}"
    posts = [
        (f"{base}/members", {"identifier": value, "role": value}),
        (f"{base}/members", {"identifier": value, "role": "tester"}),
        (f"{base}/members/1", {"role": value}),
        (f"{base}/secret", {"overlap": value}),
        (f"{base}/review", {"note": value}),
        (f"{base}/delete", {"confirm": value}),
        ("/developers/registration-token", {"max_clients": value, "expires_in": value}),
        (f"/developers/apps/{quote(value, safe='')[:200]}/", {}),
    ]
    for path, data in posts:
        response = signed_in.post(path, data)
        assert response.status_code < HTTPStatus.INTERNAL_SERVER_ERROR, (path, response.status_code)
