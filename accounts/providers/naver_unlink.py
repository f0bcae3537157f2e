"""The wire format of Naver's unlink callback (providers.md §6.2): the person's id encrypted
with AES-128-CBC, the form signed with HMAC-SHA256, both keyed by the first 16 bytes of the MD5
of the client secret. Naver sends no nonce: the timestamp and a memory of signatures stand in.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


def unlink_key(client_secret: str) -> bytes:
    return hashlib.md5(client_secret.encode()).digest()[:16]  # noqa: S324  (Naver's choice)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unlink_base_string(client_id: str, encrypted_id: str, timestamp: str) -> str:
    return f"clientId={client_id}&encryptUniqueId={encrypted_id}&timestamp={timestamp}"


def unlink_signature(key: bytes, base_string: str) -> str:
    return b64url(hmac.new(key, base_string.encode(), hashlib.sha256).digest())


def unlink_signature_matches(key: bytes, base_string: str, signature: str) -> bool:
    """Constant-time, with or without base64 padding."""
    expected = unlink_signature(key, base_string).encode()
    return hmac.compare_digest(expected, signature.rstrip("=").encode("utf-8", "replace"))


def unlink_encrypt(key: bytes, uid: str, iv: bytes) -> str:
    """What Naver sends (the fake sends it too): base64url(iv ‖ AES-128-CBC-PKCS5(uid))."""
    padder = padding.PKCS7(128).padder()
    plain = padder.update(uid.encode()) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return b64url(iv + encryptor.update(plain) + encryptor.finalize())


def unlink_decrypt(key: bytes, encrypted_id: str) -> str:
    """The person's Naver id; ValueError for anything that is not one."""
    try:
        raw = base64.urlsafe_b64decode(encrypted_id + "=" * (-len(encrypted_id) % 4))
    except (binascii.Error, ValueError):
        raise ValueError("not base64url") from None
    iv, ciphertext = raw[:16], raw[16:]
    if len(iv) != 16 or not ciphertext or len(ciphertext) % 16:
        raise ValueError("not IV and whole blocks")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    padded = decryptor.update(ciphertext) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    uid = (unpadder.update(padded) + unpadder.finalize()).decode()  # ValueError when garbled
    if not uid or len(uid) > 255 or not uid.isprintable():
        raise ValueError("not an id")
    return uid
