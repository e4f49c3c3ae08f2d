"""Every message type in both languages: the facts a member needs, in one plain SMS
(GSM-7 only, at most 160 septets) whatever the members typed."""

import pytest
from marshmallow import validate

from services.catalogue import contract as catalogue
from services.catalogue.schemas import CreateProductSchema
from services.catalogue.schemas import RejectSchema as RejectProductSchema
from services.common import gsm
from services.community.contract import MAX_BROADCAST_PRODUCTS, OTP_VALID_MINUTES
from services.community.schemas import (
    ApplySchema,
    BankAccountSchema,
    CreateHubSchema,
    DecisionSchema,
    RegisterSchema,
    ScheduleTrainingSchema,
)
from services.ledger import contract as ledger
from services.ledger.schemas import RecordAdjustmentSchema
from services.notifications import templates
from services.notifications.templates import LANGUAGES, MESSAGES, SMS_LIMIT, render, rupiah
from services.orders.schemas import (
    MAX_LINES,
    MAX_QUANTITY,
    FulfilmentSchema,
    PaymentProofSchema,
    RefundSchema,
)
from tests.support.notifications import LONG_NAME

LONG = LONG_NAME + " " + LONG_NAME
BIG_TOTAL = 1_234_567_890
BIG_BALANCE = 99_999_999_999  # what a hub might owe a seller who was never paid
NUMBER = "KD-20261127-000123"
CODE = "M" + "Z" * (catalogue.MAX_CODE_LENGTH - 1)  # the longest product code
MANY_ITEMS = [{"name": LONG, "quantity": 1000}, {"name": "Kopi", "quantity": 2}] + [
    {"name": f"Barang {n}", "quantity": 1} for n in range(40)
]


def longest(schema, field):
    """The most characters the API accepts in ``field`` of ``schema``."""
    found = schema().fields[field].validate
    validators = found if isinstance(found, list) else [found]
    return max(v.max for v in validators if isinstance(v, validate.Length))


def most(schema, field):
    """The largest number the API accepts in ``field`` of ``schema``."""
    found = schema().fields[field].validate
    validators = found if isinstance(found, list) else [found]
    return max(v.max for v in validators if isinstance(v, validate.Range))


MAX_TOTAL = MAX_LINES * MAX_QUANTITY * catalogue.MAX_PRICE
# community's group and contact schemas (DESIGN §9) take names up to this long
GROUP_NAME_LIMIT = 80
CONTACT_NAME_LIMIT = 80
LIMITS = {
    "name": max(longest(RegisterSchema, "name"), CONTACT_NAME_LIMIT),
    "group": GROUP_NAME_LIMIT,
    "applicant": max(longest(RegisterSchema, "name"), longest(ApplySchema, "business_name")),
    "hub": longest(CreateHubSchema, "name"),
    "hub_address": longest(CreateHubSchema, "address"),
    "reason": max(
        longest(DecisionSchema, "reason"),
        longest(RejectProductSchema, "reason"),
        longest(RecordAdjustmentSchema, "reason"),
    ),
    "product": longest(CreateProductSchema, "name"),
    "address": longest(FulfilmentSchema, "address"),
    "title": longest(ScheduleTrainingSchema, "title"),
    "bank": longest(BankAccountSchema, "bank"),
    "holder": longest(BankAccountSchema, "holder"),
    "reference": max(longest(PaymentProofSchema, "reference"), longest(RefundSchema, "reference")),
}
ACCOUNT = "9" * 20  # the longest account number a hub may give (BankAccountSchema.number)

# what members may type: plain letters; characters that take two septets each; and
# characters outside GSM-7 that are written as one, three or no characters in it
TYPED = {
    "plain": LONG_NAME,
    "escaped": "€[Toko]{Bu}~|^\\",
    "ellipses": "…",
    "foreign": "Siti “Ani” – Café Łódź ©🌶️👍🏽 李小龙 ﬁ ½ ​　",
}


def typed(kind, length):
    """``length`` characters of ``kind``, as long as the API lets a member type."""
    sample = TYPED[kind]
    return (sample * (length // len(sample) + 1))[:length]


def longest_facts(kind):
    """The longest facts each message type can get, typed in ``kind`` characters."""
    words = {key: typed(kind, length) for key, length in LIMITS.items()}
    item = {"name": words["product"], "quantity": MAX_QUANTITY}
    return {
        **{
            key: words[key]
            for key in ("name", "applicant", "hub", "reason", "product", "bank", "holder", "group")
        },
        "added_by": words["name"],
        "agent": words["name"],
        "products": [{"code": CODE, "name": words["product"], "price": catalogue.MAX_PRICE}]
        * MAX_BROADCAST_PRODUCTS,
        "reference": words["reference"],
        "account": ACCOUNT,
        "role": "seller",
        "price": catalogue.MAX_PRICE,
        "stock": catalogue.MAX_STOCK,
        "delta": -catalogue.MAX_STOCK,
        "code": CODE,
        "number": NUMBER,
        "items": [item] * MAX_LINES,
        "total": MAX_TOTAL,
        "method": "delivery",
        "payment": "bank_transfer",
        "address": words["address"],
        "pickup": words["hub"] + ", " + words["hub_address"],
        "title": words["title"],
        "starts_at": "2026-12-01T03:00:00.000Z",
        "capacity": most(ScheduleTrainingSchema, "capacity"),
        "minutes": OTP_VALID_MINUTES,
        "amount": ledger.MAX_AMOUNT,
        "change": -ledger.MAX_AMOUNT,
        "balance": BIG_BALANCE,
    }


LONGEST_FACTS = longest_facts("plain")

# facts a member cannot act without, and so must never be shortened
KEPT = {
    "number": NUMBER,
    "total": templates.rupiah(MAX_TOTAL),
    "starts_at": "01/12/2026",
    "code": CODE,
    "account": ACCOUNT,
    "amount": templates.rupiah(ledger.MAX_AMOUNT),
    "change": templates.rupiah(-ledger.MAX_AMOUNT),
    "balance": templates.rupiah(BIG_BALANCE),
}
FACT_FOR_PLACEHOLDER = {"when": "starts_at"}


def placeholders(template, language):
    import string

    _, text = MESSAGES[language][template]
    return {name for _, name, _, _ in string.Formatter().parse(text)}


TEMPLATES = list(MESSAGES["id"])
CASES = [(template, language) for template in TEMPLATES for language in ("id", "en")]
KINDS = list(TYPED)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_language_has_every_message_type(language):
    assert list(MESSAGES[language]) == TEMPLATES


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("template", "language"), CASES)
def test_every_message_is_one_plain_sms_with_the_longest_facts_the_api_accepts(
    template, language, kind
):
    _, text = render(template, language, longest_facts(kind))
    assert gsm.is_gsm7(text), text
    assert gsm.septets(text) <= SMS_LIMIT, text


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("template", "language"), CASES)
def test_shortening_never_cuts_the_order_number_the_total_or_the_date(template, language, kind):
    _, text = render(template, language, longest_facts(kind))
    used = {FACT_FOR_PLACEHOLDER.get(name, name) for name in placeholders(template, language)}
    for fact, shown in KEPT.items():
        if fact in used:
            assert shown in text, text


@pytest.mark.parametrize(("template", "language"), CASES)
def test_every_template_is_written_in_gsm7(template, language):
    _, text = MESSAGES[language][template]
    assert gsm.is_gsm7(text)


def test_a_shortened_name_ends_in_three_dots_not_an_ellipsis():
    _, text = render("welcome", "en", {"name": LONG * 2})
    assert "..." in text and "\u2026" not in text
    assert gsm.septets(text) <= SMS_LIMIT


def test_characters_outside_gsm7_are_written_the_nearest_plain_way():
    _, text = render("welcome", "en", {"name": "“Dédé” Łukasz – 🌶️ Ibu 李"})
    assert text.startswith('Welcome to KOMPOR DESA, "Dédé" Lukasz - ? Ibu ?! ')


def test_two_septet_characters_are_counted_twice_when_shortening():
    _, text = render("welcome", "id", {"name": "€" * 100})
    assert gsm.septets(text) <= SMS_LIMIT < len(text) * 2
    assert text.count("€") > 10


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


def test_a_change_of_stock_shows_its_sign():
    facts = {"product": "Keripik", "code": "K7MA", "delta": 1500, "stock": 1520, "hub": "Dau"}
    _, text = render("stock_changed_for_you", "id", facts)
    assert "(K7MA) +1.500, kini 1.520" in text
    _, text = render("stock_changed_for_you", "en", {**facts, "delta": -3, "stock": 17})
    assert "(K7MA) by -3, now 17" in text


@pytest.mark.parametrize(
    ("language", "said"),
    [
        (
            "id",
            "Simpul Dau membayar Anda Rp50.000 (tunai). Sisa saldo Anda di simpul ini Rp44.500.",
        ),
        ("en", "Simpul Dau paid you Rp50.000 (cash). Your balance left at the hub: Rp44.500."),
    ],
)
def test_a_payout_message_says_the_amount_and_the_balance_left(language, said):
    facts = {"amount": 50_000, "method": "cash", "balance": 44_500, "hub": "Simpul Dau"}
    assert render("payout_recorded", language, facts)[1].startswith(said)


def test_an_adjustment_shows_its_sign():
    facts = {"change": 2_500, "reason": "Salah hitung", "balance": 12_500, "hub": "Simpul Dau"}
    assert "dikoreksi +Rp2.500: Salah hitung" in render("adjustment_recorded", "id", facts)[1]
    facts["change"] = -2_500
    assert "corrected by -Rp2.500: Salah hitung" in render("adjustment_recorded", "en", facts)[1]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_a_broadcast_shows_every_code_and_price_in_full_and_how_to_order_and_stop(kind, language):
    _, text = render("broadcast", language, longest_facts(kind))
    lines = text.split("\n")
    assert len(lines) == 2 + MAX_BROADCAST_PRODUCTS + 1
    for line in lines[1 : 1 + MAX_BROADCAST_PRODUCTS]:
        assert line.startswith(f"{CODE} ") and line.endswith(f" {rupiah(catalogue.MAX_PRICE)}")
        assert line.endswith(f"... {rupiah(catalogue.MAX_PRICE)}")  # the name shortened
    assert lines[-2].split()[:2] in (["Balas", "PESAN"], ["Reply", "PESAN"])
    assert lines[-1].startswith("BERHENTI")


def test_a_broadcast_of_short_names_is_shown_in_full():
    products = [
        {"code": "K7MA", "name": "Keripik Tempe Pedas", "price": 12500},
        {"code": "KP2D", "name": "Kopi Dampit", "price": 40000},
    ]
    _, text = render("broadcast", "id", {"hub": "Simpul Dau", "products": products})
    assert text == (
        "Simpul Dau:\nK7MA Keripik Tempe Pedas Rp12.500\nKP2D Kopi Dampit Rp40.000\n"
        "Balas PESAN <kode> <jumlah>\nBERHENTI utk berhenti"
    )


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_a_contacts_welcome_always_says_how_to_stop(kind, language):
    _, text = render("contact_welcome", language, longest_facts(kind))
    assert text.endswith(("Balas BERHENTI utk berhenti menerima siaran.", "stop these broadcasts."))
    assert "BERHENTI" in text


def test_a_contacts_welcome_names_who_added_them_to_which_group_of_which_hub():
    facts = {"added_by": "Pak Budi", "group": "Jamaah Al-Ikhlas", "hub": "Simpul Dau"}
    _, text = render("contact_welcome", "id", facts)
    assert text == (
        "Pak Budi menambahkan nomor Anda ke grup Jamaah Al-Ikhlas di Simpul Dau untuk info "
        "produk KOMPOR DESA. Balas BERHENTI utk berhenti menerima siaran."
    )
