"""The language of the pages people see: a client may ask for one (OIDC Core §3.1.2.1
`ui_locales`), and a person's own pick with the language switcher wins over it."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.utils import translation


def speak_ui_locales(request: HttpRequest, ui_locales: str | None) -> None:
    """Answer in the first of the client's preferred languages the pages speak, if any, unless
    the person picked one with the language switcher: a preference gives way to a choice."""
    if supported_language(request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)):
        return
    for tag in (ui_locales or "").split():
        language = supported_language(tag)
        if language is not None:
            translation.activate(language)
            request.LANGUAGE_CODE = language
            return


def supported_language(tag: str | None) -> str | None:
    """The language of these pages that `tag` names, if any."""
    try:
        return translation.get_supported_language_variant(tag.lower()) if tag else None
    except LookupError:
        return None
