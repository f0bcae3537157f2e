"""App logos uploaded in the console: PNG, JPEG or WebP only, checked and re-encoded by Pillow,
size-limited, safe from decompression bombs, served from our origin with headers that keep a
browser from taking them for anything else (no SVG, no sniffing)."""

from __future__ import annotations

import io
from collections.abc import Callable
from http import HTTPStatus

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client as HttpClient
from PIL import Image

from accounts.models import User
from developers.models import AppLogo
from oauth.models import Client, ClientMember
from tests.conftest import HttpsClient, RegisteredClient, authorize_url


def image_bytes(fmt: str, size: tuple[int, int] = (400, 300), mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, color=1 if mode == "1" else (200, 30, 30)).save(out, format=fmt)
    return out.getvalue()


@pytest.fixture
def app(make_client: Callable[..., RegisteredClient], user: User) -> RegisteredClient:
    client = make_client(name="Pictured", kind="web", live=False)
    ClientMember.objects.create(client=client.model, user=user, role="developer")
    return client


def upload(browser: HttpClient, app: RegisteredClient, data: bytes, name: str = "logo") -> None:
    file = SimpleUploadedFile(name, data, content_type="image/png")
    browser.post(f"/developers/apps/{app.client_id}/logo", {"logo": file})


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_a_logo_is_re_encoded_and_served_from_our_origin(
    signed_in: HttpClient, app: RegisteredClient, fmt: str
) -> None:
    sent = image_bytes(fmt)
    upload(signed_in, app, sent)

    client = Client.objects.get(pk=app.model.pk)
    assert client.logo_uri.startswith(f"http://127.0.0.1:8000/developers/logos/{app.client_id}?v=")
    response = HttpsClient().get(f"/developers/logos/{app.client_id}")
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    served = Image.open(io.BytesIO(response.content))
    assert served.format == "PNG" and max(served.size) <= 256
    assert response.content != sent


def test_the_consent_page_shows_the_uploaded_logo(
    signed_in: HttpClient, app: RegisteredClient
) -> None:
    upload(signed_in, app, image_bytes("PNG"))

    page = signed_in.get(authorize_url(app)).content.decode()

    assert f"/developers/logos/{app.client_id}?v=" in page


@pytest.mark.parametrize(
    "data",
    [
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        b"GIF89a" + image_bytes("GIF")[6:],
        b"not an image at all",
        image_bytes("PNG")[:60],  # truncated
        image_bytes("BMP"),
        image_bytes("PNG", (3000, 3000), "1"),  # too many pixels
        image_bytes("PNG", (20000, 20000), "1"),  # a decompression bomb: small file, huge image
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 600_000,  # too many bytes
        b"",
    ],
)
def test_anything_else_is_a_form_error_and_changes_nothing(
    signed_in: HttpClient, app: RegisteredClient, data: bytes
) -> None:
    file = SimpleUploadedFile("logo.png", data, content_type="image/png")

    response = signed_in.post(f"/developers/apps/{app.client_id}/logo", {"logo": file}, follow=True)

    assert response.status_code == HTTPStatus.OK
    assert any(message.level_tag == "error" for message in response.context["messages"])
    assert not AppLogo.objects.exists()
    assert Client.objects.get(pk=app.model.pk).logo_uri == ""


def test_viewers_cannot_upload(app: RegisteredClient, make_user: Callable[..., User]) -> None:
    viewer = make_user("vic")
    ClientMember.objects.create(client=app.model, user=viewer, role="viewer")
    browser = HttpsClient()
    browser.force_login(viewer)
    file = SimpleUploadedFile("logo.png", image_bytes("PNG"), content_type="image/png")

    response = browser.post(f"/developers/apps/{app.client_id}/logo", {"logo": file})

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert not AppLogo.objects.exists()


def test_an_unknown_logo_is_404(db: None) -> None:
    assert HttpsClient().get("/developers/logos/nothing").status_code == HTTPStatus.NOT_FOUND
