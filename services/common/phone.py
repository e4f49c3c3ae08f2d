"""Indonesian phone numbers, accepted in local forms and stored as E.164."""

import phonenumbers

REGION = "ID"
MOBILE_TYPES = (
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
)


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


def normalise_mobile(text: object) -> str:
    """An Indonesian mobile number (one that can receive an SMS), stored as E.164:
    ``"0812-3456-7890"`` → ``"+6281234567890"``; a landline such as ``0341 123456``
    or a number of another country raises ``ValueError`` saying what to send."""
    phone = normalise_phone(text)
    number = phonenumbers.parse(phone, REGION)
    if number.country_code != 62 or phonenumbers.number_type(number) not in MOBILE_TYPES:
        raise ValueError(
            "Not an Indonesian mobile number; send one that receives SMS, "
            "like 0812-3456-7890 or +62 812 3456 7890."
        )
    return phone


def mask_phone(phone: object) -> str:
    """``+6281234567890`` → ``+62********890``: enough to tell numbers apart in a log,
    too little to call anyone."""
    text = str(phone)
    return text[:3] + "*" * max(len(text) - 6, 0) + text[-3:] if len(text) > 6 else "***"
