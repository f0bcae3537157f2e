"""What every request and response goes through: UTF-8 only in, security headers out."""

from __future__ import annotations

import codecs
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

# No inline script anywhere, no framing (clickjacking), nothing loaded from elsewhere but images
# (a client's logo). No form-action: the consent form's answer is a redirect to the client,
# which browsers would hold to form-action too.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: https:",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)


class ContentSecurityPolicy:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        return response


class Utf8Only:
    """URLs and form bodies are read as UTF-8 (RFC 3986, RFC 6749 Appendix B, HTML forms),
    whatever charset a request names. Believing it let `charset=utf-7` turn a query string into
    text that no database or redirect can hold, and a form body in another charset made Django's
    CSRF check, then its error pages, fail to read it: a 500."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.encoding and codecs.lookup(request.encoding).name != "utf-8":
            request.encoding = "utf-8"
        return self.get_response(request)
