"""What the engine's libraries load on first use, loaded when the engine is built instead.

phonenumbers imports a region's metadata and compiles its patterns the first time it parses a
number of that region, python-stdnum reads its IBAN registry and compiles a country's format,
email-validator and the fiscal-code check build their tables, and holidays computes a year's
calendar on first lookup. Each takes milliseconds, and a fresh worker paid them all inside its
first second of traffic, where they added up to 100-150 ms of produce → decision latency. The
engine runs every validator once over a text that holds one of each kind of personal data.
"""

from __future__ import annotations

from typing import Final

import phonenumbers

from streamproc.core._pii import PiiFound, find_pii

__all__ = ["WARM_KINDS", "warm_text", "warm_validators"]

# A documented example of each (the IBAN of the Italian banks' association's examples, the
# codice fiscale of the Agenzia delle Entrate's "Mario Rossi", a card test number): none is
# anybody's.
_OTHER_KINDS: Final = (
    "Scrivete a mario.rossi@example.org; IBAN IT60 X054 2811 1010 0000 0123 456,"
    " codice fiscale RSSMRA85T10A562S, carta 4111 1111 1111 1111, P.IVA IT01114601006."
)
WARM_KINDS: Final = frozenset(
    {"email", "phone", "iban", "fiscal_code", "payment_card", "vat_number"}
)


def warm_text(phone_region: str) -> str:
    """A text with one of each kind of personal data, its phone numbers the region's examples
    (a fixed line and a mobile, as its people write them)."""
    numbers = []
    for kind in (phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.MOBILE):
        example = phonenumbers.example_number_for_type(phone_region, kind)
        if example is not None:
            national = phonenumbers.PhoneNumberFormat.NATIONAL
            numbers.append(phonenumbers.format_number(example, national))
    return f"Chiamate {' o '.join(numbers)}. {_OTHER_KINDS}" if numbers else _OTHER_KINDS


def warm_validators(phone_region: str) -> list[PiiFound]:
    """Run every validator once (see the module docstring); what it found, for the tests."""
    return find_pii(warm_text(phone_region), phone_region)
