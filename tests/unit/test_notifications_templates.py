"""Every message type in both languages: the facts a member needs, in one SMS."""

import pytest

from services.notifications import templates
from services.notifications.templates import LANGUAGES, MESSAGES, SMS_LIMIT, render, rupiah
from tests.support.notifications import LONG_NAME

LONG = LONG_NAME + " " + LONG_NAME
BIG_TOTAL = 1_234_567_890
NUMBER = "KD-20261127-000123"
MANY_ITEMS = [{"name": LONG, "quantity": 1000}, {"name": "Kopi", "quantity": 2}] + [
    {"name": f"Barang {n}", "quantity": 1} for n in range(40)
]

# the longest facts each message type can get
LONGEST_FACTS = {
    "name": LONG,
    "applicant": LONG,
    "role": "seller",
    "hub": LONG,
    "reason": LONG * 3,
    "product": LONG,
    "price": BIG_TOTAL,
    "stock": 1_000_000,
    "number": NUMBER,
    "items": MANY_ITEMS,
    "total": BIG_TOTAL,
    "method": "delivery",
    "payment": "bank_transfer",
    "address": LONG * 2,
    "pickup": LONG + ", " + LONG,
    "title": LONG,
    "starts_at": "2026-12-01T03:00:00.000Z",
    "capacity": 10_000,
}

# facts a member cannot act without, and so must never be shortened
KEPT = {"number": NUMBER, "total": "Rp1.234.567.890", "starts_at": "01/12/2026"}


def placeholders(template, language):
    import string

    _, text = MESSAGES[language][template]
    return {name for _, name, _, _ in string.Formatter().parse(text)}


TEMPLATES = list(MESSAGES["id"])
CASES = [(template, language) for template in TEMPLATES for language in ("id", "en")]


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_language_has_every_message_type(language):
    assert list(MESSAGES[language]) == TEMPLATES


@pytest.mark.parametrize(("template", "language"), CASES)
def test_every_message_fits_in_one_sms_even_with_long_names_and_big_totals(template, language):
    _, text = render(template, language, LONGEST_FACTS)
    assert len(text) <= SMS_LIMIT, text


@pytest.mark.parametrize(("template", "language"), CASES)
def test_shortening_never_cuts_the_order_number_the_total_or_the_date(template, language):
    _, text = render(template, language, LONGEST_FACTS)
    used = placeholders(template, language)
    for fact, shown in KEPT.items():
        if fact in used or (fact == "starts_at" and "when" in used):
            assert shown in text, text


@pytest.mark.parametrize(("template", "language"), CASES)
def test_every_message_has_a_subject_and_uses_no_unknown_fact(template, language):
    subject, text = render(template, language, LONGEST_FACTS)
    assert subject and text
    assert "{" not in text and "{" not in subject
    known = set(LONGEST_FACTS) | {"when"}
    assert placeholders(template, language) - {None} <= known


@pytest.mark.parametrize("template", TEMPLATES)
def test_each_message_type_says_something_different_in_each_language(template):
    facts = {**LONGEST_FACTS, "name": "Budi", "hub": "Simpul Dau", "items": MANY_ITEMS[1:3]}
    assert render(template, "id", facts)[1] != render(template, "en", facts)[1]


def test_short_facts_are_shown_in_full():
    facts = {
        "number": "KD-1",
        "items": [{"name": "Keripik Tempe", "quantity": 2}],
        "total": 25000,
        "payment": "cod",
    }
    _, text = render("order_confirmed", "id", facts)
    assert text == (
        "Pesanan KD-1 dikonfirmasi: 2x Keripik Tempe. Total Rp25.000, bayar di tempat. "
        "Kami kabari saat pesanan siap."
    )
    _, text = render("order_confirmed", "en", facts)
    assert text.startswith("Order KD-1 confirmed: 2x Keripik Tempe. Total Rp25.000, cash on")


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (0, "Rp0"),
        (500, "Rp500"),
        (1000, "Rp1.000"),
        (12500, "Rp12.500"),
        (1_250_000, "Rp1.250.000"),
        (BIG_TOTAL, "Rp1.234.567.890"),
        (-2500, "-Rp2.500"),
    ],
)
def test_rupiah_are_written_the_indonesian_way(amount, text):
    assert rupiah(amount) == text


@pytest.mark.parametrize("language", [None, "", "fr", "jv", "ID", 7])
def test_an_unknown_language_gets_indonesian(language):
    facts = {"name": "Budi"}
    assert render("welcome", language, facts) == render("welcome", "id", facts)


@pytest.mark.parametrize(
    ("language", "summary"),
    [
        ("id", "2x Keripik, 1x Kopi +3 lainnya"),
        ("en", "2x Keripik, 1x Kopi +3 more"),
    ],
)
def test_the_items_summary_shows_two_lines_and_counts_the_rest(language, summary):
    items = [{"name": "Keripik", "quantity": 2}, {"name": "Kopi", "quantity": 1}] + [
        {"name": "Gula", "quantity": 1}
    ] * 3
    assert templates.items_summary(items, language) == summary


@pytest.mark.parametrize(
    ("language", "when"),
    [("id", "01/12/2026 10.00 WIB"), ("en", "01/12/2026 10:00 WIB")],
)
def test_training_times_are_shown_in_malang_local_time(language, when):
    assert templates.local_time("2026-12-01T03:00:00.000Z", language) == when


def test_a_missing_hub_reads_naturally_in_both_languages():
    assert "di simpul Anda" in render("order_ready_for_pickup", "id", {"pickup": None})[1]
    assert "at your hub" in render("order_ready_for_pickup", "en", {"pickup": None})[1]


def test_a_missing_fact_never_breaks_a_message():
    _, text = render("order_placed_seller", "id", {})
    assert "Pesanan baru -" in text


def test_typed_line_breaks_do_not_reach_the_message():
    _, text = render("product_rejected", "id", {"product": "Kopi", "reason": "Foto\nburam"})
    assert "Foto buram" in text and "\n" not in text
