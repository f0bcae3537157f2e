"""Loopback fakes of Google, Naver and Kakao, speaking their documented wire formats.

One `ThreadingHTTPServer` on 127.0.0.1 serves all three under the path prefixes /google, /naver
and /kakao, so the sign-in code meets the same JSON shapes, statuses and quirks it meets upstream
(Naver's HTTP 200 errors and string `expires_in`, Kakao's KOE codes and form-only token endpoint,
Google's two issuer spellings) with no internet. Tests flip switches on a provider (`deny`,
`delay`, `drip`, `token_error`, `id_token_claims`, …) to reproduce an upstream's bad day, and read
`requests` to see exactly what the client sent.

Standard library plus joserfc only, and no Django: the fakes run in any process. The package is
also a development-only Django app (installed with DEBUG on) for its `manage.py fakeproviders`
command; only apps.py and the command touch Django, and nothing here imports them.
"""

from __future__ import annotations

from .base import FakeProvider, Recorded
from .google import FakeGoogle
from .kakao import FakeKakao
from .naver import FakeNaver
from .server import FakeProviders

__all__ = ["FakeGoogle", "FakeKakao", "FakeNaver", "FakeProvider", "FakeProviders", "Recorded"]
