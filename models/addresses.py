"""Contact data checked when it is entered: an email address (syntax only, never the network) and a UK postcode.

A bad value is refused with the field named and never the value itself (it may be a family's address)."""

from __future__ import annotations

import re

from email_validator import EmailNotValidError
from email_validator import validate_email as _validate_email

from models.errors import InputError

# the standard format of a UK postcode (BS 7666): outward code, then inward code of a digit and two letters
POSTCODE = re.compile(r"^(GIR ?0AA|[A-PR-UWYZ](?:[0-9]{1,2}|[A-HK-Y][0-9]{1,2}|[0-9][A-HJKPSTUW]|[A-HK-Y][0-9]"
                      r"[ABEHMNPRVWXY]) ?[0-9][ABD-HJLNP-UW-Z]{2})$")


def validate_email(value: str, field: str) -> str:
    """The address, normalised (its domain lower-cased); refused unless it is an email address by its syntax
    (RFC 5321/5322, no DNS look-up). An address with a line break (`…\r\nBcc: …`) never reaches a header,
    nor one padded with one."""
    if any(not ch.isprintable() for ch in value):
        raise InputError(field, "is not an email address")
    try:
        return _validate_email(value.strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        raise InputError(field, "is not an email address") from None


def validate_postcode(value: str, field: str) -> str:
    """A UK postcode in its standard written form (`SW1A 1AA`); refused unless it has the standard format."""
    if re.search(r"[^A-Za-z0-9 ]", value.strip()):  # letters, digits and spaces only: no other character passes
        raise InputError(field, "is not a UK postcode")
    compact = re.sub(r" +", "", value.strip().upper())
    if not POSTCODE.match(compact):
        raise InputError(field, "is not a UK postcode")
    return f"{compact[:-3]} {compact[-3:]}"
