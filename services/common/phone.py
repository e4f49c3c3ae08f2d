"""Indonesian phone numbers, accepted in local forms and stored as E.164."""

import phonenumbers

REGION = "ID"


def normalise_phone(text: object) -> str:
    """``"0812-3456-7890"``, ``"62812…"`` or ``"+62 812 …"`` → ``"+6281234567890"``.

    Raises ``ValueError`` with a message for the caller when it is not a phone number.
    """
    raw = str(text).strip()
    if raw.startswith("62"):
        raw = "+" + raw
    try:
        number = phonenumbers.parse(raw, REGION)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise ValueError(
            "Not a valid phone number; send it like 0812-3456-7890 or +62 812 3456 7890."
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mask_phone(phone: object) -> str:
    """``+6281234567890`` → ``+62********890``: enough to tell numbers apart in a log,
    too little to call anyone."""
    text = str(phone)
    return text[:3] + "*" * max(len(text) - 6, 0) + text[-3:] if len(text) > 6 else "***"
