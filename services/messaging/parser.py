"""The command language of SMS and WhatsApp (DESIGN §7): a member's text → a ``Command``.

The first word is the verb, in Indonesian or its English alias, in any case; the reply
is in the language of the word used (``STATUS`` is both: Indonesian). Everything is
read tolerantly: odd spaces (tabs, newlines, non-breaking), invisible characters
(zero-width, direction marks), full-width letters, ``Rp`` before a number and dots
between its thousands (``1.000``), quantities as ``2``, ``x2``, ``2x`` or ``x 2``, and
a quantity typed onto its code (``K7MA2``: a code always ends in a letter).

- ``parse("pesan k7ma x2, b3cd 1")`` → ``PESAN`` with lines K7MA × 2 and B3CD × 1.
- ``parse("PESAN K7MA 2 UNTUK 0812-3456-7890")`` → the same for a customer: ``args``
  gain ``customer_phone`` ``"+6281234567890"`` (``ORDER … FOR …``; ``UTK`` as SMS
  writes ``untuk``); a number that is no Indonesian mobile → ``problem``
  ``"usage_pesan_untuk"``, whose reply shows the form.
- A verb with arguments it cannot read (``STOK K7MA 5``) → that verb with ``problem``
  ``"usage_stok"``: the reply shows the form to send.
- Nothing recognisable (empty, emoji, 10 KB of anything, not text at all) →
  ``understood=False``, verb ``BANTUAN``: the reply is help, and the text is kept for
  the hub's coordinator to read.

Pure: no I/O. ``parse`` never raises, whatever it is given.
"""

import re
import unicodedata
from typing import Any, TypedDict

from services.catalogue.contract import MAX_STOCK
from services.common.phone import normalise_mobile
from services.common.slugs import MAX_SLUG, slug_of
from services.orders.schemas import MAX_QUANTITY

VERBS = (
    "DAFTAR",
    "GABUNG",
    "CARI",
    "PESAN",
    "STATUS",
    "BATAL",
    "STOK",
    "SIAP",
    "BAYAR",
    "BERHENTI",
    "MULAI",
    "BANTUAN",
)
ALIASES = {
    "REGISTER": "DAFTAR",
    "JOIN": "GABUNG",
    "FIND": "CARI",
    "ORDER": "PESAN",
    "CANCEL": "BATAL",
    "STOCK": "STOK",
    "READY": "SIAP",
    "PAY": "BAYAR",
    "STOP": "BERHENTI",
    "START": "MULAI",
    "HELP": "BANTUAN",
}
"""English word → the verb it means."""
WITH_ARGUMENTS = ("DAFTAR", "GABUNG", "CARI", "PESAN", "STATUS", "BATAL", "STOK", "SIAP", "BAYAR")
"""Verbs whose arguments can be wrong: each has a ``usage_<verb>`` reply."""
SELL_WORDS = ("JUAL", "SELL")
"""``GABUNG <simpul> JUAL <nama usaha>``: joining as a seller."""
MORE_WORDS = {"TAMBAH": "+", "ADD": "+", "PLUS": "+", "KURANG": "-", "MINUS": "-"}
"""``STOK K7MA tambah 5`` is ``STOK K7MA +5``."""

CUSTOMER_WORDS = ("UNTUK", "UTK", "FOR")
"""``PESAN <lines> UNTUK <phone>``: ordering for a customer. After at least one line, so
that a product whose code is ``UNTUK`` is still ordered by ``PESAN UNTUK 2``."""
UNITS = ("PCS", "PC", "BH", "BIJI", "BKS", "BUNGKUS")
"""Words after a quantity that say nothing more (``PESAN K7MA 2 pcs``); none of them
has a code's shape, so none can be the next line's code."""

INDONESIAN, ENGLISH = "id", "en"
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWYZ"
"""Product codes: no 0/O, 1/I/L (look-alikes) and no X (``x2`` is a quantity)."""
CODE_LENGTHS = (4, 6)
MAX_LINES = 10
"""Products in one ``PESAN``; each quantity 1 to orders' ``MAX_QUANTITY``."""
MAX_TEXT = 1000
"""Characters of a message read; a command with arguments in a longer one is refused."""
MAX_NAME = 100  # community's member name and business name
MAX_WORDS = 100  # catalogue's search text
MAX_NUMBER = 20
MAX_REFERENCE = 100  # orders' transfer reference

_CODE = re.compile(f"[{CODE_ALPHABET}]{{{CODE_LENGTHS[0]},{CODE_LENGTHS[1]}}}", flags=re.ASCII)
_CODE_LETTERS = frozenset(char for char in CODE_ALPHABET if char.isalpha())
_DIGITS = r"(\d{1,3}(?:\.\d{3})+|\d+)"  # 1.000 is a thousand
_NUMBER = r"(?:RP\.?)?" + _DIGITS
_QUANTITY = re.compile(f"X?{_NUMBER}X?", flags=re.ASCII)
_CODE_AND_QUANTITY = re.compile(f"([A-Z0-9]*?[A-Z])X?{_DIGITS}X?", flags=re.ASCII)
_CODE_ALONE = re.compile("[A-Z0-9]*[A-Z]", flags=re.ASCII)
_STOCK = re.compile(f"([A-Z0-9]+) ?([+-]) ?{_NUMBER}", flags=re.ASCII)
_ORDER_NUMBER = re.compile(r"(?:[A-Z]{1,4}[ -]?)?\d{1,12}", flags=re.ASCII)
_NUMBER_THEN_REST = re.compile(
    r"((?:[A-Z]{1,4}[ -]?)?\d{1,12})[ .,:;]+(.+)", flags=re.ASCII | re.IGNORECASE
)
_VERB = re.compile(r"[\W_]*([^\W\d_]+)")
_FOR_CUSTOMER = re.compile(
    rf"(?<!\w)(?:{'|'.join(CUSTOMER_WORDS)})(?!\w)[\s:]*", flags=re.ASCII | re.IGNORECASE
)
_PHONE_TYPED = re.compile(r"\+?[\d\s().-]{1,30}", flags=re.ASCII)
_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63\uff0d"), "-")
_TIMES = dict.fromkeys(map(ord, "\u00d7\u2715\u2716\u2a2f*"), "x")
_LINE_BREAKS = re.compile(r"[,;/&\n]")
# what a name may hold besides letters, marks, digits and spaces: "H. Ahmad", "O'Neil",
# "Toko Berkah (Pujon)", "Keripik & Kopi"; never $ { } [ ] < > \ = ; `
_NAME_PUNCTUATION = frozenset(".,'\"-&()/+:!?#@")
_SEARCH_KEPT = frozenset("-'&.")
_MAX_DIGITS = 12  # longer runs of digits are not a number anyone means


class OrderLine(TypedDict):
    code: str  # upper case, the shape of ``is_code``
    quantity: int  # 1 to MAX_QUANTITY


class Command(TypedDict):
    """What a member's text asks for.

    ``args`` by verb: DAFTAR ``{"name"}``; GABUNG ``{"hub": slug, "business_name": str |
    None}``; CARI ``{"words"}``; PESAN ``{"lines": [OrderLine, ...]}`` (1 to MAX_LINES,
    each code once), and ``"customer_phone"`` (E.164) after ``UNTUK``; STATUS
    ``{"number": str | None}``; BATAL and SIAP ``{"number"}``;
    STOK ``{"code", "delta": int, not 0}``; BAYAR ``{"number", "reference"}`` (the
    reference as typed, one line); the others, and any command with a problem, ``{}``.
    """

    verb: str  # one of VERBS; BANTUAN when not understood
    language: str  # "id" or "en": of the word the member used
    understood: bool  # False: nothing recognisable (the reply is help)
    problem: str | None  # the reply key showing the verb's usage when its args were unreadable
    args: dict[str, Any]


def parse(text: object) -> Command:
    """The command in ``text`` (see the module's docstring); never raises."""
    try:
        return read(text)
    except Exception:  # a defect here must still get the member an answer
        return not_understood()


def read(text: object) -> Command:
    """``parse`` without its guard, for tests: a defect shows as the error it is."""
    if isinstance(text, bytes | bytearray):
        text = bytes(text[: MAX_TEXT * 4 + 1]).decode("utf-8", errors="replace")
    if text is None:
        text = ""
    if not isinstance(text, str):
        return not_understood()
    overlong = len(text) > MAX_TEXT
    cleaned = clean(text[:MAX_TEXT])
    found = _VERB.match(cleaned)
    if cleaned.strip() == "?":
        return command("BANTUAN", INDONESIAN)
    if found is None:
        return not_understood()
    word = found.group(1).upper()
    if word in VERBS:
        verb, language = word, INDONESIAN
    elif word in ALIASES:
        verb, language = ALIASES[word], ENGLISH
    else:
        return not_understood()
    if verb not in WITH_ARGUMENTS:
        return command(verb, language)
    rest = cleaned[found.end() :].lstrip(" \n:;,.=*_~")
    args = None if overlong else ARGUMENTS[verb](rest)
    if args is None:
        return command(verb, language, problem=f"usage_{verb.lower()}")
    if isinstance(args, str):
        return command(verb, language, problem=args)
    return command(verb, language, args)


def command(
    verb: str, language: str, args: dict[str, Any] | None = None, problem: str | None = None
) -> Command:
    """A recognised ``verb`` with its ``args``, or the ``problem`` with them."""
    return {
        "verb": verb,
        "language": language,
        "understood": True,
        "problem": problem,
        "args": args or {},
    }


def not_understood() -> Command:
    """Nothing recognisable: the reply is help."""
    return {
        "verb": "BANTUAN",
        "language": INDONESIAN,
        "understood": False,
        "problem": None,
        "args": {},
    }


def clean(text: str) -> str:
    """``text`` with compatibility forms made plain (full-width letters, ``ﬁ``), dashes
    written ``-``, invisible characters gone and
    every run of spaces, tabs and control characters one space; lines kept."""
    text = unicodedata.normalize("NFKC", text).translate(_DASHES)
    kept = []
    for char in text:
        category = unicodedata.category(char)
        if char == "\n" or category in ("Zl", "Zp"):
            kept.append("\n")
        elif category in ("Cf", "Cs", "Co", "Cn"):
            continue  # zero-width, direction marks, lone surrogates, private, unassigned
        elif category in ("Cc", "Zs"):
            kept.append(" ")
        else:
            kept.append(char)
    lines = ("".join(kept)).split("\n")
    return "\n".join(" ".join(line.split()) for line in lines if line.strip())


def number(text: str) -> int | None:
    """``"12"``, ``"1.000"``, ``"Rp2.500"`` → the whole number; ``None`` otherwise."""
    found = re.fullmatch(_NUMBER, text.upper(), flags=re.ASCII)
    return _digits(found.group(1)) if found else None


def _digits(text: str) -> int | None:
    digits = text.replace(".", "")
    return int(digits) if len(digits) <= _MAX_DIGITS else None


def is_code(text: str) -> bool:
    """A product code's shape: 4 to 6 of ``CODE_ALPHABET``, first and last a letter."""
    return bool(_CODE.fullmatch(text)) and {text[0], text[-1]} <= _CODE_LETTERS


def _name(text: str) -> str | None:
    """A person's or a business's name as typed, one line; ``None`` if it has no
    letter, is too long, or holds characters no name has."""
    name = " ".join(text.split())
    if not 0 < len(name) <= MAX_NAME or not any(char.isalpha() for char in name):
        return None
    for char in name:
        if not (char.isalnum() or char in _NAME_PUNCTUATION or _is_space_or_mark(char)):
            return None
    return name


def _is_space_or_mark(char: str) -> bool:
    return char == " " or unicodedata.category(char).startswith("M")


def _register(rest: str) -> dict[str, Any] | None:
    name = _name(rest)
    return None if name is None else {"name": name}


def _join(rest: str) -> dict[str, Any] | None:
    words = rest.split()
    selling = [at for at, word in enumerate(words) if word.strip(".,:").upper() in SELL_WORDS]
    hub_words = words[: selling[0]] if selling else words
    business_name = None
    if selling:
        business_name = _name(" ".join(words[selling[0] + 1 :]))
        if business_name is None:
            return None
    hub = _slug(" ".join(hub_words))
    if hub is None:
        return None
    return {"hub": hub, "business_name": business_name}


def _slug(text: str) -> str | None:
    """``"Simpul Pujon-Kidul"`` → ``"simpul-pujon-kidul"``, as community makes slugs of
    hub names; ``None`` for anything but letters, digits, spaces, ``-``, ``_``, ``.``."""
    if not text or any(not (char.isalnum() or char in " -_.") for char in text):
        return None
    slug = slug_of(text)
    return slug if 0 < len(slug) <= MAX_SLUG else None


def _search(rest: str) -> dict[str, Any] | None:
    kept = "".join(char if char.isalnum() or char in _SEARCH_KEPT else " " for char in rest)
    words = " ".join(kept.split())
    while len(words) > MAX_WORDS:
        words = words.rsplit(" ", 1)[0] if " " in words else words[:MAX_WORDS]
    if not any(char.isalnum() for char in words):
        return None
    return {"words": words}


def _order(rest: str) -> dict[str, Any] | str | None:
    """The lines, and after ``UNTUK`` the customer's phone; a phone that is no
    Indonesian mobile number is the problem ``usage_pesan_untuk``."""
    customer = _FOR_CUSTOMER.search(rest, 1)
    if customer is None:
        return _order_lines(rest)
    ordered = _order_lines(rest[: customer.start()])
    if ordered is None:
        return None
    phone = _mobile(rest[customer.end() :])
    return "usage_pesan_untuk" if phone is None else {**ordered, "customer_phone": phone}


def _mobile(text: str) -> str | None:
    """``"0812-3456-7890."`` → ``"+6281234567890"``: digits and what separates them
    only (no letters a phone keypad would turn into digits); ``None`` unless it is an
    Indonesian mobile number."""
    typed = " ".join(text.split()).rstrip(".!")
    if not _PHONE_TYPED.fullmatch(typed):
        return None
    try:
        return normalise_mobile(typed)
    except ValueError:
        return None


def _order_lines(rest: str) -> dict[str, Any] | None:
    tokens = [
        token.strip(".:()")
        for token in _LINE_BREAKS.sub(" ", rest.translate(_TIMES).upper()).split()
        if token.strip(".:()")
    ]
    lines: dict[str, int] = {}
    at = 0
    while at < len(tokens):
        read_line = _order_line(tokens, at)
        if read_line is None:
            return None
        code, quantity, at = read_line
        if at < len(tokens) and tokens[at] in UNITS:
            at += 1
        if not is_code(code) or not 0 < quantity <= MAX_QUANTITY:
            return None
        lines[code] = lines.get(code, 0) + quantity
        if lines[code] > MAX_QUANTITY or len(lines) > MAX_LINES:
            return None
    if not lines:
        return None
    ordered: list[OrderLine] = [{"code": code, "quantity": qty} for code, qty in lines.items()]
    return {"lines": ordered}


def _order_line(tokens: list[str], at: int) -> tuple[str, int, int] | None:
    """The line starting at ``tokens[at]``: ``(code, quantity, where the next starts)``;
    a code with no quantity after it is one of it."""
    token = tokens[at]
    glued = _CODE_AND_QUANTITY.fullmatch(token)
    if glued:
        quantity = _digits(glued.group(2))
        return None if quantity is None else (glued.group(1), quantity, at + 1)
    if not _CODE_ALONE.fullmatch(token):
        return None
    following = tokens[at + 1 : at + 3]
    if following[:1] == ["X"] and len(following) == 2:
        quantity = number(following[1])
        return None if quantity is None else (token, quantity, at + 3)
    if following and _QUANTITY.fullmatch(following[0]):
        quantity = _quantity(following[0])
        return None if quantity is None else (token, quantity, at + 2)
    return token, 1, at + 1


def _quantity(token: str) -> int | None:
    found = _QUANTITY.fullmatch(token)
    if found is None or (token.startswith("X") and token.endswith("X")):
        return None
    return _digits(found.group(1))


def _stock(rest: str) -> dict[str, Any] | None:
    words = [MORE_WORDS.get(word, word) for word in rest.upper().split()]
    found = _STOCK.fullmatch(" ".join(words).rstrip(".!"))
    if found is None:
        return None
    code, sign, amount = found.group(1), found.group(2), _digits(found.group(3))
    if not is_code(code) or amount is None or not 0 < amount <= MAX_STOCK:
        return None
    return {"code": code, "delta": amount if sign == "+" else -amount}


def order_number(rest: str) -> str | None:
    """An order number as typed, trimmed and upper case (``kd-000123``, ``KD 123``,
    ``123``); orders reads it tolerantly. ``None`` for anything else."""
    typed = " ".join(rest.upper().split()).strip(" .,:;!?").lstrip("#")
    if len(typed) > MAX_NUMBER or not _ORDER_NUMBER.fullmatch(typed):
        return None
    return typed


def _status(rest: str) -> dict[str, Any] | None:
    if not rest.strip(" .?!"):
        return {"number": None}
    typed = order_number(rest)
    return None if typed is None else {"number": typed}


def _numbered(rest: str) -> dict[str, Any] | None:
    typed = order_number(rest)
    return None if typed is None else {"number": typed}


def _payment(rest: str) -> dict[str, Any] | None:
    """``KD-000123 BRI 0912 7781``: the order number, then the transfer's reference."""
    found = _NUMBER_THEN_REST.fullmatch(" ".join(rest.split()))
    if found is None:
        return None
    typed, reference = order_number(found.group(1)), found.group(2).strip()
    if typed is None or not 0 < len(reference) <= MAX_REFERENCE:
        return None
    return {"number": typed, "reference": reference}


ARGUMENTS = {
    "DAFTAR": _register,
    "GABUNG": _join,
    "CARI": _search,
    "PESAN": _order,
    "STATUS": _status,
    "BATAL": _numbered,
    "STOK": _stock,
    "SIAP": _numbered,
    "BAYAR": _payment,
}
"""Each verb's reader of what follows it: its ``args``, ``None`` when unreadable (the
reply shows the verb's usage), or the reply key of a more particular problem."""
