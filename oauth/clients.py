"""Registered clients, held in each process: every token request looks its client up, and
clients change rarely. Saving or deleting a client moves a shared stamp (see shared.py), so a
change (a disabled client, a rotated secret) reaches every process within
SHARED_CACHE_CHECK_INTERVAL seconds.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import Client
from .shared import SharedStamp

# Visible ASCII: generated ids are URL-safe base64, hand-picked ones (demo-client) similar.
CLIENT_ID_SHAPE = re.compile(r"[\x21-\x7e]{1,64}")
# Enough for every client of a large deployment; unknown ids are never held.
MAX_HELD = 10_000

clients_stamp = SharedStamp("oauth:clients")
_held: dict[str, Client] = {}
_lock = threading.Lock()


def active_client(client_id: str) -> Client | None:
    """The enabled client with this id. Disabled clients are unknown: they can neither start a
    flow nor use a token."""
    if not isinstance(client_id, str) or not CLIENT_ID_SHAPE.fullmatch(client_id):
        return None  # NUL and other odd bytes must not reach the database
    if clients_stamp.moved():
        clients_forget()
    client = _held.get(client_id)
    if client is None:
        client = Client.objects.active().filter(client_id=client_id).first()
        if client is not None:
            with _lock:
                if len(_held) >= MAX_HELD:
                    _held.clear()
                _held[client_id] = client
    return client


def clients_forget() -> None:
    with _lock:
        _held.clear()


@receiver(post_save, sender=Client)
@receiver(post_delete, sender=Client)
def client_changed(sender: Any, **kwargs: Any) -> None:
    clients_stamp.move()
    clients_forget()
