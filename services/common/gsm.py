"""The GSM-7 alphabet (GSM 03.38 / 3GPP TS 23.038) that makes a text one plain SMS.

A single character outside it (an ellipsis, a curly quote, an emoji) sends the whole
message as UCS-2, where one SMS holds 70 characters instead of 160, so a text meant
for one SMS costs three. Everything the platform sends by SMS goes through ``fit``
first, and what it reads from SMS can be checked with ``septets``. Pure: no I/O.

- ``to_gsm7(text)``: the text in GSM-7 characters only; letters and punctuation
  outside it written the nearest plain way (``é`` stays, ``ā`` → ``a``, ``“`` → ``"``,
  ``…`` → ``...``), anything else ``?``.
- ``septets(text)``: the 7-bit units it takes; the extension characters
  ``^ { } \\ [ ~ ] | €`` (and form feed) take two.
- ``fit(text, limit=160)``: ``to_gsm7`` of the text, cut to ``limit`` septets with
  ``...`` at the end when it is longer.
- ``fill(pattern, words, elastic)``: a message pattern filled in, in GSM-7 and one SMS,
  the longest of the ``elastic`` words (names, titles) shortened first.
- ``rupiah(12500)``: ``"Rp12.500"``, money as every message writes it.
"""

import re
import string
import unicodedata
from collections.abc import Iterable, Mapping

SMS_SEPTETS = 160
ELLIPSIS = "..."
UNKNOWN = "?"

BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
"""The basic set: one septet each (its 128th code is the escape to the extension)."""

EXTENSION = frozenset("\f^{}\\[]~|€")
"""Reached through the escape code: two septets each."""

MIN_KEPT = 6
"""An elastic word ``fill`` shortens never shrinks below this (``"Sit..."``)."""
MISSING = "-"
"""What a field of a pattern reads as when no word was given for it."""

_NOT_GSM7 = re.compile("[^" + re.escape("".join(sorted(BASIC | EXTENSION))) + "]")

# the nearest GSM-7 spelling of common characters that no decomposition gives
SPELLED = {
    "\u2018": "'",  # ‘
    "\u2019": "'",  # ’
    "\u201a": "'",  # ‚
    "\u201b": "'",  # ‛
    "\u2032": "'",  # ′
    "\u00b4": "'",  # ´
    "`": "'",
    "\u2039": "'",  # ‹
    "\u203a": "'",  # ›
    "\u201c": '"',  # “
    "\u201d": '"',  # ”
    "\u201e": '"',  # „
    "\u201f": '"',  # ‟
    "\u2033": '"',  # ″
    "\u00ab": '"',  # «
    "\u00bb": '"',  # »
    "\u2010": "-",  # ‐
    "\u2011": "-",  # non-breaking hyphen
    "\u2012": "-",  # ‒
    "\u2013": "-",  # –
    "\u2014": "-",  # —
    "\u2015": "-",  # ―
    "\u2212": "-",  # minus sign
    "\u00ad": "",  # soft hyphen: invisible
    "\u2026": ELLIPSIS,  # …
    "\u2022": "-",  # •
    "\u00b7": "-",  # ·
    "\u00d7": "x",  # ×
    "\u00f7": ":",  # ÷
    "\u00b0": "o",  # °
    "\u00a9": "(c)",  # ©
    "\u00ae": "(R)",  # ®
    "\u2122": "TM",  # ™
    "\u0152": "OE",  # Œ
    "\u0153": "oe",  # œ
    "\u0110": "D",  # Đ
    "\u0111": "d",  # đ
    "\u0141": "L",  # Ł
    "\u0142": "l",  # ł
    "\u00d0": "D",  # Ð
    "\u00f0": "d",  # ð
    "\u00de": "Th",  # Þ
    "\u00fe": "th",  # þ
    "\u0131": "i",  # dotless i
    "\u00a2": "c",  # ¢
    "\u2044": "/",  # fraction slash
}

# skin tones and other modifiers of an emoji, which vanish with it
EMOJI_MODIFIERS = range(0x1F3FB, 0x1F400)


def is_gsm7(text: str) -> bool:
    """Every character of ``text`` is in the GSM-7 basic set or its extension."""
    return _NOT_GSM7.search(text) is None


def septets(text: str) -> int:
    """How many septets ``text`` takes in GSM-7; ``ValueError`` if it is not GSM-7."""
    stranger = _NOT_GSM7.search(text)
    if stranger is not None:
        char = stranger.group()
        raise ValueError(f"{char!r} (U+{ord(char):04X}) is not in the GSM-7 alphabet")
    return len(text) + sum(map(text.count, EXTENSION))


def to_gsm7(text: object) -> str:
    """``text`` written in GSM-7 characters only (see the module's docstring)."""
    return "".join(_spelled(char) for char in str(text))


def fit(text: object, limit: int = SMS_SEPTETS) -> str:
    """``to_gsm7(text)`` in at most ``limit`` septets, ending in ``...`` if it was cut."""
    text = to_gsm7(text)
    if septets(text) <= limit:
        return text
    return clip(text, limit)


def clip(text: str, limit: int) -> str:
    """GSM-7 ``text`` cut to ``limit - 3`` septets (never inside an escape pair, spaces
    at the cut dropped) plus ``...``; ``text`` itself if it fits."""
    if septets(text) <= limit:
        return text
    if limit < len(ELLIPSIS):
        return ELLIPSIS[: max(limit, 0)]
    room, end = limit - len(ELLIPSIS), 0
    for char in text:
        room -= 2 if char in EXTENSION else 1
        if room < 0:
            break
        end += 1
    return text[:end].rstrip() + ELLIPSIS


def fill(
    pattern: str,
    words: Mapping[str, object],
    elastic: Iterable[str] = (),
    limit: int = SMS_SEPTETS,
) -> str:
    """``pattern`` (``str.format`` fields) filled with ``words``, in GSM-7 and at most
    ``limit`` septets: the longest of the ``elastic`` words are shortened first, to one
    length, each keeping ``MIN_KEPT`` septets; only if that is not enough is the text
    itself cut. A field with no word reads ``-``."""
    pattern = to_gsm7(pattern)
    filled = _Blanks({key: to_gsm7(value) for key, value in words.items()})
    shown = {name for _, name, _, _ in string.Formatter().parse(pattern)}
    original = {key: filled[key] for key in elastic if key in filled and key in shown}
    lengths = {key: septets(value) for key, value in original.items()}
    text = pattern.format_map(filled)
    while septets(text) > limit:
        level = _level(list(lengths.values()), septets(text) - limit)
        if level is None:
            return clip(text, limit)
        for key, length in lengths.items():
            if length > level:
                lengths[key] = level
                filled[key] = clip(original[key], level)
        text = pattern.format_map(filled)
    return text


def rupiah(amount: float | str) -> str:
    """``12500`` → ``"Rp12.500"`` (Indonesian thousands separator)."""
    whole = int(amount)
    sign = "-" if whole < 0 else ""
    return f"{sign}Rp" + f"{abs(whole):,}".replace(",", ".")


def _level(lengths: list[int], excess: int) -> int | None:
    """The longest length to cut the elastic words down to that saves ``excess``
    septets (at most ``MIN_KEPT`` each); ``None`` when they are all that short."""

    def saved(level: int) -> int:
        return sum(length - level for length in lengths if length > level)

    if saved(MIN_KEPT) == 0:
        return None
    low, high = MIN_KEPT, max(lengths)
    while low < high:  # the largest level that still saves enough
        middle = (low + high + 1) // 2
        if saved(middle) >= excess:
            low = middle
        else:
            high = middle - 1
    return low


class _Blanks(dict[str, str]):
    """A field nobody filled reads as ``-`` rather than breaking the message."""

    def __missing__(self, key: str) -> str:
        return MISSING


def _spelled(char: str) -> str:
    if char in BASIC or char in EXTENSION:
        return char
    if char in SPELLED:
        return SPELLED[char]
    category = unicodedata.category(char)
    if category in ("Mn", "Me", "Cf") or ord(char) in EMOJI_MODIFIERS:
        return ""  # combining marks, joiners, variation selectors: nothing to see
    if category == "Zs" or char == "\t":
        return " "
    if category == "Zl" or category == "Zp":
        return "\n"
    if category == "Cc":
        return " "
    decomposed = unicodedata.normalize("NFKD", char)
    if decomposed != char:
        return "".join(_spelled(part) for part in decomposed)
    return UNKNOWN
