"""Every reply to a command, in Indonesian (default) and English, each one plain SMS.

``render(key, language, **values)`` gets facts (``total`` in rupiah as an integer, an
order ``status`` by its name, ``role`` as ``"seller"``) and writes them in the words of
the language: ``Rp12.500``, ``siap diambil``, ``penjual``; a customer's ``phone`` masked
(``+62********890``). The text is GSM-7 and at most 160 septets whatever the values
(``gsm.fill``): names, hubs and search words are shortened first, never a product's
code or price, an order's number or total. A value not given reads ``-``; an unknown
key gets help; an unknown language Indonesian.

Pure: no I/O.
"""

from collections.abc import Mapping
from typing import Any

from services.common import gsm
from services.common.phone import mask_phone
from services.messaging.parser import MAX_LINES, MAX_QUANTITY

INDONESIAN, ENGLISH = "id", "en"
LANGUAGES = (INDONESIAN, ENGLISH)
PRODUCTS_SHOWN = 3
MAX_MONEY = 10**15
"""Rupiah above this are no real total: written ``-`` rather than a line of digits."""
FIXED = ("total", "price", "stock", "phone")
"""Values never shortened: money, counts and a masked phone (numbers, codes and statuses
are shortened only after every longer value, which real ones never need)."""

WORDS = {
    INDONESIAN: {
        "pending": "menunggu konfirmasi",
        "confirmed": "dikonfirmasi",
        "rejected": "ditolak",
        "ready_for_pickup": "siap diambil",
        "shipped": "dikirim",
        "completed": "selesai",
        "cancelled": "dibatalkan",
        "seller": "penjual",
        "buyer": "pembeli",
        "thousands": ".",
    },
    ENGLISH: {
        "pending": "awaiting confirmation",
        "confirmed": "confirmed",
        "rejected": "rejected",
        "ready_for_pickup": "ready for pickup",
        "shipped": "shipped",
        "completed": "completed",
        "cancelled": "cancelled",
        "seller": "seller",
        "buyer": "buyer",
        "thousands": ",",
    },
}
"""Order statuses (services/orders/contract.py) and membership roles, in words."""

TEMPLATES: dict[str, dict[str, str]] = {
    "help": {
        INDONESIAN: "KOMPOR DESA: DAFTAR nama, GABUNG simpul, CARI kata, PESAN kode jumlah "
        "(UNTUK no hp), STATUS/BATAL/SIAP nomor, STOK kode +n/-n, BAYAR nomor ref, BERHENTI, "
        "MULAI",
        ENGLISH: "KOMPOR DESA: REGISTER name, JOIN hub, FIND words, ORDER code qty "
        "(FOR phone), STATUS/CANCEL/READY number, STOCK code +n/-n, PAY number ref, STOP, "
        "START",
    },
    "usage_daftar": {
        INDONESIAN: "Kirim DAFTAR lalu nama Anda (huruf, tanpa simbol). Contoh: DAFTAR Siti Aminah",
        ENGLISH: "Send REGISTER and your name (letters, no symbols). Example: REGISTER Siti Aminah",
    },
    "usage_gabung": {
        INDONESIAN: "Kirim GABUNG nama-simpul sebagai pembeli, atau GABUNG nama-simpul JUAL "
        "nama usaha sebagai penjual. Contoh: GABUNG pujon-kidul JUAL Keripik Bu Siti",
        ENGLISH: "Send JOIN hub-name as a buyer, or JOIN hub-name SELL business name as a "
        "seller. Example: JOIN pujon-kidul SELL Siti's Chips",
    },
    "usage_cari": {
        INDONESIAN: "Kirim CARI lalu nama produk. Contoh: CARI keripik tempe",
        ENGLISH: "Send FIND and what you are looking for. Example: FIND tempeh chips",
    },
    "usage_pesan": {
        INDONESIAN: "Kirim PESAN kode jumlah, bisa beberapa produk "
        f"(maks {MAX_LINES}, jumlah 1-{MAX_QUANTITY}). Contoh: PESAN K7MA 2 B3CD 1",
        ENGLISH: "Send ORDER code quantity, several products if you like "
        f"(up to {MAX_LINES}, quantity 1-{MAX_QUANTITY}). Example: ORDER K7MA 2 B3CD 1",
    },
    "usage_pesan_untuk": {
        INDONESIAN: "Nomor pelanggan harus nomor HP Indonesia. Kirim PESAN kode jumlah UNTUK "
        "nomor HP pelanggan. Contoh: PESAN K7MA 2 UNTUK 0812-3456-7890",
        ENGLISH: "The customer's number must be an Indonesian mobile. Send ORDER code quantity "
        "FOR the customer's mobile. Example: ORDER K7MA 2 FOR 0812-3456-7890",
    },
    "usage_status": {
        INDONESIAN: "Kirim STATUS untuk pesanan terakhir, atau STATUS nomor pesanan. "
        "Contoh: STATUS KD-000123",
        ENGLISH: "Send STATUS for your latest order, or STATUS and the order number. "
        "Example: STATUS KD-000123",
    },
    "usage_batal": {
        INDONESIAN: "Kirim BATAL lalu nomor pesanan. Contoh: BATAL KD-000123",
        ENGLISH: "Send CANCEL and the order number. Example: CANCEL KD-000123",
    },
    "usage_stok": {
        INDONESIAN: "Kirim STOK kode +jumlah untuk menambah, atau -jumlah untuk mengurangi. "
        "Contoh: STOK K7MA +10 atau STOK K7MA -2",
        ENGLISH: "Send STOCK code +quantity to add, or -quantity to take away. "
        "Example: STOCK K7MA +10 or STOCK K7MA -2",
    },
    "usage_siap": {
        INDONESIAN: "Kirim SIAP lalu nomor pesanan yang siap diambil. Contoh: SIAP KD-000123",
        ENGLISH: "Send READY and the number of the order ready for pickup. "
        "Example: READY KD-000123",
    },
    "usage_bayar": {
        INDONESIAN: "Kirim BAYAR nomor pesanan lalu referensi transfer dari bank Anda. "
        "Contoh: BAYAR KD-000123 BRI 0912 7781",
        ENGLISH: "Send PAY, the order number and the reference your bank gave the transfer. "
        "Example: PAY KD-000123 BRI 0912 7781",
    },
    "registered": {
        INDONESIAN: "Selamat datang, {name}! Anda terdaftar. Gabung simpul: GABUNG nama-simpul. "
        "Untuk aplikasi, atur sandi lewat Lupa sandi dengan kode SMS.",
        ENGLISH: "Welcome, {name}! You are registered. Join a hub: JOIN hub-name. "
        "For the app, set a password with Forgot password and an SMS code.",
    },
    "already_registered": {
        INDONESIAN: "{name}, nomor ini sudah terdaftar. Kirim BANTUAN untuk daftar perintah.",
        ENGLISH: "{name}, this number is already registered. Send HELP for the commands.",
    },
    "not_registered": {
        INDONESIAN: "Nomor ini belum terdaftar. Kirim DAFTAR lalu nama Anda. "
        "Contoh: DAFTAR Siti Aminah",
        ENGLISH: "This number is not registered yet. Send REGISTER and your name. "
        "Example: REGISTER Siti Aminah",
    },
    "applied": {
        INDONESIAN: "Pengajuan Anda sebagai {role} di {hub} terkirim. "
        "Kami kabari setelah koordinator meninjaunya.",
        ENGLISH: "Your application as a {role} at {hub} is sent. "
        "We will tell you once the coordinator has reviewed it.",
    },
    "no_such_hub": {
        INDONESIAN: "Simpul {hub} tidak ditemukan. Periksa namanya lalu kirim lagi: "
        "GABUNG nama-simpul",
        ENGLISH: "No hub called {hub}. Check the name and send again: JOIN hub-name",
    },
    "found": {
        INDONESIAN: "{products}\nPesan: PESAN kode jumlah",
        ENGLISH: "{products}\nTo order: ORDER code quantity",
    },
    "found_nothing": {
        INDONESIAN: "Tidak ada produk untuk {words}. Coba kata lain, contoh: CARI keripik",
        ENGLISH: "No products found for {words}. Try other words, for example: FIND chips",
    },
    "ordered": {
        INDONESIAN: "Pesanan {number} diterima: total {total}, bayar saat ambil di {hub}. "
        "Kami kabari setelah stok dipastikan.",
        ENGLISH: "Order {number} received: total {total}, pay at pickup at {hub}. "
        "We will tell you once the stock is confirmed.",
    },
    "ordered_for": {
        INDONESIAN: "Pesanan {number} untuk {phone} diterima: total {total}, bayar saat ambil "
        "di {hub}. Pelanggan juga mendapat SMS pesanan ini.",
        ENGLISH: "Order {number} for {phone} received: total {total}, pay at pickup at {hub}. "
        "The customer gets this order's SMS too.",
    },
    "agents_only": {
        INDONESIAN: "Maaf, hanya agen simpul {hub} yang dapat memesan untuk orang lain. "
        "Untuk Anda sendiri: PESAN kode jumlah",
        ENGLISH: "Sorry, only the agents of {hub} may order for others. "
        "For yourself: ORDER code quantity",
    },
    "order_rejected": {
        INDONESIAN: "Maaf, pesanan {number} tidak dapat diproses: {reason} Tidak ada tagihan.",
        ENGLISH: "Sorry, order {number} could not be processed: {reason} Nothing is charged.",
    },
    "unknown_code": {
        INDONESIAN: "Kode produk {code} tidak ditemukan. Cari kodenya dulu: CARI nama produk",
        ENGLISH: "No product with the code {code}. Find its code first: FIND product name",
    },
    "order_status": {
        INDONESIAN: "Pesanan {number}: {status}. Total {total}.",
        ENGLISH: "Order {number}: {status}. Total {total}.",
    },
    "no_orders": {
        INDONESIAN: "Anda belum punya pesanan. Cari produk: CARI nama produk",
        ENGLISH: "You have no orders yet. Find products: FIND product name",
    },
    "unknown_order": {
        INDONESIAN: "Pesanan {number} tidak ditemukan. Periksa nomornya, contoh: STATUS KD-000123",
        ENGLISH: "No order {number} found. Check the number, for example: STATUS KD-000123",
    },
    "cancelled": {
        INDONESIAN: "Pesanan {number} dibatalkan.",
        ENGLISH: "Order {number} is cancelled.",
    },
    "cannot_cancel": {
        INDONESIAN: "Pesanan {number} tidak bisa dibatalkan lagi: {status}.",
        ENGLISH: "Order {number} can no longer be cancelled: {status}.",
    },
    "stock_changed": {
        INDONESIAN: "Stok {code} {name} sekarang {stock}.",
        ENGLISH: "Stock of {code} {name} is now {stock}.",
    },
    "not_your_product": {
        INDONESIAN: "Produk {code} bukan milik Anda; stoknya tidak diubah.",
        ENGLISH: "Product {code} is not yours; its stock is unchanged.",
    },
    "ready": {
        INDONESIAN: "Pesanan {number} siap diambil. Pembeli kami kabari.",
        ENGLISH: "Order {number} is ready for pickup. We will tell the buyer.",
    },
    "cannot_ready": {
        INDONESIAN: "Pesanan {number} tidak bisa ditandai siap: {status}.",
        ENGLISH: "Order {number} cannot be marked ready: {status}.",
    },
    "proof_sent": {
        INDONESIAN: "Referensi {reference} untuk pesanan {number} terkirim. Koordinator "
        "memeriksa transfer lalu mencatat pembayaran.",
        ENGLISH: "Reference {reference} for order {number} is sent. The coordinator checks "
        "the transfer, then records the payment.",
    },
    "cannot_pay": {
        INDONESIAN: "Pesanan {number} tidak menunggu transfer ({status}); referensi tidak dicatat.",
        ENGLISH: "Order {number} is not waiting for a transfer ({status}); the reference is "
        "not recorded.",
    },
    "stopped": {
        INDONESIAN: "Anda tidak akan menerima siaran lagi. Kirim MULAI untuk menerimanya kembali.",
        ENGLISH: "You will get no more broadcasts. Send START to get them again.",
    },
    "started": {
        INDONESIAN: "Anda akan menerima siaran lagi. Kirim BERHENTI untuk berhenti.",
        ENGLISH: "You will get broadcasts again. Send STOP to stop them.",
    },
    "suspended": {
        INDONESIAN: "Keanggotaan Anda di {hub} sedang ditangguhkan. Hubungi koordinator simpul.",
        ENGLISH: "Your membership at {hub} is suspended. Please contact the hub's coordinator.",
    },
    "not_allowed": {
        INDONESIAN: "Maaf, Anda tidak dapat melakukan itu. Kirim BANTUAN untuk daftar perintah.",
        ENGLISH: "Sorry, you cannot do that. Send HELP for the commands.",
    },
    "mixed_hubs": {
        INDONESIAN: "Produk {code} dari simpul lain. Satu pesanan hanya dari satu simpul: "
        "pesan terpisah.",
        ENGLISH: "Product {code} is from another hub. One order is from one hub only: "
        "order it separately.",
    },
}
"""Each reply key's text per language; ``{field}`` are the values ``render`` takes."""


def language_of(language: object) -> str:
    """The reply's language: the one asked for when we have it, else Indonesian."""
    return language if isinstance(language, str) and language in LANGUAGES else INDONESIAN


def render(key: str, language: str, **values: Any) -> str:
    """The reply ``key`` in ``language`` with ``values``: GSM-7, at most 160 septets."""
    language = language_of(language)
    template = TEMPLATES.get(key) if isinstance(key, str) else None
    pattern = (template or TEMPLATES["help"])[language]
    words = {
        name: _word(name, value, language) for name, value in values.items() if name != "products"
    }
    if "{products}" in pattern:
        pattern, listed = _products(pattern, values.get("products"))
        words.update(listed)
    elastic = sorted(name for name in words if name not in FIXED and not name.startswith("price"))
    return gsm.fill(pattern, words, elastic)


def _word(name: str, value: object, language: str) -> str:
    """``value`` of the fact ``name`` as the reply writes it, on one line."""
    if name in ("total", "price"):
        return _money(value)
    if name == "stock":
        return _count(value, WORDS[language]["thousands"])
    if name == "phone" and value is not None:
        return mask_phone(_one_line(value))
    if name in ("status", "role") and isinstance(value, str):
        return WORDS[language].get(value, _one_line(value))
    return _one_line(value)


def _products(pattern: str, products: object) -> tuple[str, dict[str, str]]:
    """``pattern`` with a line per product shown (``<code> <name> <price>``) in place of
    ``{products}``, and the words of those lines."""
    shown = list(products[:PRODUCTS_SHOWN]) if isinstance(products, list | tuple) else []
    lines, words = [], {}
    for at, product in enumerate(shown):
        fields = product if isinstance(product, Mapping) else {}
        lines.append(f"{{code{at}}} {{name{at}}} {{price{at}}}")
        words[f"code{at}"] = _one_line(fields.get("code", "-"))
        words[f"name{at}"] = _one_line(fields.get("name", "-"))
        words[f"price{at}"] = _money(fields.get("price"))
    return pattern.replace("{products}", "\n".join(lines) or "-"), words


def _money(value: object) -> str:
    """Rupiah as ``Rp12.500``; anything that is not an amount, ``-``."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return gsm.MISSING
    try:
        amount = int(value)
    except (ValueError, OverflowError):
        return gsm.MISSING
    return gsm.rupiah(amount) if abs(amount) < MAX_MONEY else gsm.MISSING


def _count(value: object, thousands: str) -> str:
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) >= MAX_MONEY:
        return _one_line(value)
    return f"{value:,}".replace(",", thousands)


def _one_line(value: object) -> str:
    """What a member typed or a service sent, in GSM-7 on one line; ``-`` for nothing."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return gsm.MISSING
    try:
        text = value if isinstance(value, str) else str(value)
    except Exception:  # a value that cannot even be written: say nothing of it
        return gsm.MISSING
    return " ".join(gsm.to_gsm7(text[: gsm.SMS_SEPTETS * 4]).split()) or gsm.MISSING
