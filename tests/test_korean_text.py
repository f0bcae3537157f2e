"""Korean text: a particle attaches to the name before it ("Demo client을(를)", never
"Demo client 을(를)"), in every translation and on the rendered pages.

A name filled into a sentence (an app, a provider, a date, a host) is a placeholder in the
message; the Korean particle after it belongs to it with no space, as after any word.
"""

from __future__ import annotations

import gettext
import re
from collections.abc import Callable
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client as HttpClient

from tests.conftest import RegisteredClient, authorize_url

PARTICLES = (
    r"을\(를\)|이\(가\)|은\(는\)|와\(과\)|\(으\)로|에서|에게|에는|으로|을|를|은|는|에|로|의|와|과"
)
# A placeholder, perhaps closed by a tag, then a space, then a particle standing as a word.
DETACHED_AFTER_PLACEHOLDER = re.compile(
    rf"(%\(\w+\)[sd]|%[sd]|\{{\w*\}})(</\w+>)*\s+({PARTICLES})(?=[\s.,!?:)]|$)"
)
# On a rendered page the name is filled in: a particle written apart from any word.
ON_PAGE = r"을\(를\)|이\(가\)|은\(는\)|와\(과\)|\(으\)로|에서|에는|에"
DETACHED_ON_PAGE = re.compile(rf"\s({ON_PAGE})(?=[\s.,!?:)]|$)")


def korean_catalog() -> dict[str, str]:
    path = Path(settings.LOCALE_PATHS[0]) / "ko" / "LC_MESSAGES" / "django.mo"
    with path.open("rb") as mo:
        catalog: dict[Any, str] = gettext.GNUTranslations(mo)._catalog  # type: ignore[attr-defined]
    return {str(key): value for key, value in catalog.items() if key}


def visible_text(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", "", html))


def test_no_translation_sets_a_particle_apart_from_its_placeholder() -> None:
    detached = [
        text for text in korean_catalog().values() if DETACHED_AFTER_PLACEHOLDER.search(text)
    ]

    assert detached == []


@pytest.mark.parametrize(
    "sentence",
    ["Demo client 을(를) 허용할까요?", "<b>%(host)s</b> (으)로 돌아갑니다", "%(when)s 에 허용함"],
)
def test_the_check_itself_finds_a_detached_particle(sentence: str) -> None:
    assert DETACHED_AFTER_PLACEHOLDER.search(sentence) or DETACHED_ON_PAGE.search(sentence)


def test_the_check_leaves_words_that_only_begin_like_a_particle() -> None:
    assert not DETACHED_AFTER_PLACEHOLDER.search("%(provider)s 로그인을 마치지 못했습니다")
    assert not DETACHED_AFTER_PLACEHOLDER.search("%(provider)s 계정 연결을 해제했습니다.")


def test_consent_and_connected_apps_pages_attach_their_particles(
    signed_in: HttpClient,
    make_client: Callable[..., RegisteredClient],
    exchange: Callable[..., dict[str, Any]],
) -> None:
    client = make_client(name="Demo client")
    exchange(client, scope="openid email")
    korean = {"HTTP_ACCEPT_LANGUAGE": "ko"}

    consent = signed_in.get(authorize_url(client, scope="openid profile"), **korean)
    apps = signed_in.get("/accounts/apps/", **korean)
    signed_in.post(f"/accounts/apps/{client.client_id}/revoke", **korean)
    revoked = signed_in.get("/accounts/apps/", **korean)

    consent_text = visible_text(consent.content.decode())
    assert "Demo client을(를) 허용할까요?" in consent_text
    assert "Demo client에서 회원님의 계정을" in consent_text
    assert "example.com(으)로 돌아갑니다" in consent_text
    assert "에 허용함" in visible_text(apps.content.decode())
    assert "Demo client은(는) 이제" in visible_text(revoked.content.decode())
    for page in (consent, apps, revoked):
        assert not DETACHED_ON_PAGE.findall(visible_text(page.content.decode()))
