"""Every reply to a command, in both languages: the facts the member needs in one plain
SMS (GSM-7, at most 160 septets), whatever the values; codes, prices, order numbers
and totals whole, names shortened instead."""

import re
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import validate

from services.catalogue import contract as catalogue
from services.catalogue.schemas import CreateProductSchema
from services.catalogue.schemas import RejectSchema as RejectProductSchema
from services.common import gsm
from services.community.schemas import ApplySchema, CreateHubSchema, RegisterSchema
from services.messaging import parser
from services.messaging.replies import TEMPLATES, WORDS, render
from services.orders import contract as orders
from services.orders.schemas import MAX_QUANTITY
from tests.support.notifications import LONG_NAME

NUMBER = "KD-000123"
PHONE = "+6281234567890"  # E.164 numbers of Indonesian mobiles are at most 15 characters
MAX_TOTAL = parser.MAX_LINES * MAX_QUANTITY * catalogue.MAX_PRICE


def longest(schema, field):
    """The most characters the API accepts in ``field`` of ``schema``."""
    found = schema().fields[field].validate
    validators = found if isinstance(found, list) else [found]
    return max(v.max for v in validators if isinstance(v, validate.Length))


def typed(sample, length):
    return (sample * (length // len(sample) + 1))[:length]


# what members may type: plain letters; characters that take two septets each; and
# characters outside GSM-7 written as one, three or no characters in it
KINDS = {
    "plain": LONG_NAME,
    "escaped": "€[Toko]{Bu}~|^\\",
    "ellipses": "…",
    "foreign": "Siti “Ani” – Café Łódź ©🌶️👍🏽 李小龙 ﬁ ½ ​　",
}


def longest_values(kind):
    """The longest values each reply can get, typed in ``kind`` characters."""
    sample = KINDS[kind]
    product = {
        "code": "K7MABZ",
        "name": typed(sample, longest(CreateProductSchema, "name")),
        "price": catalogue.MAX_PRICE,
    }
    return {
        "name": typed(
            sample, max(longest(RegisterSchema, "name"), longest(ApplySchema, "business_name"))
        ),
        "hub": typed(sample, longest(CreateHubSchema, "name")),
        "role": "seller",
        "words": typed(sample, parser.MAX_WORDS),
        "number": NUMBER,
        "total": MAX_TOTAL,
        "reason": typed(sample, longest(RejectProductSchema, "reason")),
        "code": "K7MABZ",
        "status": "ready_for_pickup",
        "stock": catalogue.MAX_STOCK,
        "reference": typed(sample, parser.MAX_REFERENCE),
        "products": [product] * 3,
        "phone": PHONE,
    }


CASES = [(key, language) for key in TEMPLATES for language in ("id", "en")]


def fields_of(key, language):
    return {name for _, name, _, _ in string.Formatter().parse(TEMPLATES[key][language]) if name}


def test_every_reply_key_the_messaging_service_uses_is_there_in_both_languages():
    keys = (
        "help registered already_registered not_registered applied no_such_hub found "
        "found_nothing ordered order_rejected unknown_code order_status no_orders "
        "unknown_order cancelled cannot_cancel stock_changed not_your_product ready "
        "cannot_ready stopped started suspended not_allowed mixed_hubs proof_sent cannot_pay "
        "ordered_for agents_only"
    ).split()
    usages = [f"usage_{verb.lower()}" for verb in parser.WITH_ARGUMENTS] + ["usage_pesan_untuk"]
    assert sorted(TEMPLATES) == sorted(keys + usages)
    for key in TEMPLATES:
        assert set(TEMPLATES[key]) == {"id", "en"}
        assert fields_of(key, "id") == fields_of(key, "en"), key


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("key", "language"), CASES)
def test_every_reply_is_one_plain_sms_with_the_longest_values_the_api_accepts(key, language, kind):
    text = render(key, language, **longest_values(kind))
    assert gsm.is_gsm7(text), text
    assert gsm.septets(text) <= gsm.SMS_SEPTETS, text


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("key", "language"), CASES)
def test_shortening_never_cuts_a_code_a_price_an_order_number_or_a_total(key, language, kind):
    text = render(key, language, **longest_values(kind))
    kept = {
        "number": NUMBER,
        "total": "Rp9.990.000.000.000",
        "code": "K7MABZ",
        "products": "Rp1.000.000.000",
        "stock": "1.000.000" if language == "id" else "1,000,000",
        "phone": "+62********890",
    }
    for field in fields_of(key, language) & set(kept):
        assert kept[field] in text, text
    if "products" in fields_of(key, language):
        assert text.count("K7MABZ") == 3 and text.count("Rp1.000.000.000") == 3, text


@pytest.mark.parametrize(("key", "language"), CASES)
def test_every_template_is_written_in_gsm7_with_room_for_its_values(key, language):
    pattern = TEMPLATES[key][language]
    assert gsm.is_gsm7(pattern)
    assert "…" not in pattern
    room = 30 if fields_of(key, language) else 0  # for the values, at the least
    assert gsm.septets(re.sub(r"\{\w+\}", "", pattern)) <= gsm.SMS_SEPTETS - room, pattern


@pytest.mark.parametrize("language", ["id", "en"])
def test_help_lists_every_command_in_the_language_within_one_sms(language):
    text = render("help", language)
    english = {verb: word for word, verb in parser.ALIASES.items()}
    for verb in parser.VERBS:
        if verb != "BANTUAN":
            assert (verb if language == "id" else english.get(verb, verb)) in text, verb
    assert gsm.septets(text) <= gsm.SMS_SEPTETS


@pytest.mark.parametrize("language", ["id", "en"])
def test_help_shows_how_to_order_for_a_customer(language):
    form = "PESAN kode jumlah (UNTUK no hp)" if language == "id" else "ORDER code qty (FOR phone)"
    assert form in render("help", language)


USAGES = [(f"usage_{verb.lower()}", verb) for verb in parser.WITH_ARGUMENTS] + [
    ("usage_pesan_untuk", "PESAN")
]


@pytest.mark.parametrize(("key", "verb"), USAGES)
@pytest.mark.parametrize("language", ["id", "en"])
def test_each_usage_shows_the_form_and_an_example_that_reads_as_that_command(key, verb, language):
    text = render(key, language)
    example = text.split("Contoh: " if language == "id" else "Example: ")[1]
    for shown in re.split(r" (?:atau|or) ", example):
        command = parser.parse(shown)
        assert command["verb"] == verb and command["problem"] is None, shown
        assert command["language"] == language or verb == "STATUS"


FACTS = [
    ("registered", "id", {"name": "Siti"}, "Selamat datang, Siti!"),
    ("registered", "en", {"name": "Siti"}, "Welcome, Siti!"),
    ("applied", "id", {"hub": "Pujon Kidul", "role": "seller"}, "sebagai penjual di Pujon Kidul"),
    ("applied", "en", {"hub": "Pujon Kidul", "role": "buyer"}, "as a buyer at Pujon Kidul"),
    ("ordered", "id", {"number": NUMBER, "total": 37500, "hub": "Pujon"}, "total Rp37.500"),
    ("ordered", "en", {"number": NUMBER, "total": 37500, "hub": "Pujon"}, "Order KD-000123"),
    (
        "order_status",
        "id",
        {"number": NUMBER, "status": "ready_for_pickup", "total": 12500},
        "Pesanan KD-000123: siap diambil. Total Rp12.500.",
    ),
    (
        "order_status",
        "en",
        {"number": NUMBER, "status": "pending", "total": 12500.0},
        "Order KD-000123: awaiting confirmation. Total Rp12.500.",
    ),
    ("cannot_cancel", "id", {"number": NUMBER, "status": "completed"}, "lagi: selesai."),
    ("cannot_ready", "en", {"number": NUMBER, "status": "cancelled"}, "ready: cancelled."),
    (
        "stock_changed",
        "id",
        {"code": "K7MA", "name": "Keripik Tempe", "stock": 12000},
        "Stok K7MA Keripik Tempe sekarang 12.000.",
    ),
    ("stock_changed", "en", {"code": "K7MA", "name": "Chips", "stock": 1200}, "now 1,200."),
    ("found_nothing", "en", {"words": "kopi\nluwak"}, "for kopi luwak."),
    (
        "ordered_for",
        "id",
        {"number": NUMBER, "total": 37500, "phone": PHONE, "hub": "Pujon"},
        "Pesanan KD-000123 untuk +62********890 diterima: total Rp37.500",
    ),
    (
        "ordered_for",
        "en",
        {"number": NUMBER, "total": 37500, "phone": PHONE, "hub": "Pujon"},
        "Order KD-000123 for +62********890 received: total Rp37.500",
    ),
    ("agents_only", "id", {"hub": "Pujon Kidul"}, "hanya agen simpul Pujon Kidul"),
    ("agents_only", "en", {"hub": "Pujon Kidul"}, "only the agents of Pujon Kidul"),
    ("order_rejected", "en", {"number": NUMBER, "reason": "Not enough stock."}, "stock. Nothing"),
]


@pytest.mark.parametrize(("key", "language", "values", "shown"), FACTS)
def test_facts_are_written_in_the_words_of_the_language(key, language, values, shown):
    assert shown in render(key, language, **values)


def test_every_order_status_has_a_word_in_each_language():
    for status in orders.STATUSES:
        for language in ("id", "en"):
            text = render("order_status", language, number=NUMBER, status=status, total=1)
            assert f": {WORDS[language][status]}. " in text, text
            assert "_" not in text


def test_found_lists_up_to_three_products_each_with_code_name_and_price():
    products = [
        {"code": "K7MA", "name": "Keripik Tempe", "price": 12500},
        {"code": "B3CD", "name": "Kopi Dampit", "price": 45000},
        {"code": "H4ST", "name": "Sambal Bawang", "price": 1_000_000},
        {"code": "Z9ZZ", "name": "Not shown", "price": 1},
    ]
    assert render("found", "id", products=products) == (
        "K7MA Keripik Tempe Rp12.500\nB3CD Kopi Dampit Rp45.000\n"
        "H4ST Sambal Bawang Rp1.000.000\nPesan: PESAN kode jumlah"
    )


def test_missing_values_read_as_a_dash_and_unknown_keys_or_languages_get_help():
    assert render("cancelled", "id") == "Pesanan - dibatalkan."
    assert render("no_such_key", "en") == render("help", "en")
    assert render("help", "fr") == render("help", "id")
    assert render("help", None) == render("help", "id")


def test_values_that_are_no_amount_are_written_as_a_dash():
    for total in (None, "abc", float("nan"), float("inf"), 10**40, True, [1]):
        assert "Total -." in render("order_status", "en", number=NUMBER, status="x", total=total)


class Unprintable:
    def __str__(self):
        raise RuntimeError("no text")


ANY_VALUE = st.one_of(
    st.text(),
    st.text(min_size=500, max_size=3000),
    st.integers(),
    st.floats(),
    st.none(),
    st.booleans(),
    st.binary(),
    st.just(Unprintable()),
    st.lists(st.text(), max_size=3),
)
PRODUCT = st.one_of(
    st.fixed_dictionaries({"code": ANY_VALUE, "name": ANY_VALUE, "price": ANY_VALUE}),
    ANY_VALUE,
)
TEXT_FIELDS = (
    "name",
    "hub",
    "role",
    "words",
    "number",
    "total",
    "reason",
    "code",
    "status",
    "stock",
    "phone",
)
VALUES = st.fixed_dictionaries(
    {},
    optional=dict.fromkeys(TEXT_FIELDS, ANY_VALUE) | {"products": st.lists(PRODUCT, max_size=5)},
)


@settings(max_examples=500, deadline=None)
@given(st.sampled_from(sorted(TEMPLATES)), st.sampled_from(["id", "en", "xx"]), VALUES)
def test_any_values_at_all_make_one_plain_sms_for_every_key(key, language, values):
    text = render(key, language, **values)
    assert gsm.is_gsm7(text)
    assert gsm.septets(text) <= gsm.SMS_SEPTETS
