"""Property-based fuzzing of every endpoint that takes input from outside (Hypothesis): whatever
the parameters, headers and bodies, the answer is a clean 4xx (or an honest success), never a
500, and a refused request changes no row."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import SocialIdentity, User
from oauth.models import AuthorizationCode, Client, Consent, Grant, RefreshToken, SigningKey
from tests.conftest import HttpsClient, RegisteredClient, basic_auth

MODELS = (User, SocialIdentity, AuthorizationCode, Grant, RefreshToken, Consent, Client, SigningKey)
FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

NAMES = st.sampled_from([
    "response_type", "client_id", "redirect_uri", "scope", "state", "nonce", "prompt", "max_age",
    "code_challenge", "code_challenge_method", "grant_type", "code", "refresh_token",
    "code_verifier", "token", "token_type_hint", "client_secret", "request", "error", "decision",
])  # fmt: skip
VALUES = st.one_of(
    st.text(max_size=60),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=300),
    st.sampled_from(
        [
            "code",
            "openid",
            "S256",
            "plain",
            "none",
            "login",
            "refresh_token",
            "authorization_code",
            "https://app.example.com/callback",
            "0",
            "-1",
            "\x00",
            "%00",
            "'\"<>",
            "A" * 5000,
        ]
    ),  # fmt: skip
)
PARAMS = st.lists(st.tuples(NAMES, VALUES), max_size=8)


def snapshot() -> list[Any]:
    return [list(model.objects.order_by("pk").values()) for model in MODELS]


def query_string(params: list[tuple[str, str]]) -> str:
    return "&".join(f"{quote(k)}={quote(v, safe='')}" for k, v in params)


@pytest.fixture
def world(
    make_user: Callable[..., User], make_client: Callable[..., RegisteredClient], upstream: Any
) -> dict[str, Any]:
    user = make_user()
    client = make_client(name="Fuzzed app")
    browser = HttpsClient()
    browser.force_login(user)
    return {"browser": browser, "client": client, "user": user, "before": snapshot()}


def assert_only_what_allowing_makes(
    before: list[Any], after: list[Any], user: User, client: Client
) -> None:
    """An allowed request issues codes to its client for its person and remembers (or widens)
    that person's consent to it; no other row may come, go or change."""
    for model, old, new in zip(MODELS, before, after, strict=True):
        gone = [row for row in old if row not in new]
        came = [row for row in new if row not in old]
        if model not in (AuthorizationCode, Consent):
            assert not gone and not came, model
            continue
        assert all((row["client_id"], row["user_id"]) == (client.pk, user.pk) for row in came)
        if model is AuthorizationCode:
            assert not gone, model
        else:  # widened: the same row, more scopes
            assert {row["id"] for row in gone} <= {row["id"] for row in came}, model


def test_the_check_of_an_allowed_request_catches_anything_more(
    user: User, make_client: Callable[..., RegisteredClient]
) -> None:
    """A fuzzer's check must be able to fail: a grant, another person's code, or a changed
    client after an allowed request are caught."""
    client = make_client().model
    before = snapshot()
    code = {"id": 1, "client_id": client.pk, "user_id": user.pk}
    honest = [rows + ([code] if model is AuthorizationCode else []) for model, rows in
              zip(MODELS, before, strict=True)]  # fmt: skip
    assert_only_what_allowing_makes(before, honest, user, client)

    for model, row in [
        (Grant, {"id": "g", "client_id": client.pk, "user_id": user.pk}),
        (AuthorizationCode, {"id": 2, "client_id": client.pk, "user_id": "someone else"}),
        (Client, {**before[MODELS.index(Client)][0], "first_party": True}),
    ]:
        index = MODELS.index(model)
        tampered = [list(rows) for rows in honest]
        tampered[index] = [r for r in tampered[index] if r.get("id") != row["id"]] + [row]
        with pytest.raises(AssertionError):
            assert_only_what_allowing_makes(before, tampered, user, client)


def assert_clean(response: Any) -> None:
    assert response.status_code < 500, (response.status_code, response.content[:300])


@FUZZ
@given(params=PARAMS)
def test_authorize(world: dict[str, Any], params: list[tuple[str, str]]) -> None:
    browser = world["browser"]
    client = world["client"]
    base = [("response_type", "code"), ("client_id", client.client_id)]
    url = "/oauth/authorize?" + query_string(base + params)

    allowed = False
    for response in (browser.get(url), browser.post(url, dict(params))):
        assert_clean(response)
        allowed |= "code=" in response.get("Location", "")
    after = snapshot()
    if allowed:  # a well-formed request the person allowed: a code, and consent remembered
        assert_only_what_allowing_makes(world["before"], after, world["user"], client.model)
        world["before"] = after
    assert after == world["before"]


@FUZZ
@given(params=PARAMS, basic=st.one_of(st.none(), st.text(max_size=80)), path=st.sampled_from(
    ["/oauth/token", "/oauth/revoke", "/oauth/introspect"]))  # fmt: skip
def test_form_endpoints(
    world: dict[str, Any], params: list[tuple[str, str]], basic: str | None, path: str
) -> None:
    client = world["client"]
    headers = {}
    if basic is None:
        headers["HTTP_AUTHORIZATION"] = basic_auth(client.client_id, client.secret or "")
    else:
        headers["HTTP_AUTHORIZATION"] = "Basic " + basic
    response = world["browser"].post(
        path, query_string(params), "application/x-www-form-urlencoded", **headers
    )

    assert_clean(response)
    assert response["Content-Type"] == "application/json"
    assert snapshot() == world["before"]


@FUZZ
@given(token=st.text(max_size=400), scheme=st.sampled_from(["Bearer", "bearer", "Basic", ""]),
       path=st.sampled_from(["/oauth/userinfo", "/api/me"]))  # fmt: skip
def test_bearer_endpoints(world: dict[str, Any], token: str, scheme: str, path: str) -> None:
    header = f"{scheme} {token}".encode("utf-8", "surrogateescape").decode("latin-1")

    response = HttpsClient().get(path, HTTP_AUTHORIZATION=header)

    assert response.status_code in {401, 403}


@FUZZ
@given(params=PARAMS, provider=st.sampled_from(["google", "naver", "kakao"]))
def test_upstream_callbacks(
    world: dict[str, Any], params: list[tuple[str, str]], provider: str
) -> None:
    response = HttpsClient().get(f"/accounts/callback/{provider}/?" + query_string(params))

    assert_clean(response)
    assert snapshot() == world["before"]


@FUZZ
@given(params=PARAMS)
def test_login_and_discovery(world: dict[str, Any], params: list[tuple[str, str]]) -> None:
    browser = HttpsClient()
    for response in (
        browser.post("/accounts/login/", dict(params)),
        browser.get("/accounts/login/?" + query_string(params)),
        browser.get("/.well-known/openid-configuration?" + query_string(params)),
        browser.get("/oauth/jwks?" + query_string(params)),
    ):
        assert_clean(response)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | VALUES,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=20), children, max_size=4)
    ),
    max_leaves=12,
)
METADATA_NAMES = st.sampled_from([
    "redirect_uris", "client_name", "token_endpoint_auth_method", "grant_types", "response_types",
    "scope", "client_uri", "policy_uri", "tos_uri", "logo_uri", "application_type", "client_id",
    "client_secret", "jwks", "software_statement", "contacts",
])  # fmt: skip


@FUZZ
@given(metadata=st.dictionaries(METADATA_NAMES, JSON, max_size=8))
def test_client_registration(world: dict[str, Any], metadata: dict[str, Any]) -> None:
    """RFC 7591: whatever the metadata, a 201 or a 400 with its error, never a 500; a refused
    registration creates nothing."""
    from developers.tokens import initial_token_create

    token = initial_token_create(owner_id=world["user"].pk, max_clients=1000)[1]
    body = json.dumps({"redirect_uris": ["https://fuzz.example/cb"], **metadata})
    clients = Client.objects.count()
    response = HttpsClient().post(
        "/oauth/register", body, "application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )

    assert_clean(response)
    if response.status_code != 201:
        assert response.json()["error"] in {"invalid_redirect_uri", "invalid_client_metadata"}
        assert Client.objects.count() == clients
