"""The command language of SMS and WhatsApp (DESIGN §7): what members type, however
they type it, read as the command they meant; anything else read as nothing, never as
a wrong command, and never an error."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.common import gsm
from services.common.phone import normalise_mobile
from services.messaging import parser, replies
from services.messaging.parser import MAX_LINES, MAX_QUANTITY, VERBS, parse


def understood(verb, language="id", **args):
    return {"verb": verb, "language": language, "understood": True, "problem": None, "args": args}


def problem(verb, language="id"):
    return {
        "verb": verb,
        "language": language,
        "understood": True,
        "problem": f"usage_{verb.lower()}",
        "args": {},
    }


NOT_UNDERSTOOD = {
    "verb": "BANTUAN",
    "language": "id",
    "understood": False,
    "problem": None,
    "args": {},
}


def lines(*pairs):
    return {"lines": [{"code": code, "quantity": quantity} for code, quantity in pairs]}


CUSTOMER = "+6281234567890"


def for_customer(*pairs, phone=CUSTOMER):
    return {**lines(*pairs), "customer_phone": phone}


TOLERATED = [
    # DAFTAR / REGISTER: the name as typed, on one line
    ("DAFTAR Siti Aminah", understood("DAFTAR", name="Siti Aminah")),
    ("daftar   siti\taminah ", understood("DAFTAR", name="siti aminah")),
    ("Register H. Ahmad O'Neil", understood("DAFTAR", "en", name="H. Ahmad O'Neil")),
    ("DAFTAR: Dédé Łucja", understood("DAFTAR", name="Dédé Łucja")),
    ("DAFTAR Siti\nAminah", understood("DAFTAR", name="Siti Aminah")),
    # GABUNG / JOIN: the hub as community slugs it, and a business name after JUAL
    ("GABUNG pujon-kidul", understood("GABUNG", hub="pujon-kidul", business_name=None)),
    (
        "gabung Simpul Pujon Kidul",
        understood("GABUNG", hub="simpul-pujon-kidul", business_name=None),
    ),
    (
        "GABUNG pujon-kidul JUAL Keripik Bu Siti",
        understood("GABUNG", hub="pujon-kidul", business_name="Keripik Bu Siti"),
    ),
    (
        "join Pujon_Kidul sell Siti's Chips",
        understood("GABUNG", "en", hub="pujon-kidul", business_name="Siti's Chips"),
    ),
    # CARI / FIND: the words, without symbols
    ("CARI keripik tempe", understood("CARI", words="keripik tempe")),
    ("find  Kopi   Dampit!", understood("CARI", "en", words="Kopi Dampit")),
    ("cari $where keripik", understood("CARI", words="where keripik")),
    # PESAN / ORDER: codes upper case; quantities 2, x2, 2x, x 2, glued; lines summed
    ("PESAN K7MA 2", understood("PESAN", **lines(("K7MA", 2)))),
    ("pesan k7ma x2", understood("PESAN", **lines(("K7MA", 2)))),
    ("pesan k7ma 2x", understood("PESAN", **lines(("K7MA", 2)))),
    ("pesan k7ma x 2", understood("PESAN", **lines(("K7MA", 2)))),
    ("pesan k7ma × 2", understood("PESAN", **lines(("K7MA", 2)))),
    ("pesan k7ma*2", understood("PESAN", **lines(("K7MA", 2)))),
    ("PESAN K7MA2", understood("PESAN", **lines(("K7MA", 2)))),
    ("PESAN K7MAx2", understood("PESAN", **lines(("K7MA", 2)))),
    ("PESAN AB2C3", understood("PESAN", **lines(("AB2C", 3)))),
    ("PESAN K7MA", understood("PESAN", **lines(("K7MA", 1)))),
    ("PESAN K7MA 2 B3CD 1", understood("PESAN", **lines(("K7MA", 2), ("B3CD", 1)))),
    ("PESAN K7MA 2, B3CD 1", understood("PESAN", **lines(("K7MA", 2), ("B3CD", 1)))),
    ("PESAN K7MA 2,B3CD 1.", understood("PESAN", **lines(("K7MA", 2), ("B3CD", 1)))),
    ("PESAN\nK7MA 2\nB3CD 1\n", understood("PESAN", **lines(("K7MA", 2), ("B3CD", 1)))),
    ("PESAN K7MA 2 K7MA 3", understood("PESAN", **lines(("K7MA", 5)))),
    ("PESAN K7MA 2 B3CDE x1 k7ma", understood("PESAN", **lines(("K7MA", 3), ("B3CDE", 1)))),
    ("order K7MA 3", understood("PESAN", "en", **lines(("K7MA", 3)))),
    ("pesan k7ma 2 pcs, b3cd 1 bungkus", understood("PESAN", **lines(("K7MA", 2), ("B3CD", 1)))),
    # PESAN … UNTUK / ORDER … FOR: for a customer's phone, in any local form
    ("PESAN K7MA 2 UNTUK 0812-3456-7890", understood("PESAN", **for_customer(("K7MA", 2)))),
    ("pesan k7ma 2 untuk 081234567890", understood("PESAN", **for_customer(("K7MA", 2)))),
    ("Pesan K7MA 2 Untuk +62 812 3456 7890", understood("PESAN", **for_customer(("K7MA", 2)))),
    ("PESAN K7MA 2 UNTUK 6281234567890.", understood("PESAN", **for_customer(("K7MA", 2)))),
    ("PESAN K7MA 2 UNTUK (0812) 3456-7890", understood("PESAN", **for_customer(("K7MA", 2)))),
    ("pesan k7ma 2 utk: 0812 3456 7890", understood("PESAN", **for_customer(("K7MA", 2)))),
    ("PESAN K7MA 2,UNTUK 0812-3456-7890", understood("PESAN", **for_customer(("K7MA", 2)))),
    (
        "  pesan   k7ma x2,  b3cd 1   UNTUK   0812-3456-7890  ",
        understood("PESAN", **for_customer(("K7MA", 2), ("B3CD", 1))),
    ),
    (
        "PESAN\nK7MA 2\nB3CD 1\nUNTUK\n0812 3456 7890",
        understood("PESAN", **for_customer(("K7MA", 2), ("B3CD", 1))),
    ),
    ("order K7MA 3 for 0812-3456-7890", understood("PESAN", "en", **for_customer(("K7MA", 3)))),
    ("ORDER k7ma 3 FOR +6281234567890", understood("PESAN", "en", **for_customer(("K7MA", 3)))),
    ("order K7MA 3 untuk 0812-3456-7890", understood("PESAN", "en", **for_customer(("K7MA", 3)))),
    (
        "ＰＥＳＡＮ Ｋ７ＭＡ ２ ＵＮＴＵＫ ０８１２３４５６７８９０",
        understood("PESAN", **for_customer(("K7MA", 2))),
    ),
    # a product whose code is UNTUK is still ordered when it comes first
    ("PESAN UNTUK 2", understood("PESAN", **lines(("UNTUK", 2)))),
    ("PESAN UNTUK 2 UNTUK 0812-3456-7890", understood("PESAN", **for_customer(("UNTUK", 2)))),
    # STATUS: the number as typed, trimmed and upper case; none for the latest order
    ("STATUS", understood("STATUS", number=None)),
    ("status?", understood("STATUS", number=None)),
    ("STATUS KD-000123", understood("STATUS", number="KD-000123")),
    ("status kd123", understood("STATUS", number="KD123")),
    ("Status kd 123", understood("STATUS", number="KD 123")),
    ("status #123", understood("STATUS", number="123")),
    # BATAL / CANCEL, SIAP / READY
    ("BATAL KD-000123", understood("BATAL", number="KD-000123")),
    ("cancel kd-000123", understood("BATAL", "en", number="KD-000123")),
    ("siap 123", understood("SIAP", number="123")),
    ("READY KD-000123.", understood("SIAP", "en", number="KD-000123")),
    # BAYAR / PAY: the order number, then the transfer's reference as typed
    (
        "BAYAR KD-000123 BRI 0912 7781",
        understood("BAYAR", number="KD-000123", reference="BRI 0912 7781"),
    ),
    ("bayar kd 123  trf-99", understood("BAYAR", number="KD 123", reference="trf-99")),
    ("Pay 123, Ref. 55a", understood("BAYAR", "en", number="123", reference="Ref. 55a")),
    # STOK / STOCK: a signed change
    ("STOK K7MA +5", understood("STOK", code="K7MA", delta=5)),
    ("stok k7ma -2", understood("STOK", code="K7MA", delta=-2)),
    ("stok k7ma+5", understood("STOK", code="K7MA", delta=5)),
    ("stok k7ma + 1.000", understood("STOK", code="K7MA", delta=1000)),
    ("stok k7ma – 3", understood("STOK", code="K7MA", delta=-3)),  # an en dash
    ("stok k7ma tambah 4", understood("STOK", code="K7MA", delta=4)),
    ("stok k7ma kurang 4", understood("STOK", code="K7MA", delta=-4)),
    ("Stock K7MA +10", understood("STOK", "en", code="K7MA", delta=10)),
    # the words without arguments mean themselves whatever follows
    ("BERHENTI", understood("BERHENTI")),
    ("stop", understood("BERHENTI", "en")),
    ("STOP sending me these!!!", understood("BERHENTI", "en")),
    ("mulai", understood("MULAI")),
    ("Start", understood("MULAI", "en")),
    ("BANTUAN", understood("BANTUAN")),
    ("help", understood("BANTUAN", "en")),
    ("?", understood("BANTUAN")),
    # odd spaces, invisible characters and forms around any of them
    ("  \t pesan\u00a0\u00a0K7MA\u3000x2 \n", understood("PESAN", **lines(("K7MA", 2)))),
    ("\u200fPESAN\u200b K7MA\u200e 2", understood("PESAN", **lines(("K7MA", 2)))),
    ("ＰＥＳＡＮ　Ｋ７ＭＡ　２", understood("PESAN", **lines(("K7MA", 2)))),
    ("*PESAN* K7MA 2", understood("PESAN", **lines(("K7MA", 2)))),
    ("👍 pesan k7ma 2", understood("PESAN", **lines(("K7MA", 2)))),
    ("\ufeffBATAL KD-000123", understood("BATAL", number="KD-000123")),
    (b"PESAN K7MA 2", understood("PESAN", **lines(("K7MA", 2)))),
]


@pytest.mark.parametrize(("text", "expected"), TOLERATED)
def test_what_members_type_is_read_as_the_command_they_meant(text, expected):
    assert parse(text) == expected


def test_the_largest_quantity_orders_accept_is_read_and_one_more_is_not():
    assert parse(f"PESAN K7MA {MAX_QUANTITY}")["args"] == lines(("K7MA", MAX_QUANTITY))
    assert parse(f"PESAN K7MA {MAX_QUANTITY + 1}") == problem("PESAN")
    assert parse("PESAN K7MA 1.000")["args"] == (
        lines(("K7MA", 1000)) if MAX_QUANTITY >= 1000 else {}
    )


def test_an_order_of_up_to_the_most_lines_is_read_and_one_more_is_not():
    codes = [f"K{letter}MA" for letter in "ABCDEFGHJKMNPQ"]
    most = " ".join(f"{code} 1" for code in codes[:MAX_LINES])
    assert len(parse(f"PESAN {most}")["args"]["lines"]) == MAX_LINES
    assert parse(f"PESAN {most} {codes[MAX_LINES]} 1") == problem("PESAN")
    assert len(parse(f"PESAN {most} {codes[0]} 1")["args"]["lines"]) == MAX_LINES


def test_no_unit_word_skipped_after_a_quantity_could_be_a_code():
    assert [unit for unit in parser.UNITS if parser.is_code(unit)] == []


def test_every_verb_is_read_in_both_languages_and_answers_in_the_one_used():
    for verb in VERBS:
        assert parse(verb)["verb"] == verb
        assert parse(verb)["language"] == "id"
    for alias, verb in parser.ALIASES.items():
        assert parse(alias.lower())["verb"] == verb
        assert parse(alias.lower())["language"] == "en"


USAGE_PROBLEMS = [
    # no arguments where they are needed
    ("DAFTAR", "DAFTAR"),
    ("GABUNG", "GABUNG"),
    ("CARI", "CARI"),
    ("PESAN", "PESAN"),
    ("BATAL", "BATAL"),
    ("STOK", "STOK"),
    ("SIAP", "SIAP"),
    ("BAYAR", "BAYAR"),
    # a payment needs its reference, of at most 100 characters
    ("BAYAR KD-000123", "BAYAR"),
    ("BAYAR referensi saya", "BAYAR"),
    ("BAYAR 123 " + "7" * 101, "BAYAR"),
    # names: no letter, symbols no name has, too long
    ("DAFTAR 12345", "DAFTAR"),
    ('DAFTAR {"$gt": ""}', "DAFTAR"),
    ("DAFTAR Robert'); DROP TABLE members;--", "DAFTAR"),
    ("DAFTAR " + "a" * 101, "DAFTAR"),
    ("GABUNG pujon-kidul JUAL", "GABUNG"),
    ("GABUNG JUAL Keripik", "GABUNG"),
    ("GABUNG pujon$kidul", "GABUNG"),
    ("GABUNG pujon-kidul JUAL <script>", "GABUNG"),
    ("GABUNG " + "a" * 81, "GABUNG"),
    ("CARI $$$ {} []", "CARI"),
    # order lines: zero, negative, too many, fractions, wrong code shapes, no code
    ("PESAN K7MA 0", "PESAN"),
    ("PESAN K7MA -2", "PESAN"),
    ("PESAN K7MA 1.5", "PESAN"),
    ("PESAN K7MA 99999999999999999999999999999999", "PESAN"),
    ("PESAN K7MA 600 K7MA 600", "PESAN"),
    ("PESAN K0MA 1", "PESAN"),  # no 0 in codes
    ("PESAN KIMA 1", "PESAN"),  # no I
    ("PESAN 7KMA 1", "PESAN"),  # a code starts with a letter
    ("PESAN KMA 1", "PESAN"),  # too short
    ("PESAN KABCDEF 1", "PESAN"),  # too long
    ("PESAN 2 K7MA", "PESAN"),
    ("PESAN K7MA x", "PESAN"),
    ("PESAN K7MA 2 🌶️", "PESAN"),
    ("PESAN K7MA 2 pcs pcs", "PESAN"),
    ('PESAN {"$gt": 1}', "PESAN"),
    # stock: a bare number names no direction; no zero, nothing beyond catalogue's bound
    ("STOK K7MA 5", "STOK"),
    ("STOK K7MA +0", "STOK"),
    ("STOK K7MA +1.000.001", "STOK"),
    ("STOK +5", "STOK"),
    ("STOK K1MA +5", "STOK"),
    # order numbers: something like one
    ("STATUS pesanan saya kemarin", "STATUS"),
    ("STATUS {$ne: null}", "STATUS"),
    ("BATAL semua", "BATAL"),
    ("SIAP KD-" + "1" * 30, "SIAP"),
    # a command's arguments in 10 KB of text
    ("PESAN " + "K7MA 1 " * 2000, "PESAN"),
    ("DAFTAR " + "Siti " * 2000, "DAFTAR"),
]


@pytest.mark.parametrize(("text", "verb"), USAGE_PROBLEMS)
def test_a_verb_with_arguments_it_cannot_read_gets_the_usage_of_that_verb(text, verb):
    assert parse(text) == problem(verb)


def untuk_problem(language="id"):
    return {**problem("PESAN", language), "problem": "usage_pesan_untuk"}


@pytest.mark.parametrize(
    "phone",
    [
        "",  # nothing after UNTUK
        "0341 123456",  # a landline: it receives no SMS
        "+1 202 555 0123",  # another country's
        "0812",
        "0812-3456-7890-1234-5678",
        "ibu Siti",
        "ibu Siti 0812-3456-7890",
        "0812-3456-7890 ibu Siti",
        "0812 FLOWERS",  # letters a keypad would make digits
        "0812-3456-7890 UNTUK 0812-3456-7891",
        '{"$gt": ""}',
        "9" * 500,
    ],
)
def test_a_customer_phone_that_is_no_indonesian_mobile_gets_the_form_to_use(phone):
    assert parse(f"PESAN K7MA 2 UNTUK {phone}") == untuk_problem()
    assert parse(f"order K7MA 2 for {phone}") == untuk_problem("en")


def test_order_lines_that_cannot_be_read_get_the_order_usage_even_with_a_customer():
    assert parse("PESAN K7MA 0 UNTUK 0812-3456-7890") == problem("PESAN")
    assert parse("PESAN UNTUK 0812-3456-7890") == problem("PESAN")
    assert parse("ORDER FOR 0812-3456-7890") == problem("PESAN", "en")


def test_the_usage_problem_comes_in_the_language_of_the_word_used():
    assert parse("STOCK K7MA 5") == problem("STOK", "en")
    assert parse("order K7MA zero") == problem("PESAN", "en")


def test_every_usage_problem_is_a_reply_with_a_text_in_both_languages():
    for verb in parser.WITH_ARGUMENTS:
        key = f"usage_{verb.lower()}"
        assert set(replies.TEMPLATES[key]) == {"id", "en"}


HOSTILE = [
    "",
    " ",
    "\n\t\r",
    "hello",
    "Halo bu, saya mau pesan keripik",  # the verb is the first word
    "PESANAN K7MA 2",
    "pesank7ma2",
    "123",
    "🌶️👍🏽",
    "\u202e\u200f\u200b\u2066",
    "\u0000\u0007\u001b[31m",
    "'; DROP TABLE orders; --",
    '{"$where": "sleep(1000)"}',
    "$gt",
    "{{name}} {0} %s",
    "李小龙",
    "مرحبا",
    "\ud800\udfff",  # lone surrogates, as a broken JSON string can hold
    "x" * 10_000,
    "🌶" * 10_000,
    None,
    12,
    12.5,
    ["PESAN", "K7MA"],
    {"text": "PESAN K7MA 2"},
    object(),
    b"\xff\xfe\x00",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_text_with_nothing_recognisable_is_not_understood_and_gets_help(text):
    assert parse(text) == NOT_UNDERSTOOD


@pytest.mark.parametrize("verb", ["BERHENTI", "BANTUAN", "BATAL"])
def test_berhenti_bantuan_and_batal_always_mean_themselves(verb):
    for text in (verb, f"{verb.lower()} KD-000123", f"  {verb}!! \u200b"):
        assert parse(text)["verb"] == verb


def test_a_defect_in_reading_is_still_an_answer_not_an_error(monkeypatch):
    def broken(rest):
        raise RuntimeError("a defect")

    monkeypatch.setitem(parser.ARGUMENTS, "PESAN", broken)
    assert parse("PESAN K7MA 2") == NOT_UNDERSTOOD


def reply_to(text):
    """What the member would get back for ``text`` before anything is looked up."""
    command = parser.read(text)
    key = command["problem"] or "help"
    return replies.render(key, command["language"])


ANY_INPUT = st.one_of(
    st.text(),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=2000),
    st.text(alphabet="PESANSTOKBATAL k7mab3cdx+-.,0123456789\n\u00a0\u200b", max_size=60),
    st.text(alphabet="K7MA 2UNTUKFOR+-()0812345679\n", max_size=60).map(lambda t: f"PESAN {t}"),
    st.sampled_from(VERBS + tuple(parser.ALIASES)).flatmap(
        lambda verb: st.text(max_size=200).map(lambda rest: f"{verb} {rest}")
    ),
    st.binary(),
    st.none(),
    st.integers(),
    st.floats(),
)


@settings(max_examples=400, deadline=None)
@given(ANY_INPUT)
def test_any_input_at_all_is_read_without_error_and_answered_in_one_plain_sms(text):
    command = parser.read(text)
    assert parse(text) == command
    assert command["verb"] in VERBS
    assert command["language"] in ("id", "en")
    assert command["problem"] is None or command["problem"] in replies.TEMPLATES
    reply = reply_to(text)
    assert gsm.is_gsm7(reply)
    assert gsm.septets(reply) <= gsm.SMS_SEPTETS


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(VERBS + tuple(parser.ALIASES)), st.text(max_size=300))
def test_whatever_follows_a_verb_what_is_read_is_within_the_bounds(verb, rest):
    command = parser.read(f"{verb} {rest}")
    args = command["args"]
    if command["verb"] == "PESAN" and command["problem"] is None:
        assert set(args) <= {"lines", "customer_phone"}
        if "customer_phone" in args:
            assert normalise_mobile(args["customer_phone"]) == args["customer_phone"]
        assert 1 <= len(args["lines"]) <= MAX_LINES
        assert len({line["code"] for line in args["lines"]}) == len(args["lines"])
        for line in args["lines"]:
            assert parser.is_code(line["code"])
            assert 1 <= line["quantity"] <= MAX_QUANTITY
    if command["verb"] == "STOK" and command["problem"] is None:
        assert parser.is_code(args["code"]) and args["delta"] != 0
    if command["verb"] == "BAYAR" and command["problem"] is None:
        assert 0 < len(args["reference"]) <= parser.MAX_REFERENCE
        assert parser.order_number(args["number"]) == args["number"]
    if command["verb"] in ("DAFTAR",) and command["problem"] is None:
        assert 0 < len(args["name"]) <= parser.MAX_NAME
