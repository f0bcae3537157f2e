"""When two email addresses are the same address: one canonical form, computed here only.

Accounts are found and kept unique by this form (the `email_canonical` column), never by the
database's lower(): PostgreSQL lower-cases the Kelvin sign to k and U+0130 to i, so `nic\u212a@`
reached the account of `nick@`. Only what mail delivery itself treats as equal is folded.
"""

from __future__ import annotations

import string

import idna

# RFC 5321 §4.5.3.1.3: a path is at most 256 octets, the address within it 254.
LONGEST = 254

_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def email_canonical(address: str) -> str | None:
    """The form two addresses share exactly when they are the same address, or None when
    `address` has none (and then it matches no account and can be held by none).

    The local part is kept as written apart from ASCII case (A-Z to a-z and nothing else: no
    Unicode case folding, no NFKC, so look-alikes of ASCII letters stay apart). The domain is
    ASCII-lower-cased and IDNA 2008 encoded, so `bücher.example` and `xn--bcher-kva.example`
    agree; a domain that is not valid IDNA 2008 (no UTS #46 mapping: full-width letters, the
    Kelvin sign, non-NFC text are refused, not folded) has none. So has an address without
    exactly one @, with white space, quotes or backslashes (a quoted local part would be a
    second spelling of the same mailbox), a trailing dot, or longer than 254 characters once
    its domain is ASCII.
    """
    if address.count("@") != 1 or not address.isprintable():
        return None
    if any(char.isspace() or char in '"\\' for char in address):
        return None
    local, domain = address.translate(_ASCII_LOWER).split("@")
    if not local or not domain or domain.endswith("."):
        return None
    try:
        # strict: only U+002E separates labels (IDNA 2008), not the ideographic and full-width
        # full stops that UTS #46 also splits at.
        ascii_domain = idna.encode(domain, strict=True, uts46=False).decode("ascii")
    except ValueError:  # idna.IDNAError is one (a UnicodeError); so is a code point it can't name
        return None
    canonical = f"{local}@{ascii_domain}"
    return canonical if len(canonical) <= LONGEST else None
