"""Every message text, in Indonesian (default) and English, one place per type.

SMS must fit in 160 characters; ``render`` trims the variable parts when needed.
"""

SMS_LIMIT = 160
DEFAULT_LANGUAGE = "id"

TEMPLATES = {
    "welcome": {
        "id": "Selamat datang di KOMPOR DESA, {name}! Akun Anda sudah aktif. "
        "Gabung simpul terdekat untuk mulai berjualan.",
        "en": "Welcome to KOMPOR DESA, {name}! Your account is active. "
        "Join your nearest hub to start selling.",
    },
}


def render(template, language, **facts):
    texts = TEMPLATES[template]
    text = texts.get(language, texts[DEFAULT_LANGUAGE]).format(**facts)
    if len(text) <= SMS_LIMIT:
        return text
    return text[: SMS_LIMIT - 1] + "…"


def rupiah(amount):
    """``12500`` → ``"Rp12.500"`` (Indonesian thousands separator)."""
    return "Rp" + f"{int(amount):,}".replace(",", ".")
