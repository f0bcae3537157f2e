"""A refresh retried within REFRESH_RETRY_GRACE gets the first answer again, byte for byte.

A client whose refresh response was lost cannot tell whether the rotation happened; sending the
same refresh token again must not cost it the grant. So the rotation keeps its answer beside the
used token (services.refresh_token_rotate), sealed with AES-256-GCM under a key derived from the
presented refresh token itself: the database holds only the token's SHA-256 hash, from which the
key cannot be computed, so the stored answer is worthless without the token that opens it. The
row's id is authenticated with it, so a sealed answer moved to another row does not open.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime, timedelta

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.utils import timezone

from events.recording import Kind, event_record
from infra import metrics
from infra.origin import NOWHERE, Origin

from .models import RefreshToken

# Fixed: the input key material is the refresh token, 256 random bits, so HKDF needs no secret
# salt (RFC 5869 §3.1), and no slow KDF either. The info names the purpose and its version.
_SALT = b"authserver refresh token retry"
_INFO = b"retry answer v1, AES-256-GCM"
_NONCE_BYTES = 12  # random per answer; each key seals one answer, so it never repeats anyway

security_log = logging.getLogger("oauth.security")


def refresh_token_retry(
    *, token: RefreshToken, refresh_token: str, origin: Origin = NOWHERE
) -> bytes | None:
    """The answer to the first presentation of `token` (used), for `refresh_token` presented
    again within the grace; None when there is none to give. Nothing is signed or written but
    the event: the tokens in the answer are the ones already issued."""
    if not answer_kept(token):
        return None
    assert token.retry_answer is not None  # answer_kept
    answer = answer_open(refresh_token=refresh_token, row_id=token.pk, sealed=token.retry_answer)
    if answer is None:
        return None
    # Recorded as a reuse answered, not revoked: an operator looking into a grant's reuse sees
    # its retries too (a thief within the grace gets only the owner's own tokens, and the next
    # rotation shows the theft). Not as tokens refreshed: nothing new was issued.
    metrics.refresh_reuse.labels("retry").inc()
    event_record(
        Kind.REFRESH_TOKEN_REUSED, origin=origin, user_id=token.grant.user_id,
        client_id=token.grant.client_id, grant=str(token.grant_id), retry=True,
    )  # fmt: skip
    security_log.info(
        "refresh token presented again within the grace: grant=%s client=%s answered again",
        token.grant_id,
        token.grant.client_id,
    )
    return answer


def answer_kept(token: RefreshToken) -> bool:
    """Whether a used token's answer may still be given to a retry."""
    return token.retry_answer is not None and within_grace(token.used_at, timezone.now())


def retry_grace() -> timedelta:
    """How long after a rotation the same token is answered as a retry; zero: never."""
    return timedelta(seconds=settings.REFRESH_RETRY_GRACE)


def within_grace(used_at: datetime | None, now: datetime) -> bool:
    """Whether a token used at `used_at` may still be answered as a retry at `now`."""
    grace = retry_grace()
    return bool(grace) and used_at is not None and now < used_at + grace


def answer_seal(*, refresh_token: str, row_id: int, answer: bytes) -> bytes:
    """The answer encrypted for the row of `refresh_token`: nonce, then ciphertext and tag."""
    nonce = os.urandom(_NONCE_BYTES)
    return nonce + _cipher(refresh_token).encrypt(nonce, answer, _associated(row_id))


def answer_open(*, refresh_token: str, row_id: int, sealed: bytes | memoryview) -> bytes | None:
    """The answer sealed for this token's row; None if another token or row is presented, or
    the bytes were altered."""
    sealed = bytes(sealed)  # a memoryview from some database drivers
    nonce, ciphertext = sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:]
    if len(nonce) < _NONCE_BYTES:
        return None  # cut short: AESGCM would refuse the nonce with a ValueError
    try:
        return _cipher(refresh_token).decrypt(nonce, ciphertext, _associated(row_id))
    except InvalidTag:
        return None


def _cipher(refresh_token: str) -> AESGCM:
    kdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=_INFO)
    return AESGCM(kdf.derive(refresh_token.encode("utf-8", "surrogatepass")))


def _associated(row_id: int) -> bytes:
    return b"oauth_refreshtoken %d" % row_id
