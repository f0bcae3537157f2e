"""What the authorization server needs of a person. The person is settings.AUTH_USER_MODEL, which
the accounts app provides: this side never imports it, and asks only for what is below."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol


class Person(Protocol):
    pk: Any
    email: str
    email_verified: bool  # whether this server has confirmed that the email is theirs
    first_name: str
    last_name: str
    picture: str  # a URL, or empty
    updated_at: datetime  # when what is known of them last changed
    is_active: bool

    @property
    def sub(self) -> str:
        """The OpenID Connect subject: stable, and revealing nothing."""
        ...

    def get_username(self) -> str: ...

    def get_full_name(self) -> str: ...
