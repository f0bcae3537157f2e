"""App logos: an upload checked as PNG, JPEG or WebP by Pillow, refused when too large in
bytes or pixels (before any pixel is decoded, against decompression bombs), and re-encoded as a
small PNG, so that what is served is an image we made, never the bytes that were sent."""

from __future__ import annotations

import io
import warnings
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from infra.origin import NOWHERE, Origin
from oauth.clients import client_update
from oauth.models import Client

from .models import AppLogo
from .team import UserId

MAX_BYTES = 512 * 1024
MAX_PIXELS = 2048 * 2048  # of the upload, read from its header before decoding
SIDE = 256  # of the logo served
FORMATS = ["PNG", "JPEG", "WEBP"]


class LogoRefused(Exception):
    """Not an image we take; its message is for the person."""


def logo_encode(upload: UploadedFile[Any]) -> bytes:
    if upload.size is None or upload.size > MAX_BYTES:
        raise LogoRefused(_("The image is too large: at most 512 KB."))
    data = upload.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise LogoRefused(_("The image is too large: at most 512 KB."))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=FORMATS) as image:
                width, height = image.size
                if width < 1 or height < 1 or width * height > MAX_PIXELS:
                    raise LogoRefused(_("The image has too many pixels: at most 2048 × 2048."))
                image.seek(0)  # an animation's first frame
                image.load()
                picture = image.convert("RGBA")
    except LogoRefused:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning,
            OSError, ValueError, SyntaxError, EOFError):  # fmt: skip
        raise LogoRefused(_("Upload a PNG, JPEG or WebP image.")) from None
    picture.thumbnail((SIDE, SIDE))
    out = io.BytesIO()
    picture.save(out, format="PNG", optimize=True)
    return out.getvalue()


def logo_set(
    client: Client, upload: UploadedFile[Any], *, actor_id: UserId, origin: Origin = NOWHERE
) -> None:
    image = logo_encode(upload)
    with transaction.atomic():
        logo, _created = AppLogo.objects.update_or_create(
            client=client, defaults={"image": image, "updated_at": timezone.now()}
        )
        version = int(logo.updated_at.timestamp())
        path = reverse("developers:logo", args=[client.client_id])
        client.logo_uri = f"{settings.ISSUER}{path}?v={version}"
        client_update(client, fields=["logo_uri"], origin=origin, actor_id=actor_id)
