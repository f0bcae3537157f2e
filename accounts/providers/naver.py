"""Naver: OAuth 2.0 on the classic /oauth2.0/ endpoints; the person comes from /v1/nid/me.

Naver wants `state` at the code exchange too, answers some errors with HTTP 200, and spells
`expires_in` as a string. It gives no signal that an email is verified, so it never vouches.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from .base import Pending, Profile, Provider, UpstreamInvalid, UpstreamRefused


class Naver(Provider):
    id = "naver"
    label = _("Naver")
    pkce = False  # only on Naver's separate OIDC endpoints
    # Naver's auth_type=reauthenticate is not asked for: its answer carries no auth_time, so a
    # sign-in through Naver can never prove that it was fresh.

    def token_request_extras(self, pending: Pending) -> dict[str, str]:
        return {"state": pending.state}

    def profile(self, *, token: dict[str, Any], pending: Pending) -> Profile:
        status, body = self.get_json(self.setting("PROFILE_URL"), token)
        if not isinstance(body, dict):
            raise UpstreamInvalid(f"profile: not an object (HTTP {status})")
        if body.get("resultcode") != "00" or "error" in body:
            # Failure whatever the HTTP status: resultcode "024", "028", …
            raise UpstreamRefused(f"profile: HTTP {status}, resultcode {body.get('resultcode')!r}")
        person = body.get("response")
        person = person if isinstance(person, dict) else {}
        uid = person.get("id")
        if not isinstance(uid, str) or not uid:
            raise UpstreamInvalid("profile: no response.id")
        return Profile(
            provider=self.id,
            uid=uid,
            email=str(person.get("email") or ""),
            email_verified=False,
            name=str(person.get("name") or person.get("nickname") or ""),
            picture=str(person.get("profile_image") or ""),
            raw=body,
        )
