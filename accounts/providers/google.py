"""Google: OpenID Connect with PKCE; the person comes from the verified id_token and userinfo."""

from __future__ import annotations

from typing import Any

from .base import Pending, Profile, Provider, UpstreamInvalid, UpstreamRefused


class Google(Provider):
    id = "google"
    label = "Google"
    # No prompt=login: Google's prompt knows only none, consent and select_account.

    def uses_openid(self) -> bool:
        return True

    def scope(self) -> str:
        return "openid email profile"

    def issuers(self) -> list[str]:
        """Google's id_tokens spell their issuer two ways: with and without the scheme."""
        issuer = self.setting("ISSUER")
        return [issuer, issuer.removeprefix("https://").removeprefix("http://")]

    def profile(self, *, token: dict[str, Any], pending: Pending) -> Profile:
        claims = self.id_token_claims(token, pending=pending, issuers=self.issuers())
        status, userinfo = self.get_json(self.setting("USERINFO_URL"), token)
        if status != 200 or not isinstance(userinfo, dict) or "error" in userinfo:
            raise UpstreamRefused(f"userinfo: HTTP {status}")
        if userinfo.get("sub") != claims["sub"]:
            raise UpstreamInvalid("userinfo describes someone else than the id_token")
        merged = {**userinfo, **dict(claims)}
        return Profile(
            provider=self.id,
            uid=str(claims["sub"]),
            email=str(merged.get("email") or ""),
            email_verified=merged.get("email_verified") in (True, "true"),
            name=str(merged.get("name") or ""),
            given_name=str(merged.get("given_name") or ""),
            family_name=str(merged.get("family_name") or ""),
            picture=str(merged.get("picture") or ""),
            raw={"id_token": dict(claims), "userinfo": userinfo},
        )
