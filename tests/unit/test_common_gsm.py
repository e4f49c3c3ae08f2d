"""GSM-7: what makes a text one plain SMS, and how other text is made into one."""

import pytest

from services.common import gsm

BASIC_SET = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)


def test_the_basic_set_has_its_127_characters_each_one_septet():
    assert len(set(BASIC_SET)) == 127  # the 128th code is the escape to the extension
    assert gsm.septets(BASIC_SET) == 127
    assert gsm.to_gsm7(BASIC_SET) == BASIC_SET


@pytest.mark.parametrize("char", list("^{}\\[~]|€"))
def test_extension_characters_take_two_septets(char):
    assert gsm.is_gsm7(char)
    assert gsm.septets(char) == 2
    assert gsm.septets(f"a{char}b") == 4


@pytest.mark.parametrize("text", ["…", "“", "—", "ā", "李", "🌶", "\u00a0"])
def test_counting_septets_of_text_outside_gsm7_is_an_error(text):
    assert not gsm.is_gsm7(text)
    with pytest.raises(ValueError, match="not in the GSM-7 alphabet"):
        gsm.septets(text)


@pytest.mark.parametrize(
    ("typed", "sent"),
    [
        ("Toko “Bu Siti”", 'Toko "Bu Siti"'),
        ("Kopi ‘Dampit’", "Kopi 'Dampit'"),
        ("Senin – Jumat — libur", "Senin - Jumat - libur"),
        ("Tunggu…", "Tunggu..."),
        ("Café Dédé", "Café Dédé"),  # é is in GSM-7
        ("Ā Ō ū ç ê õ", "A O u c e o"),
        ("Łódź Œuvre", "Lodz OEuvre"),
        ("2×3 ½", "2x3 1/2"),
        ("ＡＢＣ１２３", "ABC123"),  # full-width forms
        ("ﬁ", "fi"),
        ("a\u00a0b\u3000c\td", "a b c d"),
        ("a\u200bb\u00adc", "abc"),  # zero-width space, soft hyphen
        ("Sambal 🌶️ 👍🏽", "Sambal ? ?"),  # emoji with selector and skin tone: one ?
        ("李小龙", "???"),
        ("€5 [promo]", "€5 [promo]"),
    ],
)
def test_text_outside_gsm7_is_written_the_nearest_plain_way(typed, sent):
    assert gsm.to_gsm7(typed) == sent
    assert gsm.is_gsm7(gsm.to_gsm7(typed))


def test_what_fits_is_only_made_gsm7():
    assert gsm.fit("Kopi “Dampit”") == 'Kopi "Dampit"'
    assert gsm.fit("x" * 160) == "x" * 160


def test_what_does_not_fit_is_cut_to_the_limit_and_ends_in_three_dots():
    text = gsm.fit("Raden Ayu " * 30)
    assert text == ("Raden Ayu " * 30)[:157] + "..."
    assert gsm.septets(text) == 160


def test_spaces_at_the_cut_are_dropped_before_the_dots():
    assert gsm.fit("abcd efgh", limit=8) == "abcd..."


def test_a_cut_never_splits_a_two_septet_character():
    text = gsm.fit("€" * 100)
    assert gsm.septets(text) <= 160
    assert text == "€" * 78 + "..."
    assert gsm.fit("a" + "€" * 100, limit=10) == "a€€€..."


def test_characters_made_longer_by_transliteration_still_fit():
    text = gsm.fit("…" * 100)  # each becomes three dots
    assert gsm.septets(text) <= 160 and gsm.is_gsm7(text)


@pytest.mark.parametrize("limit", [0, 1, 2, 3])
def test_a_tiny_limit_is_still_kept(limit):
    assert gsm.septets(gsm.fit("abcdef", limit=limit)) <= limit


def test_fill_shortens_the_longest_elastic_words_first_and_keeps_the_rest_whole():
    pattern = "Order {number} for {name} at {hub}: {total}"
    words = {"number": "KD-000123", "name": "N" * 200, "hub": "H" * 50, "total": "Rp12.500"}
    text = gsm.fill(pattern, words, elastic=("name", "hub"))
    assert gsm.septets(text) == 160
    assert "KD-000123" in text and text.endswith(": Rp12.500")
    assert "H" * 50 in text and "N" * 60 + "..." in text


def test_fill_writes_a_missing_word_as_a_dash_and_cuts_the_text_when_nothing_is_elastic():
    assert gsm.fill("Pesanan {number} siap", {}) == "Pesanan - siap"
    assert gsm.fill("{a}", {"a": "x" * 300}) == "x" * 157 + "..."


@pytest.mark.parametrize(
    ("amount", "written"),
    [(0, "Rp0"), (12500, "Rp12.500"), (1_000_000_000, "Rp1.000.000.000"), (-500, "-Rp500")],
)
def test_rupiah_are_written_with_dots_between_thousands(amount, written):
    assert gsm.rupiah(amount) == written
