"""What the fakes send on their own, as the providers do: notices (unlink webhooks) to a URL of
the authorization server."""

from __future__ import annotations

from typing import Any
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import HTTPRedirectHandler, Request, build_opener

from .base import FORM


class _NoRedirects(HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the providers' notices follow no redirect: a 3xx is the answer


def send_notice(url: str, method: str, params: dict[str, str], headers: dict[str, str]) -> int:
    """Send a provider's notice (an unlink webhook) as it does: `params` in the query of a GET
    or as a form; the answer's status."""
    data = None
    if method == "GET":
        url = f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"
    else:
        data = urlencode(params).encode()
        headers = {**headers, "Content-Type": FORM}
    try:
        with build_opener(_NoRedirects).open(
            Request(url, data=data, headers=headers, method=method), timeout=10
        ) as answer:
            return int(answer.status)
    except HTTPError as error:
        return int(error.code)
