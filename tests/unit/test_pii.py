"""Personal data: validated candidates only. Valid vectors come from Faker's it_IT locale (by
the thousand); a candidate that fails its checksum or numbering plan must not be reported."""

from __future__ import annotations

import random
import re

import phonenumbers
import pytest
from faker import Faker
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import iban as stdnum_iban

from streamproc.core import _pii, find_pii

_BBAN = re.compile(r"([1-9][0-9]*)!([nac])")


def kinds(text: str) -> list[tuple[str, str]]:
    return [(p.kind, text[p.start : p.end]) for p in find_pii(text)]


@pytest.fixture(scope="module")
def fake() -> Faker:
    faker = Faker("it_IT")
    faker.seed_instance(20261121)
    return faker


def test_fiscal_codes_by_the_thousand(fake: Faker) -> None:
    for _ in range(1000):
        code = fake.ssn()
        assert kinds(f"il mio codice fiscale è {code}, grazie") == [("fiscal_code", code)]


def test_fiscal_code_with_a_wrong_check_letter_is_not_personal_data(fake: Faker) -> None:
    rng = random.Random(7)
    for _ in range(500):
        code = fake.ssn()
        wrong = code[:-1] + rng.choice([c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c != code[-1]])
        assert kinds(f"codice {wrong}") == []


def test_omocodic_fiscal_codes_validate() -> None:
    # Omocodia replaces digits with letters (0=L 1=M 2=N 3=P 4=Q 5=R 6=S 7=T 8=U 9=V) and
    # recomputes the check letter.
    assert kinds("CF RSSMRA85T10A56NH ok") == [("fiscal_code", "RSSMRA85T10A56NH")]
    assert kinds("CF rssmra85t10a562s ok") == [("fiscal_code", "rssmra85t10a562s")]


def test_ibans_by_the_thousand(fake: Faker) -> None:
    for _ in range(1000):
        iban = fake.iban()
        printed = " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
        assert kinds(f"IBAN: {iban} grazie") == [("iban", iban)]
        assert kinds(f"bonifico su {printed} entro lunedì") == [("iban", printed)]


def test_iban_with_a_wrong_checksum_is_not_personal_data(fake: Faker) -> None:
    for _ in range(300):
        iban = fake.iban()
        digit = int(iban[2])
        wrong = iban[:2] + str((digit + 1) % 10) + iban[3:]
        assert [k for k, _ in kinds(f"IBAN {wrong}")] == []


@pytest.mark.parametrize("locale", ["it_IT", "en_GB", "de_DE", "fr_FR", "nl_NL", "es_ES", "pt_BR"])
def test_iban_followed_by_words_ends_at_its_country_length(locale: str) -> None:
    # Printed with single spaces, the words after an IBAN look like more of it: only the
    # country's length can validate, so the match stops there however the text goes on.
    faker = Faker(locale)
    faker.seed_instance(3)
    for _ in range(100):
        iban = faker.iban()
        printed = " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
        dashed = printed.replace(" ", "-")
        assert kinds(f"IBAN {printed} a nome di Anna") == [("iban", printed)]
        assert kinds(f"iban {dashed.lower()} ok") == [("iban", dashed.lower())]


def test_every_registered_country_has_the_iban_length_stdnum_accepts() -> None:
    lengths = _pii._IBAN_LENGTHS
    assert lengths is not None and len(lengths) > 80
    fill = {"n": "1", "a": "B", "c": "7"}
    for country, length in lengths.items():
        assert length is not None, country
        structure = _pii.numdb.get("iban").info(country)[0][1]["bban"]
        bban = "".join(fill[kind] * int(count) for count, kind in _BBAN.findall(structure))
        check = stdnum_iban.calc_check_digits(f"{country}00{bban}")
        iban = f"{country}{check}{bban}"
        assert len(iban) == length
        assert stdnum_iban.is_valid(iban, check_country=False)
        assert not stdnum_iban.is_valid(iban + "1", check_country=False)


def test_iban_of_a_country_without_ibans_or_too_short_is_not_personal_data() -> None:
    assert kinds("codice ZZ12 3456 7890 1234 5678") == []
    assert kinds("IT60 X054 2811 1010 0000 0123 45") == []  # one character short


def test_phone_numbers(fake: Faker) -> None:
    valid = invalid = 0
    for _ in range(1000):
        number = fake.phone_number()
        found = [k for k, _ in kinds(f"chiamatemi al {number} dopo le 18")]
        # Faker sometimes invents an area code that Italy's numbering plan does not have
        # ("+39 39050255521"); those are exactly the candidates validation must reject.
        if phonenumbers.is_valid_number(phonenumbers.parse(number, "IT")):
            valid += 1
            assert found == ["phone"], number
        else:
            invalid += 1
            assert found == [], number
    assert valid > 950 and invalid > 0
    for written in ["+39 333 123 4567", "333-1234567", "(06) 6001 1234", "0039 347 1234567"]:
        assert [k for k, _ in kinds(f"tel {written}")] == ["phone"], written


@pytest.mark.parametrize(
    "text",
    [
        "la pratica n. 123456 è ferma",  # a case number: not a valid number anywhere
        "il 21/11/2026 alle 10",
        "dal 2019 al 2024",
        "ho pagato 1.250.000 lire",
        "protocollo 2026/000123",
        "prot. n. 0046262/2021",  # would be a Swedish number (0046...) but for the /year
        "pratica n. 0409498",
        "rif. 0039 333 1234567",  # a reference cue before the digits
    ],
)
def test_numbers_that_are_not_phones(text: str) -> None:
    assert kinds(text) == []


def test_vat_numbers(fake: Faker) -> None:
    for _ in range(500):
        vat = fake.company_vat()[2:]  # Faker writes IT + 11 digits
        assert kinds(f"la mia P.IVA {vat}") == [("vat_number", vat)]


def test_vat_numbers_written_with_the_country_prefix_or_a_verb(fake: Faker) -> None:
    for _ in range(200):
        vat = fake.company_vat()  # IT + 11 digits, no space
        assert kinds(f"fattura a {vat} grazie") == [("vat_number", vat)]
    assert kinds("IT01114601007") == []  # wrong check digit
    assert kinds("la partita iva è 39099600296") == [("vat_number", "39099600296")]


def test_message_ids_are_not_email_addresses() -> None:
    assert kinds("In article <1993Apr5.123456.12345@cs.cmu.edu> he wrote") == []
    assert kinds("Message-ID: <abc.def@news.example.org>") == []
    assert kinds("Mario Rossi <mario.rossi@example.com>") == [("email", "mario.rossi@example.com")]


def test_vat_number_with_a_wrong_check_digit_is_not_personal_data() -> None:
    assert kinds("P.IVA 01114601006") == [("vat_number", "01114601006")]
    assert kinds("P.IVA 01114601007") == []


def test_payment_cards(fake: Faker) -> None:
    for _ in range(500):
        card = fake.credit_card_number(card_type=random.Random(_).choice(["visa", "mastercard"]))
        grouped = " ".join(card[i : i + 4] for i in range(0, len(card), 4))
        assert [k for k, _ in kinds(f"carta {grouped} scad 12/28")] == ["payment_card"], card


def test_card_failing_luhn_is_not_a_card() -> None:
    assert [k for k, _ in kinds("carta 4111 1111 1111 1112")] != ["payment_card"]


def test_emails(fake: Faker) -> None:
    for _ in range(500):
        email = fake.email()
        assert kinds(f"scrivetemi a {email}.") == [("email", email)]
    assert kinds("seguite @inail_it e @mario") == []
    assert kinds("non è un indirizzo: a@b") == []


def test_masks_keep_personal_data_out_of_reasons() -> None:
    (found,) = find_pii("chiamatemi al 333 123 4567")
    assert "123" not in found.masked and found.masked.endswith("67")
    (mail,) = find_pii("mario.rossi@example.com")
    assert "mario" not in mail.masked and "example" not in mail.masked


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Omocodia: every digit of the code replaced by a letter, none left in the text.
        ("CF RSSMRAURTMLARSNL grazie", [("fiscal_code", "RSSMRAURTMLARSNL")]),
        ("scrivete a anna.ferri@example.com", [("email", "anna.ferri@example.com")]),
        # Other scripts' digits: no ASCII digit at all, still a phone number.
        ("tel ٣٣٣ ١٢٣ ٤٥٦٧", [("phone", "٣٣٣ ١٢٣ ٤٥٦٧")]),
        ("fattura IT01114601006", [("vat_number", "IT01114601006")]),  # exactly eleven
        ("IT60 X054 2811 1010 0000 0123 456", [("iban", "IT60 X054 2811 1010 0000 0123 456")]),
        ("chiamami al 12345", []),  # five digits: too few for any number candidate
    ],
)
def test_digit_guards_skip_no_personal_data(text: str, expected: list[tuple[str, str]]) -> None:
    assert kinds(text) == expected


def test_ascii_digits_counts_only_ascii_digits() -> None:
    assert _pii.ascii_digits("a1b2 c3") == 3
    assert _pii.ascii_digits("٣٣٣ ３３ ¹²") == 0
    assert _pii.ascii_digits("\ud800 12 è 3") == 3  # a lone surrogate does not stop the count
    assert _pii.ascii_digits("") == 0


def test_iban_length_without_the_registry_table_tries_every_length(fake: Faker) -> None:
    for _ in range(200):
        iban = fake.iban()
        chars = iban + "PER1FAVORE"  # the words after a printed IBAN, run together
        assert _pii._valid_iban_length(chars, None) == len(iban)
        assert _pii._valid_iban_length(chars) == len(iban)
        assert _pii._valid_iban_length(iban[:-1]) == 0


# The patterns as first written, each opening with its look-behind; the module's forms open
# with a character class so that sre skips ahead, and must find exactly the same spans.
_PLAIN_PATTERNS = {
    "_NUMBER": re.compile(r"(?<![\w+])(?:\+|00)?\d(?:[ .\-/()]{0,2}\d){5,22}(?![\w])"),
    "_VAT_PREFIXED": re.compile(r"(?<![A-Za-z0-9])IT ?(\d{11})(?![0-9])", re.IGNORECASE),
    "_IBAN_START": re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}[0-9]{2}(?=[ -]?[A-Za-z0-9])"),
}
_PIECES = st.sampled_from(
    [
        *["+", "00", "0", "7", "٣", " ", "  ", ".", "-", "/", "(", ")", "a", "é", "_", "\n"],
        *["IT", "it", "ıt", "İT", "K", "x", "AB", "12345", "0113", "01114601006"],
    ]
)


@settings(max_examples=3000, deadline=None)
@given(st.lists(_PIECES, max_size=30).map("".join))
def test_fast_patterns_find_what_the_plain_ones_do(text: str) -> None:
    for name, plain in _PLAIN_PATTERNS.items():
        fast: re.Pattern[str] = getattr(_pii, name)
        spans = [m.span() for m in fast.finditer(text)]
        if name == "_IBAN_START":  # matched at the check digits, two characters in
            spans = [(start - 2, end) for start, end in spans]
        assert spans == [m.span() for m in plain.finditer(text)], name
