"""Every message text, in Indonesian (default) and English, one place per type.

A template gets *facts* (raw values: rupiah as integers, order items as a list, the
role as ``"seller"``) and turns them into words of the member's language here, so the
rest of the service never formats text. Every text is one plain SMS: GSM-7 characters
only (``services.common.gsm``; what members typed outside it is written the nearest
plain way) and at most 160 septets. When names, titles or addresses make it longer,
``render`` shortens those elastic parts, never the order number, the total or the date.
A broadcast lists its products one a line, each code and price in full and only the
names shortened.
"""

import datetime
from typing import Any

from services.common import gsm

SMS_LIMIT = gsm.SMS_SEPTETS
DEFAULT_LANGUAGE = "id"
LANGUAGES = ("id", "en")

# facts a message can do without in full: shortened, longest first, when over the limit
ELASTIC = (
    "name",
    "applicant",
    "added_by",
    "agent",
    "group",
    "hub",
    "pickup",
    "address",
    "items",
    "product",
    "title",
    "reason",
    "holder",
    "bank",
    "reference",
)
MONEY = ("total", "price", "amount", "balance")
SIGNED_MONEY = ("change",)  # money shown with its sign: +Rp2.500, -Rp2.500
WORDS_OF = ("role", "method", "payment")
COUNTS = ("stock", "capacity")
CHANGES = ("delta",)  # counts shown with their sign: +5, -1.000
ITEMS_SHOWN = 2
ITEM_NAME_WIDTH = 24
PRODUCTS = "{products}"
PRODUCT_LINE = "{{code_{n}}} {{product_{n}}} {{price_{n}}}"
WIB = datetime.timezone(datetime.timedelta(hours=7), "WIB")  # Malang Regency's time zone

WORDS = {
    "id": {
        "seller": "penjual",
        "buyer": "pembeli",
        "pickup": "diambil di simpul",
        "delivery": "diantar",
        "cod": "bayar di tempat",
        "bank_transfer": "transfer bank",
        "cash": "tunai",
        "more": "lainnya",
        "no_applicant": "Anggota baru",
        "no_agent": "Agen Anda",
        "no_hub": "simpul Anda",
        "no_pickup": "simpul Anda",
        "time_format": "%d/%m/%Y %H.%M WIB",
        "thousands": ".",
    },
    "en": {
        "seller": "seller",
        "buyer": "buyer",
        "pickup": "pickup at the hub",
        "delivery": "delivery",
        "cod": "cash on delivery",
        "bank_transfer": "bank transfer",
        "cash": "cash",
        "more": "more",
        "no_applicant": "A new member",
        "no_agent": "Your agent",
        "no_hub": "your hub",
        "no_pickup": "your hub",
        "time_format": "%d/%m/%Y %H:%M WIB",
        "thousands": ",",
    },
}

# one catalogue per language, as WORDS: each message type's (subject, text)
MESSAGES: dict[str, dict[str, tuple[str, str]]] = {
    "id": {
        "welcome": (
            "Selamat datang di KOMPOR DESA",
            "Selamat datang di KOMPOR DESA, {name}! Akun Anda sudah aktif. "
            "Gabung simpul terdekat untuk mulai berjualan.",
        ),
        "membership_requested": (
            "Pengajuan anggota baru",
            "{applicant} mengajukan diri sebagai {role} di {hub}. "
            "Mohon tinjau pengajuan ini di aplikasi KOMPOR DESA.",
        ),
        "membership_approved": (
            "Keanggotaan disetujui",
            "Selamat {name}! Pengajuan Anda sebagai {role} di {hub} disetujui. "
            "Anda kini anggota simpul ini.",
        ),
        "membership_rejected": (
            "Pengajuan keanggotaan ditolak",
            "Maaf {name}, pengajuan Anda sebagai {role} di {hub} belum disetujui. Alasan: {reason}",
        ),
        "membership_suspended": (
            "Keanggotaan ditangguhkan",
            "{name}, keanggotaan Anda sebagai {role} di {hub} ditangguhkan. Alasan: {reason}",
        ),
        "coordinator_assigned": (
            "Anda koordinator simpul",
            "{name}, Anda kini koordinator {hub}. "
            "Tinjau anggota, produk, dan pesanan di aplikasi KOMPOR DESA.",
        ),
        "product_submitted": (
            "Produk menunggu tinjauan",
            "Produk baru menunggu tinjauan di {hub}: {product} ({price}). "
            "Mohon setujui atau tolak di aplikasi.",
        ),
        "product_approved": (
            "Produk disetujui",
            "Produk Anda {product} disetujui dan kini tampil di etalase {hub} seharga {price}.",
        ),
        "product_rejected": (
            "Produk belum disetujui",
            "Produk Anda {product} belum disetujui. Alasan: {reason}. Perbaiki lalu ajukan lagi.",
        ),
        "stock_low": (
            "Stok hampir habis",
            "Stok {product} tinggal {stock}. Tambah stok agar pembeli tetap bisa memesan.",
        ),
        "order_placed_seller": (
            "Pesanan baru {number}",
            "Pesanan baru {number}: {items}. Nilai {total}, {method}, {payment}. "
            "Mohon siapkan barangnya.",
        ),
        "order_confirmed": (
            "Pesanan {number} dikonfirmasi",
            "Pesanan {number} dikonfirmasi: {items}. Total {total}, {payment}. "
            "Kami kabari saat pesanan siap.",
        ),
        "order_confirmed_transfer": (
            "Pesanan {number} dikonfirmasi",
            "Pesanan {number} dikonfirmasi. Transfer {total} ke {bank} {account} a.n. {holder}, "
            "berita: {number}.",
        ),
        "payment_proof_sent": (
            "Bukti transfer {number}",
            "Pembeli pesanan {number} ({total}) sudah transfer, ref: {reference}. Periksa "
            "rekening lalu catat pembayarannya.",
        ),
        "refund_settled": (
            "Dana pesanan {number} dikembalikan",
            "Dana {total} untuk pesanan {number} yang dibatalkan sudah dikembalikan. "
            "Ref: {reference}.",
        ),
        "order_rejected": (
            "Pesanan {number} ditolak",
            "Maaf, pesanan {number} ({items}) tidak dapat diproses karena stok tidak cukup. "
            "Tidak ada tagihan.",
        ),
        "order_rejected_seller": (
            "Pesanan {number} ditolak",
            "Pesanan {number} ditolak karena stok tidak cukup: {items} tidak perlu disiapkan.",
        ),
        "order_ready_for_pickup": (
            "Pesanan {number} siap diambil",
            "Pesanan {number} siap diambil di {pickup}. Total {total}, {payment}.",
        ),
        "order_shipped": (
            "Pesanan {number} dikirim",
            "Pesanan {number} ({items}) sedang dikirim ke {address}. Total {total}, {payment}.",
        ),
        "order_cancelled": (
            "Pesanan {number} dibatalkan",
            "Pesanan {number} ({items}, {total}) telah dibatalkan.",
        ),
        "order_cancelled_seller": (
            "Pesanan {number} dibatalkan",
            "Pesanan {number} dibatalkan: {items} tidak perlu disiapkan lagi.",
        ),
        "order_paid": (
            "Pembayaran {number} diterima",
            "Pembayaran {total} untuk pesanan {number} sudah diterima. Terima kasih!",
        ),
        "order_placed_for_you": (
            "Pesanan {number} atas nama Anda",
            "Koordinator {hub} memesan atas nama Anda: {number}, {items}. Total {total}, "
            "{payment}. Bukan Anda? Hubungi koordinator.",
        ),
        "order_placed_customer": (
            "Pesanan {number} untuk Anda",
            "{agent} memesan untuk Anda di {hub}: {number}, {items}. Total {total}, "
            "{payment}. Kami kabari saat pesanan siap.",
        ),
        "contact_welcome": (
            "Anda di grup {group}",
            "{added_by} menambahkan nomor Anda ke grup {group} di {hub} untuk info produk "
            "KOMPOR DESA. Balas BERHENTI utk berhenti menerima siaran.",
        ),
        "broadcast": (
            "Produk pilihan {hub}",
            "{hub}:\n{products}\nBalas PESAN <kode> <jumlah>\nBERHENTI utk berhenti",
        ),
        "product_submitted_for_you": (
            "Produk diajukan atas nama Anda",
            "Koordinator {hub} mengajukan produk Anda {product} ({code}, {price}) untuk "
            "ditinjau. Bukan Anda? Hubungi koordinator.",
        ),
        "stock_changed_for_you": (
            "Stok {code} diubah",
            "Koordinator {hub} mengubah stok {product} ({code}) {delta}, kini {stock}. "
            "Bukan Anda? Hubungi koordinator.",
        ),
        "training_scheduled": (
            "Pelatihan baru: {title}",
            "Pelatihan baru di {hub}: {title}, {when}. Kuota {capacity} orang. "
            "Daftar lewat aplikasi KOMPOR DESA.",
        ),
        "training_completed": (
            "Pelatihan selesai",
            "Selamat {name}! Anda telah menyelesaikan pelatihan {title} di {hub}.",
        ),
        "payout_recorded": (
            "Pembayaran {amount} dari {hub}",
            "{hub} membayar Anda {amount} ({method}). Sisa saldo Anda di simpul ini "
            "{balance}. Tidak menerimanya? Hubungi koordinator.",
        ),
        "adjustment_recorded": (
            "Saldo Anda dikoreksi {change}",
            "Saldo Anda di {hub} dikoreksi {change}: {reason}. Saldo kini {balance}. "
            "Ada yang salah? Hubungi koordinator.",
        ),
        "one_time_code": (
            "Kode KOMPOR DESA",
            "{code} adalah kode KOMPOR DESA untuk mengganti kata sandi Anda. Berlaku "
            "{minutes} menit. JANGAN berikan kode ini kepada siapa pun.",
        ),
    },
    "en": {
        "welcome": (
            "Welcome to KOMPOR DESA",
            "Welcome to KOMPOR DESA, {name}! Your account is active. "
            "Join your nearest hub to start selling.",
        ),
        "membership_requested": (
            "New membership application",
            "{applicant} applied to join {hub} as a {role}. "
            "Please review the application in the KOMPOR DESA app.",
        ),
        "membership_approved": (
            "Membership approved",
            "Congratulations {name}! Your application as a {role} at {hub} was approved. "
            "You are now a member.",
        ),
        "membership_rejected": (
            "Membership not approved",
            "Sorry {name}, your application as a {role} at {hub} was not approved. Reason: "
            "{reason}",
        ),
        "membership_suspended": (
            "Membership suspended",
            "{name}, your membership as a {role} at {hub} is suspended. Reason: {reason}",
        ),
        "coordinator_assigned": (
            "You are a hub coordinator",
            "{name}, you are now the coordinator of {hub}. "
            "Review members, products and orders in the KOMPOR DESA app.",
        ),
        "product_submitted": (
            "Product awaiting review",
            "New product awaiting review at {hub}: {product} ({price}). "
            "Please approve or reject it in the app.",
        ),
        "product_approved": (
            "Product approved",
            "Your product {product} was approved and is now in the {hub} showroom at {price}.",
        ),
        "product_rejected": (
            "Product not approved",
            "Your product {product} was not approved. Reason: {reason}. "
            "Please fix it and submit again.",
        ),
        "stock_low": (
            "Stock running low",
            "Only {stock} left of {product}. Restock so buyers can keep ordering.",
        ),
        "order_placed_seller": (
            "New order {number}",
            "New order {number}: {items}. Value {total}, {method}, {payment}. "
            "Please prepare the goods.",
        ),
        "order_confirmed": (
            "Order {number} confirmed",
            "Order {number} confirmed: {items}. Total {total}, {payment}. "
            "We will tell you when it is ready.",
        ),
        "order_confirmed_transfer": (
            "Order {number} confirmed",
            "Order {number} confirmed. Transfer {total} to {bank} {account} ({holder}), "
            "reference: {number}.",
        ),
        "payment_proof_sent": (
            "Transfer for {number}",
            "The buyer of order {number} ({total}) says they paid, reference: {reference}. "
            "Check the account, then record the payment.",
        ),
        "refund_settled": (
            "Refund for order {number}",
            "The {total} paid for cancelled order {number} has been refunded. "
            "Reference: {reference}.",
        ),
        "order_rejected": (
            "Order {number} rejected",
            "Sorry, order {number} ({items}) could not be processed: not enough stock. "
            "Nothing is charged.",
        ),
        "order_rejected_seller": (
            "Order {number} rejected",
            "Order {number} was rejected for lack of stock: {items} no longer need to be prepared.",
        ),
        "order_ready_for_pickup": (
            "Order {number} ready",
            "Order {number} is ready for pickup at {pickup}. Total {total}, {payment}.",
        ),
        "order_shipped": (
            "Order {number} shipped",
            "Order {number} ({items}) is on its way to {address}. Total {total}, {payment}.",
        ),
        "order_cancelled": (
            "Order {number} cancelled",
            "Order {number} ({items}, {total}) has been cancelled.",
        ),
        "order_cancelled_seller": (
            "Order {number} cancelled",
            "Order {number} was cancelled: {items} no longer need to be prepared.",
        ),
        "order_paid": (
            "Payment for {number} received",
            "Payment of {total} for order {number} has been received. Thank you!",
        ),
        "order_placed_for_you": (
            "Order {number} placed for you",
            "The {hub} coordinator ordered for you: {number}, {items}. Total {total}, "
            "{payment}. Not you? Call the coordinator.",
        ),
        "order_placed_customer": (
            "Order {number} for you",
            "{agent} ordered for you at {hub}: {number}, {items}. Total {total}, "
            "{payment}. We will tell you when it is ready.",
        ),
        "contact_welcome": (
            "You are in the group {group}",
            "{added_by} added your number to the group {group} at {hub} for KOMPOR DESA "
            "product news. Reply BERHENTI to stop these broadcasts.",
        ),
        "broadcast": (
            "Products of {hub}",
            "{hub}:\n{products}\nReply PESAN <code> <quantity>\nBERHENTI to stop",
        ),
        "product_submitted_for_you": (
            "Product submitted for you",
            "The {hub} coordinator submitted your product {product} ({code}, {price}) for "
            "review. Not you? Call the coordinator.",
        ),
        "stock_changed_for_you": (
            "Stock of {code} changed",
            "The {hub} coordinator changed the stock of {product} ({code}) by {delta}, now "
            "{stock}. Not you? Call the coordinator.",
        ),
        "training_scheduled": (
            "New training: {title}",
            "New training at {hub}: {title}, {when}. {capacity} places. "
            "Enrol in the KOMPOR DESA app.",
        ),
        "training_completed": (
            "Training completed",
            "Congratulations {name}! You have completed the training {title} at {hub}.",
        ),
        "payout_recorded": (
            "Payment of {amount} from {hub}",
            "{hub} paid you {amount} ({method}). Your balance left at the hub: {balance}. "
            "Not received? Call the coordinator.",
        ),
        "adjustment_recorded": (
            "Your balance was corrected by {change}",
            "Your balance at {hub} was corrected by {change}: {reason}. Balance now "
            "{balance}. Something wrong? Call the coordinator.",
        ),
        "one_time_code": (
            "Your KOMPOR DESA code",
            "{code} is your KOMPOR DESA code to reset your password. Valid for "
            "{minutes} minutes. NEVER share this code with anyone.",
        ),
    },
}


def language_of(language: str | None) -> str:
    """The language a member gets: theirs when we have it, else Indonesian."""
    return language if language in LANGUAGES else DEFAULT_LANGUAGE


def render(template: str, language: str | None, facts: dict[str, Any]) -> tuple[str, str]:
    """``(subject, text)`` of ``template`` in ``language``; ``text`` fits in one SMS."""
    language = language_of(language)
    subject, text = MESSAGES[language][template]
    words = _words_for(facts, language)
    products = facts.get("products") or []
    lines = "\n".join(PRODUCT_LINE.format(n=n) for n in range(1, len(products) + 1))
    elastic = ELASTIC + tuple(f"product_{n}" for n in range(1, len(products) + 1))
    return subject.format_map(words), fit(text.replace(PRODUCTS, lines), words, elastic)


def fit(
    pattern: str, words: dict[str, str], elastic: tuple[str, ...] = ELASTIC, limit: int = SMS_LIMIT
) -> str:
    """``pattern`` filled with ``words``, in GSM-7 and at most ``limit`` septets: the
    longest elastic words are shortened first, to one length, each keeping a few
    letters; only if that is not enough is the text itself cut (``gsm.fill``)."""
    return gsm.fill(pattern, words, elastic, limit)


rupiah = gsm.rupiah
"""``12500`` → ``"Rp12.500"`` (Indonesian thousands separator)."""


def items_summary(items: list[dict[str, Any]], language: str) -> str:
    """``[{"name": "Keripik", "quantity": 2, "code": "K7MA"}, …]`` → ``"2x K7MA Keripik,
    1x Kopi +3 lainnya"``: each product's code before its name when it has one, so a
    member can answer by text message (``PESAN K7MA 2``)."""
    shown = [
        f"{item['quantity']}x {_coded(item.get('code'))}{_clip(item['name'], ITEM_NAME_WIDTH)}"
        for item in items[:ITEMS_SHOWN]
    ]
    summary = ", ".join(shown)
    if len(items) > ITEMS_SHOWN:
        summary += f" +{len(items) - ITEMS_SHOWN} {WORDS[language]['more']}"
    return summary


def _coded(code: object) -> str:
    return f"{code} " if isinstance(code, str) and code else ""


def local_time(iso: object, language: str) -> str:
    """``"2026-12-01T03:00:00Z"`` → ``"01/12/2026 10.00 WIB"``; unparseable: as given."""
    try:
        moment = datetime.datetime.fromisoformat(str(iso).replace("Z", "+00:00"))
    except ValueError:
        return str(iso)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.astimezone(WIB).strftime(WORDS[language]["time_format"])


def _words_for(facts: dict[str, Any], language: str) -> "_Missing":
    vocabulary = WORDS[language]
    words = {}
    for key, value in facts.items():
        if key in MONEY:
            words[key] = rupiah(value or 0)
        elif key in SIGNED_MONEY:
            words[key] = ("+" if (value or 0) > 0 else "") + rupiah(value or 0)
        elif key in COUNTS and isinstance(value, int):
            words[key] = f"{value:,}".replace(",", vocabulary["thousands"])
        elif key in CHANGES and isinstance(value, int):
            words[key] = f"{value:+,}".replace(",", vocabulary["thousands"])
        elif key == "items":
            words[key] = items_summary(value or [], language)
        elif key == "products":
            words.update(_product_words(value or []))
        elif key == "starts_at":
            words["when"] = local_time(value, language)
        elif key in WORDS_OF:
            words[key] = vocabulary.get(value, str(value or "-"))
        elif value is None or value == "":
            words[key] = vocabulary.get(f"no_{key}", "-")
        else:
            words[key] = _one_line(value)
    return _Missing(words)


def _product_words(products: list[dict[str, Any]]) -> dict[str, str]:
    """``code_1``, ``product_1`` (its name) and ``price_1`` of the first product, and
    so on: a broadcast's lines."""
    words = {}
    for n, product in enumerate(products, 1):
        words[f"code_{n}"] = _one_line(product.get("code") or "-")
        words[f"product_{n}"] = _one_line(product.get("name") or "-")
        words[f"price_{n}"] = rupiah(product.get("price") or 0)
    return words


def _one_line(value: object) -> str:
    """What a member typed, in GSM-7 on one line."""
    return " ".join(gsm.to_gsm7(value).split())


def _clip(text: object, width: int) -> str:
    """At most ``width`` septets of ``text``, ending in ``...`` when cut."""
    return gsm.clip(_one_line(text), width)


class _Missing(dict):
    """A fact nobody sent reads as ``-`` rather than breaking the message."""

    def __missing__(self, key: str) -> str:
        return "-"
