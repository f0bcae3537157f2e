"""Sign in with a username or an email address."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from infra import rows

from .models import User, users_with_email


def user_for_login(login: str) -> User | None:
    """The account a login names. A username match wins over an email match, so no one can
    shadow another's username with an email address."""
    login = login.strip()
    if not login or len(login) > 254 or not login.isprintable():
        return None  # no account is named so (and NUL must not reach PostgreSQL)
    user = User.objects.filter(username=login).first()
    if user is None and "@" in login:
        user = users_with_email(login).first()
    return user


class UsernameOrEmailBackend(ModelBackend):
    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if username is None or password is None:
            return None
        user = user_for_login(username)
        if user is None:
            # Spend the time a real check would, so timing does not tell which accounts exist.
            User().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None

    def get_user(self, user_id: Any) -> User | None:
        """The person a session is signed in as, loaded on every request that asks: by a
        statement written once (infra/rows.py) rather than a queryset compiled each time."""
        user = rows.one(User, id=user_id)
        return user if user is not None and self.user_can_authenticate(user) else None
