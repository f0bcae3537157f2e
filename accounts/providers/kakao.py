"""Kakao: OAuth 2.0 with PKCE, and OpenID Connect when `openid` is among KAKAO_SCOPES; the
person comes from /v2/user/me (and must match the id_token's `sub`).

Kakao vouches for an email only when it is both still valid and verified.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from .base import Pending, Profile, Provider, UpstreamInvalid, UpstreamRefused

FORM = "application/x-www-form-urlencoded;charset=utf-8"


class Kakao(Provider):
    id = "kakao"
    label = _("Kakao")
    reauthentication = {"prompt": "login"}

    @property
    def token_auth_method(self) -> str:  # type: ignore[override]
        return "client_secret_post" if self.client_secret else "none"

    def scopes(self) -> list[str]:
        return self.setting("SCOPES").replace(",", " ").split()

    def scope(self) -> str | None:
        # Kakao's documentation separates consent items with commas.
        return ",".join(self.scopes()) or None

    def uses_openid(self) -> bool:
        return "openid" in self.scopes()

    def profile(self, *, token: dict[str, Any], pending: Pending) -> Profile:
        claims = None
        if self.uses_openid():
            claims = self.id_token_claims(token, pending=pending, issuers=[self.setting("ISSUER")])
        profile = self.user_profile(token)
        if claims is not None and claims["sub"] != profile.uid:
            raise UpstreamInvalid("profile describes someone else than the id_token")
        return profile

    def user_profile(self, token: dict[str, Any]) -> Profile:
        """The person an access token is for, from /v2/user/me."""
        status, body = self.get_json(self.setting("PROFILE_URL"), token, **{"Content-Type": FORM})
        if status != 200 or not isinstance(body, dict) or "code" in body:
            raise UpstreamRefused(f"profile: HTTP {status}")
        uid = body.get("id")
        if isinstance(uid, bool) or not isinstance(uid, int):
            raise UpstreamInvalid("profile: no numeric id")
        account = mapping(body.get("kakao_account"))
        profile = mapping(account.get("profile"))
        properties = mapping(body.get("properties"))
        email = account.get("email")
        email = email if isinstance(email, str) else ""
        return Profile(
            provider=self.id,
            uid=str(uid),
            email=email,
            email_verified=bool(
                email
                and account.get("is_email_valid") is True
                and account.get("is_email_verified") is True
            ),
            name=str(
                account.get("name") or profile.get("nickname") or properties.get("nickname") or ""
            ),
            picture=str(profile.get("profile_image_url") or properties.get("profile_image") or ""),
            raw=body,
        )


def mapping(value: Any) -> dict[str, Any]:
    """A part of the profile that should be an object, or an empty one."""
    return value if isinstance(value, dict) else {}
