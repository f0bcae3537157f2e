"""Resource APIs for people, served by DRF and protected by access tokens alone."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from oauth.authentication import BearerTokenAuthentication, HasScope

PROFILE_CLAIMS = (
    "sub", "name", "preferred_username", "given_name", "family_name", "picture", "updated_at",
    "email", "email_verified",
)  # fmt: skip


class Me(APIView):
    """The token owner's profile, from the token's claims: no database query at all."""

    authentication_classes = [BearerTokenAuthentication]
    permission_classes = [HasScope("profile")]

    def get(self, request: Request) -> Response:
        claims = cast(Mapping[str, Any], request.auth)  # BearerTokenAuthentication's
        return Response({name: claims[name] for name in PROFILE_CLAIMS if name in claims})

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        """A person's profile, or the refusal of one: no cache may keep either."""
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Cache-Control"] = "no-store"
        return response
