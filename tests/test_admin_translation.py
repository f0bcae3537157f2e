"""The admin in Korean: Django translates its own words; ours (apps, models, fields, help
texts, actions) are translated too, so an operator reading Korean meets no English."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.apps import apps
from django.test import Client as HttpClient
from django.utils.functional import Promise

from accounts.models import User
from tests.conftest import HttpsClient, RegisteredClient


@pytest.fixture
def operator(make_user: Callable[..., User]) -> HttpClient:
    browser = HttpsClient(HTTP_ACCEPT_LANGUAGE="ko")
    browser.force_login(make_user("operator", is_staff=True, is_superuser=True))
    return browser


def test_the_admins_home_names_our_apps_and_models_in_korean(operator: HttpClient) -> None:
    page = operator.get("/admin/").content.decode()

    for korean in (
        "계정",
        "클라이언트",
        "그랜트",
        "동의",
        "서명 키",
        "보안 이벤트",
        "연결된 제공자 계정",
    ):
        assert korean in page
    for english in ("Social identities", "Signing keys", "Security events", "Consents", "Grants"):
        assert english not in page


def test_a_clients_page_has_korean_labels_and_help(
    operator: HttpClient, make_client: Callable[..., RegisteredClient]
) -> None:
    client = make_client(name="Photo printer")

    page = operator.get(f"/admin/oauth/client/{client.model.pk}/change/").content.decode()

    labels = ("리디렉션 URI", "허용된 스코프", "자사 앱", "모든 토큰 조회 허용")
    help_texts = ("비워 두면 서버 기본값을 씁니다", "사용자에게 동의를 묻지 않습니다")
    for korean in (*labels, *help_texts):
        assert korean in page
    for english in ("Redirect uris", "First party", "empty for the server's default"):
        assert english not in page


def test_the_security_events_list_is_in_korean(operator: HttpClient, user: User) -> None:
    page = operator.get("/admin/events/securityevent/").content.decode()

    for korean in ("생성 시각", "종류", "운영자", "IP 주소"):
        assert korean in page
    assert "Created at" not in page and "Ip address" not in page


@pytest.mark.parametrize("app", ["accounts", "oauth", "events", "developers"])
def test_every_model_and_field_of_ours_has_a_translatable_name(app: str) -> None:
    """What the admin shows of our models (their names, field labels, help) is translatable:
    a new model or field written without _() would show English in a Korean admin."""
    untranslatable = [
        f"{model.__name__}.{name}"
        for model in apps.get_app_config(app).get_models()
        for name, text in [
            ("Meta.verbose_name", model._meta.verbose_name),
            *(
                (f"{field.name} {part}", getattr(field, part))
                for field in model._meta.get_fields()
                if field.concrete and field.name != "id"
                for part in ("verbose_name", "help_text")
                if getattr(field, part)
            ),
        ]
        if not isinstance(text, Promise)
    ]
    assert untranslatable == []
