"""Django's error pages, without the CSRF step that reads the request body.

Django's default handlers are wrapped in `requires_csrf_token`, which, on a POST, reads the form
body. When that body is what failed (too many fields, too large), the error page fails the same
way and the client gets the WSGI server's bare 500. These are the same pages without that step.
They render our templates (templates/400.html, 403.html, 404.html, 500.html): the forms on
them (sign out, the language switcher) take their CSRF token from the cookie, never the body;
500.html is drawn with no request at all, so it has none. `__wrapped__` is the view inside
Django's decorator.
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
