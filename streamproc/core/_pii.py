"""Personal data: candidates by pattern, kept only if they validate.

A candidate that fails validation is not personal data: "my claim 123456789" is a case number,
not a phone number, and "RSSMRA85T10A562X" with a wrong check letter is not a codice fiscale.
Validation is the libraries' job (phonenumbers, python-stdnum, email-validator), not ours.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from stdnum import iban as stdnum_iban
from stdnum import luhn, numdb
from stdnum.iso7064 import mod_97_10
from stdnum.it import codicefiscale, iva

__all__ = ["PiiFound", "find_pii", "mask"]

# The cheap test the engine runs on every comment before looking for personal data at all.
MIN_DIGITS: Final = 5
# The fewest digits each kind of candidate holds, to skip a pattern's scan where the text
# has fewer: a number candidate holds six, a prefixed partita IVA eleven (ASCII: stdnum
# accepts no other digits), an IBAN its two check digits.
_NUMBER_DIGITS: Final = 6
_VAT_DIGITS: Final = 11
_IBAN_DIGITS: Final = 2
_ASCII_DIGITS: Final = b"0123456789"

_EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# Before a Message-ID: a header, or a citation's "-- Larry Wall in <9695@jpl-devvax...>".
_MESSAGE_ID_CUE = re.compile(
    r"(?i)(?:in article|message-id:|references:|in-reply-to:|news:|\bin)\s*<?$"
)
# Two letters and the check digits, then more of the IBAN. Matched at the digits, which sre
# finds with a fast character scan (a pattern that starts with a look-behind is tried at
# every position); the match starts two characters before.
_IBAN_START = re.compile(r"[0-9](?<=(?<![A-Za-z0-9])[A-Za-z]{2}[0-9])[0-9](?=[ -]?[A-Za-z0-9])")
_IBAN_BODY = re.compile(r"[A-Za-z0-9](?:[ -]?[A-Za-z0-9]){0,33}")
_IBAN_SEPARATORS = re.compile(r"[ -]")
_FISCAL_CODE = re.compile(
    r"(?<![A-Za-z0-9])[A-Za-z]{6}[0-9LMNPQRSTUVlmnpqrstuv]{2}[ABCDEHLMPRSTabcdehlmprst]"
    r"[0-9LMNPQRSTUVlmnpqrstuv]{2}[A-Za-z][0-9LMNPQRSTUVlmnpqrstuv]{3}[A-Za-z](?![A-Za-z0-9])"
)
# Digits with the separators people type in phone, card and VAT numbers: an optional + or
# 00, a digit, five to 22 more. Written to open with a character class ("+" or a digit) so
# that sre skips to those; the look-behind after it checks what precedes the match, then
# the + or 00 prefix, if any, is the one just read.
_NUMBER = re.compile(
    r"[+\d](?<![\w+][+\d])(?:(?<=\+)\d|(?<=0)0\d|(?<=\d))(?:[ .\-/()]{0,2}\d){5,22}(?![\w])"
)
_DATE_LIKE = re.compile(r"^\d{1,2}[./-]\d{1,2}[./-]\d{2,4}$|^\d{4}[./-]\d{1,2}[./-]\d{1,2}$")
_VAT_CONTEXT = re.compile(
    r"(?i)(p\.?\s?iva|partita\s+iva|vat|codice\s+iva)"
    r"(?:\W{0,5}(?:è|e|is|n|nr|numero|number|no))?\W{0,5}$"
)
# "IT" and the eleven digits written together (IT01114601006): the usual form of a partita IVA
# in invoices, which the number pattern cannot see (a letter touches the first digit).
# (The look-behind follows the I, so that sre skips to the letter I.)
_VAT_PREFIXED = re.compile(r"I(?<![A-Za-z0-9]I)T ?(\d{11})(?![0-9])", re.IGNORECASE)
# Protocol, file and order numbers: a number after one of these words, or followed by /year,
# is a reference, not a phone ("prot. n. 0046262/2021", "pratica n. 0409498").
_REFERENCE_CONTEXT = re.compile(
    r"(?i)\b(?:prot|protocollo|pratica|fascicolo|fasc|ordine|order|rif|riferimento|ref|"
    r"determina|delibera|sentenza|ricorso|verbale|ticket|file|case|claim)\b\W{0,3}"
    r"(?:(?:n|nr|no|num|numero|number)\b\W{0,3})?$"
)
_YEAR_SUFFIX = re.compile(r"/(?:19|20)\d\d$")
_NUMBER_SEPARATORS = re.compile(r"[\s.\-/()]")
_NOT_DIGIT = re.compile(r"\D")
_CARD_PREFIX = re.compile(r"^(?:4|5[1-5]|2[2-7]|3[47]|6(?:011|5))")


@dataclass(frozen=True, slots=True)
class PiiFound:
    kind: str
    start: int
    end: int
    masked: str


def mask(kind: str, value: str) -> str:
    """A form of ``value`` safe to show in a decision's reasons."""
    compact = _NUMBER_SEPARATORS.sub("", value)
    if kind == "email":
        local, _, domain = value.partition("@")
        return f"{local[:1]}***@***.{domain.rsplit('.', 1)[-1]}"
    return "***" + compact[-2:]


# Addresses of an office, a role or a mailing list, not of a person: the data protection the
# policy asks for is a person's ("scrivete a urp@…", "bug-wget@gnu.org", "…@lists.debian.org").
# The services' and roles' names of RFC 2142, the mailing-list managers', and the Italian
# offices' that institutions and firms publish.
_ROLE_MAILBOXES: Final = frozenset(
    [
        "info",
        "marketing",
        "sales",
        "noc",
        "usenet",
        "news",
        "www",
        "uucp",
        "ftp",
        "ftpmaster",
        "root",
        "mailer-daemon",
        "listmaster",
        "majordomo",
        "listserv",
        "amministrazione",
        "direzione",
        "redazione",
        "segnalazioni",
        "reclami",
        "support",
        "help",
        "helpdesk",
        "assistenza",
        "admin",
        "webmaster",
        "postmaster",
        "hostmaster",
        "abuse",
        "noreply",
        "no-reply",
        "contact",
        "contatti",
        "press",
        "stampa",
        "ufficiostampa",
        "privacy",
        "dpo",
        "urp",
        "segreteria",
        "protocollo",
        "security",
        "bugs",
    ]
)


def _is_role_address(address: str) -> bool:
    local, _, domain = address.lower().rpartition("@")
    return (
        local in _ROLE_MAILBOXES
        or local.startswith(("bug-", "owner-"))
        or local.endswith(("-bugs", "-request", "-owner"))
        or domain.startswith(("lists.", "list."))
    )


def _emails(text: str, taken: list[tuple[int, int]], out: list[PiiFound]) -> None:
    if "@" not in text:
        return
    for m in _EMAIL.finditer(text):
        if _is_message_id(text, m.start(), m.end()):
            taken.append(m.span())  # its digits are no phone number either
            continue
        if _is_role_address(m.group()):
            continue
        try:
            validate_email(m.group(), check_deliverability=False)
        except EmailNotValidError:
            continue
        out.append(PiiFound("email", m.start(), m.end(), mask("email", m.group())))
        taken.append(m.span())


def _is_message_id(text: str, start: int, end: int) -> bool:
    """A Usenet or mail Message-ID (``<1993Apr5.123456.12345@cs.cmu.edu>``): in angle brackets,
    after a cue ("In article", "Message-ID:", "References:") or with a machine-made local part."""
    if text[start - 1 : start] != "<":
        return False
    if _MESSAGE_ID_CUE.search(text[max(0, start - 40) : start]):
        return True  # the closing bracket may be cut off where the citation was wrapped
    if text[end : end + 1] != ">":
        return False
    local = text[start : text.index("@", start)]
    # Machine-made: a serial number, a timestamp, a newsreader's suffix (Gnus: ".fsf").
    return local.isdigit() or local.endswith(".fsf") or sum(c.isdigit() for c in local) >= 6


_BBAN_PART = re.compile(r"([1-9][0-9]*)!([nac])")


def _iban_lengths() -> dict[str, int | None] | None:
    """Each country's IBAN length, from the registry stdnum validates against: its BBAN
    structure ("1!a5!n5!n12!c") fixes it, so no other length can validate. A country maps to
    None where the structure reads otherwise (try every length); the whole table is None if
    the registry is not keyed by two-letter country codes."""
    lengths: dict[str, int | None] = {}
    for _width, low, high, props, _children in numdb.get("iban").prefixes:
        if low != high or len(low) != 2:
            return None
        structure = props.get("bban", "")
        parts = _BBAN_PART.findall(structure)
        fixed = bool(parts) and _BBAN_PART.sub("", structure) == ""
        lengths[low] = 4 + sum(int(count) for count, _kind in parts) if fixed else None
    return lengths


_IBAN_LENGTHS: Final = _iban_lengths()
_ANY_IBAN_LENGTH: Final = 0


def _iban_length(chars: str, lengths: dict[str, int | None] | None) -> int | None:
    """The one length an IBAN starting with ``chars`` can have; 0 if unknown (try every length),
    None if its country has no IBAN."""
    if lengths is None:
        return _ANY_IBAN_LENGTH
    if chars[:2] not in lengths:
        return None
    length = lengths[chars[:2]]
    return _ANY_IBAN_LENGTH if length is None else length


def _ibans(text: str, taken: list[tuple[int, int]], out: list[PiiFound]) -> None:
    for check in _IBAN_START.finditer(text):
        start = check.start() - 2
        # Up to 34 alphanumerics, allowing the single spaces or dashes of printed IBANs; then
        # the longest prefix that validates (the text may go on after the IBAN).
        body = _IBAN_BODY.match(text, start)
        assert body is not None  # _IBAN_START matched four alphanumerics here
        printed = body.group()
        chars = _IBAN_SEPARATORS.sub("", printed).upper()
        length = _valid_iban_length(chars)
        if length:
            end = start + _printed_length(printed, length)
            out.append(PiiFound("iban", start, end, mask("iban", chars[:length])))
            taken.append((start, end))


def _valid_iban_length(chars: str, lengths: dict[str, int | None] | None = _IBAN_LENGTHS) -> int:
    """The length of the longest prefix of ``chars`` that is a valid IBAN, 0 if none: the
    country's length, the only one that can validate, where the registry gives it."""
    known = _iban_length(chars, lengths)
    if known is None or known > len(chars):
        return 0
    if known != _ANY_IBAN_LENGTH:
        # One candidate: stdnum's own checksum test comes first, no need for ours.
        return known if known >= 15 and stdnum_iban.is_valid(chars[:known]) else 0
    for length in range(len(chars), 14, -1):
        candidate = chars[:length]
        # The mod-97 check alone is cheap; stdnum (checksum, country format) decides.
        if mod_97_10.is_valid(candidate[4:] + candidate[:4]) and stdnum_iban.is_valid(candidate):
            return length
    return 0


def _printed_length(printed: str, alphanumerics: int) -> int:
    """Characters of ``printed`` up to and including its ``alphanumerics``-th alphanumeric."""
    seen = 0
    for index, c in enumerate(printed):
        if c not in " -":
            seen += 1
            if seen == alphanumerics:
                return index + 1
    return len(printed)


def _fiscal_codes(text: str, taken: list[tuple[int, int]], out: list[PiiFound]) -> None:
    for m in _FISCAL_CODE.finditer(text):
        if _overlaps(m.span(), taken):
            continue
        if codicefiscale.is_valid(m.group().upper()):
            out.append(PiiFound("fiscal_code", m.start(), m.end(), mask("fiscal_code", m.group())))
            taken.append(m.span())


def _prefixed_vat_numbers(text: str, taken: list[tuple[int, int]], out: list[PiiFound]) -> None:
    for m in _VAT_PREFIXED.finditer(text):
        if not _overlaps(m.span(), taken) and iva.is_valid(m.group(1)):
            out.append(PiiFound("vat_number", m.start(), m.end(), mask("vat_number", m.group())))
            taken.append(m.span())


def _numbers(text: str, region: str, taken: list[tuple[int, int]], out: list[PiiFound]) -> None:
    for m in _NUMBER.finditer(text):
        if _overlaps(m.span(), taken):
            continue
        raw = m.group()
        if _DATE_LIKE.match(raw):
            continue
        digits = _NOT_DIGIT.sub("", raw)
        kind = _classify_number(text, m.start(), raw, digits, region)
        if kind is not None:
            out.append(PiiFound(kind, m.start(), m.end(), mask(kind, raw)))
            taken.append(m.span())


def _classify_number(text: str, start: int, raw: str, digits: str, region: str) -> str | None:
    vat_context = _VAT_CONTEXT.search(text[max(0, start - 20) : start]) is not None
    if len(digits) == 11 and vat_context:
        # Written as a VAT number: it is one if its check digit says so, and nothing else.
        return "vat_number" if iva.is_valid(digits) else None
    if 13 <= len(digits) <= 19 and _CARD_PREFIX.match(digits) and luhn.is_valid(digits):
        return "payment_card"
    if _YEAR_SUFFIX.search(raw) or _REFERENCE_CONTEXT.search(text[max(0, start - 30) : start]):
        return None  # a protocol or file number
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is not None and phonenumbers.is_valid_number(number):
        return "phone"
    if len(digits) == 11 and iva.is_valid(digits) and not raw.startswith(("+", "00")):
        return "vat_number"
    return None


def _overlaps(span: tuple[int, int], taken: list[tuple[int, int]]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in taken)


def ascii_digits(text: str) -> int:
    """How many of the characters of ``text`` are ASCII digits (in UTF-8 no other character
    has a byte below 0x80, so counting bytes is exact)."""
    encoded = text.encode("utf-8", "surrogatepass")
    return len(encoded) - len(encoded.translate(None, _ASCII_DIGITS))


def find_pii(text: str, phone_region: str = "IT") -> list[PiiFound]:
    """Validated personal data in ``text``, in order of position."""
    found: list[PiiFound] = []
    taken: list[tuple[int, int]] = []
    digits = ascii_digits(text)
    _emails(text, taken, found)
    if digits >= _IBAN_DIGITS:
        _ibans(text, taken, found)
    _fiscal_codes(text, taken, found)  # omocodia may leave a codice fiscale without digits
    if digits >= _VAT_DIGITS:
        _prefixed_vat_numbers(text, taken, found)
    # The number pattern's \d also takes other scripts' digits, which only ASCII text lacks.
    if digits >= _NUMBER_DIGITS or not text.isascii():
        _numbers(text, phone_region, taken, found)
    found.sort(key=lambda f: f.start)
    return found
