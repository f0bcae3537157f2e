"""`manage.py createclient`: registers a client and shows its secret once."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from oauth.hashing import secret_matches
from oauth.models import Client


def createclient(*args: str) -> dict[str, object]:
    out = StringIO()
    call_command("createclient", *args, stdout=out)
    return json.loads(out.getvalue())


@pytest.mark.django_db
def test_confidential_client_gets_a_secret_stored_only_as_a_hash() -> None:
    printed = createclient(
        "--name",
        "Photo printer",
        "--redirect-uri",
        "https://printer.example/callback",
        "--redirect-uri",
        "http://127.0.0.1/callback",
        "--scope",
        "openid profile",
    )

    client = Client.objects.get(client_id=printed["client_id"])
    secret = str(printed["client_secret"])
    assert client.redirect_uris == ["https://printer.example/callback", "http://127.0.0.1/callback"]
    assert client.allowed_scopes == "openid profile"
    assert not client.is_public and not client.first_party
    assert secret not in client.secret_hash
    assert secret_matches(secret, client.secret_hash)


@pytest.mark.django_db
def test_public_first_party_client_has_no_secret() -> None:
    printed = createclient(
        "--name",
        "Phone app",
        "--redirect-uri",
        "https://app.example/cb",
        "--public",
        "--first-party",
    )

    client = Client.objects.get(client_id=printed["client_id"])
    assert "client_secret" not in printed
    assert client.is_public and client.first_party and client.secret_hash == ""


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--redirect-uri", "http://app.example/cb"], "use https"),
        (["--redirect-uri", "https://app.example/cb#frag"], "fragment"),
        (["--redirect-uri", "https://*.example/cb"], "wildcard"),
        (["--redirect-uri", "/relative"], "absolute"),
        (["--redirect-uri", "https://app.example/cb", "--scope", "openid admin"], "admin"),
        (["--redirect-uri", "https://app.example/cb", "--scope", ""], "cannot be blank"),
    ],
)
def test_bad_registrations_are_refused_and_nothing_is_saved(args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        createclient("--name", "Bad", *args)

    assert not Client.objects.exists()


@pytest.mark.django_db
def test_names_are_unique() -> None:
    createclient("--name", "Twice", "--redirect-uri", "https://a.example/cb")

    with pytest.raises(CommandError, match="already exists"):
        createclient("--name", "Twice", "--redirect-uri", "https://b.example/cb")


@pytest.mark.django_db
def test_a_native_app_is_a_public_first_party_client() -> None:
    printed = createclient(
        "--name", "Our phone app", "--redirect-uri", "https://app.example/cb",
        "--public", "--first-party", "--native",
    )  # fmt: skip

    client = Client.objects.get(client_id=printed["client_id"])
    assert printed["native"] is True
    assert client.native and client.is_public and client.first_party


@pytest.mark.django_db
@pytest.mark.parametrize("trust", [["--public"], ["--first-party"], []])
def test_only_a_public_first_party_client_can_be_native(trust: list[str]) -> None:
    with pytest.raises(CommandError, match="native: Only a public first-party client"):
        createclient("--name", "Not ours", "--redirect-uri", "https://a.example/cb", "--native",
                     *trust)  # fmt: skip

    assert not Client.objects.exists()
