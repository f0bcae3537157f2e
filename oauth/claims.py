"""What UserInfo (and an access token, for resource servers) says about a person, by scope
(OIDC Core §5.4). The id_token says only who they are: with an access token issued, the scopes'
claims come from UserInfo."""

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
        if user.picture:
            claims["picture"] = user.picture
        claims["updated_at"] = int(user.updated_at.timestamp())
    if "email" in scopes and user.email:
        claims["email"] = user.email
        claims["email_verified"] = user.email_verified
    return claims
