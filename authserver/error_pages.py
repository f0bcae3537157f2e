"""Django's error pages, without the CSRF step that reads the request body.

Django's default handlers are wrapped in `requires_csrf_token`, which, on a POST, reads the form
body. When that body is what failed (too many fields, too large), the error page fails the same
way and the client gets the WSGI server's bare 500. These are the same pages without that step
(Django's own templates, which have no form: a 404.html or 500.html of ours must not have one
either). `__wrapped__` is the view inside Django's decorator.
"""

from __future__ import annotations

from typing import Any

from django.views import defaults


def unwrapped(view: Any) -> Any:
    return view.__wrapped__


bad_request = unwrapped(defaults.bad_request)
permission_denied = unwrapped(defaults.permission_denied)
page_not_found = unwrapped(defaults.page_not_found)
server_error = unwrapped(defaults.server_error)
