"""Email addresses as a caseworker enters them: checked for syntax when entered, never for deliverability.

A recipient goes into a message header, so an address with a line break (`…\r\nBcc: …`) must never reach the
outbox: it would fail at the send, or worse, add a recipient."""

from email_validator import EmailNotValidError, validate_email

from models.errors import InputError


def email_address(value: str, field_name: str) -> str:
    """The address in its normal form (RFC 5321/5322 syntax, no DNS look-up), or InputError naming the field.
    The error says what is wrong, not the address."""
    try:
        return validate_email(value.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise InputError(field_name, f"not a valid email address: {exc}") from None
