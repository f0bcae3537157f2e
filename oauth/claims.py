"""What the id_token and the UserInfo endpoint say about a person, by scope (OIDC Core §5.4)."""

from __future__ import annotations

from authlib.oidc.core import UserInfo

from .people import Person
from .scopes import scope_list


def user_claims(user: Person, scope: str) -> UserInfo:
    scopes = set(scope_list(scope))
    claims = UserInfo(sub=user.sub)
    if "profile" in scopes:
        claims["name"] = user.get_full_name() or user.get_username()
        claims["preferred_username"] = user.get_username()
        if user.first_name:
            claims["given_name"] = user.first_name
        if user.last_name:
            claims["family_name"] = user.last_name
    if "email" in scopes and user.email:
        claims["email"] = user.email
        claims["email_verified"] = user.email_verified
    return claims
