"""The boundary of /oauth/register and the registration_client_uri: JSON in, the RFC 7591
§3.2.2 error JSON out (with `Cache-Control: no-store`), never a 500, whatever is sent."""

from __future__ import annotations

import json
from collections.abc import Callable

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import InvalidRequestError
from authlib.oauth2.rfc7591 import InvalidClientMetadataError
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from infra.origin import Origin
from infra.ratelimit import address_subject, rate_hit
from oauth.errors import TooManyRequests
from oauth.server import server

# Metadata of a client is a few hundred bytes; anything near this is not one.
MAX_BODY = 64 * 1024


def error_response(error: OAuth2Error, *, status: int | None = None) -> HttpResponse:
    response: HttpResponse = server.handle_error_response(None, error)
    if status is not None:
        response.status_code = status
    return response


def check_json_body(request: HttpRequest) -> None:
    """A JSON object of a sane size: too large, too deep, or not an object is refused here,
    before authlib reads it."""
    if request.content_type != "application/json":
        raise InvalidRequestError("Send the metadata as application/json.")
    try:
        length = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        length = MAX_BODY + 1
    if length > MAX_BODY:
        raise InvalidClientMetadataError(description="The metadata is too large.")
    body = request.body
    if len(body) > MAX_BODY:
        raise InvalidClientMetadataError(description="The metadata is too large.")
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise InvalidClientMetadataError(description="The metadata is not valid JSON.") from None
    if not isinstance(data, dict):
        raise InvalidClientMetadataError(description="The metadata must be a JSON object.")


def json_endpoint(name: str, methods: set[str]) -> Callable[..., HttpResponse]:
    @csrf_exempt
    def endpoint(request: HttpRequest, client_id: str | None = None) -> HttpResponse:
        if request.method not in methods:
            response = error_response(InvalidRequestError("Method not allowed."), status=405)
            response["Allow"] = ", ".join(sorted(methods))
            return response
        try:
            origin = Origin.of(request)
            verdict = rate_hit("registration_address", address_subject(origin.ip_address),
                               origin=origin)  # fmt: skip
            if not verdict.allowed:
                raise TooManyRequests(verdict.retry_after)
            if request.method in {"POST", "PUT"}:
                check_json_body(request)
            answer: HttpResponse = server.create_endpoint_response(name, request)
            return answer
        except OAuth2Error as error:
            return error_response(error)
        except RequestDataTooBig:
            return error_response(InvalidClientMetadataError(description="Too large."))
        except (ValueError, RecursionError, TypeError):
            return error_response(InvalidClientMetadataError(description="Malformed metadata."))

    return endpoint


register = json_endpoint("client_registration", {"POST"})
configure = json_endpoint("client_configuration", {"GET", "PUT", "DELETE"})
