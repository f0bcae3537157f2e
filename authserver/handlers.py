"""Django's request handlers, reading every request as UTF-8.

URLs and form bodies are UTF-8 (RFC 3986, RFC 6749 Appendix B, HTML forms), whatever charset a
request's Content-Type names. Believing the name let `charset=utf-7` turn a query string into
text that no database or redirect can hold, `charset=hex` fail while Django was still building
the request (answered by the server's bare 500), and a form body in another charset fail when
the CSRF check read it. wsgi.py and asgi.py serve these handlers.
"""

from __future__ import annotations

from typing import Any

from django.core.handlers import asgi, wsgi
from django.utils.http import parse_header_parameters


class ReadAsUtf8:
    content_type: str | None
    content_params: dict[str, str] | None

    def _set_content_type_params(self, meta: dict[str, Any]) -> None:
        """Django's, but the encoding is never taken from the request: it stays UTF-8."""
        self.content_type, self.content_params = parse_header_parameters(
            meta.get("CONTENT_TYPE", "")
        )


class WSGIRequest(ReadAsUtf8, wsgi.WSGIRequest):
    pass


class ASGIRequest(ReadAsUtf8, asgi.ASGIRequest):
    pass


class WSGIHandler(wsgi.WSGIHandler):
    request_class = WSGIRequest


class ASGIHandler(asgi.ASGIHandler):
    request_class = ASGIRequest
