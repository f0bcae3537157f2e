"""When two email addresses are the same: one canonical form (accounts/emails.py). Look-alikes
of ASCII letters that the database's lower() or Unicode folding would take for them (U+212A,
U+0130, U+017F, full-width letters, a combining accent) are other addresses; ASCII case is not,
nor an IDNA domain's two spellings."""

from __future__ import annotations

import pytest

from accounts.emails import email_canonical

# An address, and another that only Unicode folding or normalisation would take for it.
LOOK_ALIKES = [
    pytest.param("nick@site.example", "nic\u212a@site.example", id="kelvin-sign"),
    pytest.param("alice@example.com", "al\u0130ce@example.com", id="capital-i-with-dot"),
    pytest.param("sam@site.example", "\u017fam@site.example", id="long-s"),
    pytest.param("nick@site.example", "\uff4e\uff49\uff43\uff4b@site.example", id="full-width"),
    pytest.param("ren\u00e9@site.example", "rene\u0301@site.example", id="combining-accent"),
]

# The canonical form


@pytest.mark.parametrize(
    ("address", "canonical"),
    [
        ("Alice@EXAMPLE.com", "alice@example.com"),
        ("alice@example.com", "alice@example.com"),
        ("jane@B\u00fccher.Example", "jane@xn--bcher-kva.example"),
        ("jane@xn--bcher-kva.example", "jane@xn--bcher-kva.example"),
        ("stra\u00dfe@stra\u00dfe.example", "stra\u00dfe@xn--strae-oqa.example"),  # no ß to ss
        ("\u00c9LISE@site.example", "\u00c9lise@site.example"),  # only A-Z is folded
    ],
)
def test_the_canonical_form_folds_ascii_case_and_encodes_the_domain(
    address: str, canonical: str
) -> None:
    assert email_canonical(address) == canonical


@pytest.mark.parametrize(("address", "look_alike"), LOOK_ALIKES)
def test_the_canonical_form_keeps_look_alikes_apart_and_as_written(
    address: str, look_alike: str
) -> None:
    assert email_canonical(look_alike) == look_alike
    assert email_canonical(look_alike) != email_canonical(address)


@pytest.mark.parametrize(
    "address",
    [
        "nick", "nick@", "@site.example", "a@b@site.example", '"a@b"@site.example',
        '"nick"@site.example', "nick @site.example", "nick@site.example.", "nick@site..example",
        "nick@site.e\u212axample", "nick@\uff53ite.example", "nick@site\u3002example",
        "nick@cafe\u0301.example", "nick@exa_mple.com", "nick@[192.0.2.1]", "ni\x00ck@site.example",
        "nick@" + ".".join(["a" * 60] * 4) + ".example",
    ],
)  # fmt: skip
def test_an_address_that_cannot_be_compared_has_no_canonical_form(address: str) -> None:
    assert email_canonical(address) is None
