"""Text and JSON from outside (a request, a provider's profile) made safe to store and show."""

from __future__ import annotations

import math
import re
from typing import Any

# Lone surrogates (U+D800 to U+DFFF) are halves of UTF-16 pairs: JSON's "\ud83d" escape makes
# one (say, a name cut mid-emoji), and no UTF-8 can encode it.
UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")
UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")
MAX_STORED_DEPTH = 32


def printable(value: str, limit: int) -> str:
    """No control characters (PostgreSQL refuses NUL) and no lone surrogates, at most `limit`
    characters."""
    return UNPRINTABLE.sub("", value)[:limit]


def storable(value: Any, depth: int = 0) -> Any:
    """Outside JSON made safe to store: PostgreSQL's jsonb refuses the NUL character, lone
    surrogates, NaN and infinities (which Python's JSON parser lets through). What is nested
    deeper than MAX_STORED_DEPTH is left out: no honest document goes that deep, and the
    walk would otherwise run out of stack on one that parsed fine."""
    if isinstance(value, str):
        return UNSTORABLE.sub("", value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list | dict) and depth >= MAX_STORED_DEPTH:
        return None
    if isinstance(value, list):
        return [storable(item, depth + 1) for item in value]
    if isinstance(value, dict):
        return {storable(str(key)): storable(item, depth + 1) for key, item in value.items()}
    return value
