"""Hub slugs: the one way a hub's name becomes the word members use for it, in a URL
or typed in an SMS (``GABUNG simpul-pujon-kidul``)."""

import re
import unicodedata

MAX_SLUG = 80


def slug_of(text: str) -> str:
    """``"Simpul Pujon Kidul"`` → ``"simpul-pujon-kidul"`` (ASCII, lower case); ``""``
    when nothing in ``text`` is a letter or a digit."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
