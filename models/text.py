"""Free text a caseworker types (names, notes, reasons, council names): one check at entry, and one way to print
what the store holds. Text a command refuses is never echoed back, only its length (it may be personal data)."""

from __future__ import annotations

import unicodedata

from models.errors import InputError

NAME_MAX = 200  # a child's or a setting's name
COUNCIL_MAX = 200
NOTE_MAX = 2000  # notes, reasons, evidence, outcomes
# Unicode's bidirectional formatting characters (UAX #9): U+202E shows "txt.exe" as "exe.txt"
BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
LINE_BREAKS = frozenset("\u2028\u2029\x85")


def _bad(ch: str) -> str | None:
    category = unicodedata.category(ch)
    if category == "Cs":  # a lone surrogate: a byte of argv that was not UTF-8 (PEP 383)
        return "holds a byte that is not UTF-8"
    if category == "Cc" or ch in LINE_BREAKS:
        return f"must not hold control characters (U+{ord(ch):04X})"
    if ch in BIDI:
        return f"must not hold bidirectional formatting characters (U+{ord(ch):04X})"
    return None


def clean(value: str, field: str, max_len: int) -> str:
    """The text trimmed, a tab as a space; InputError if empty, longer than `max_len`, or holding an invalid
    byte, another control character or a bidirectional formatting character."""
    value = value.replace("\t", " ")
    for ch in value:
        rule = _bad(ch)
        if rule:
            raise InputError(field, rule)
    value = value.strip()
    if not value:
        raise InputError(field, "must not be empty")
    if len(value) > max_len:
        raise InputError(field, f"must be at most {max_len} characters (this has {len(value)})")
    return value


def optional(value: str | None, field: str, max_len: int) -> str | None:
    """`clean` for an option that may be left out (None); given, it must not be empty."""
    return None if value is None else clean(value, field, max_len)


def reasons(value: str | None, field: str = "--reasons") -> str | None:
    """A decision's reasons, as its notice states them: None when it gives none, else checked as a note."""
    if value is None:
        return None
    if not value.strip():
        raise InputError(field, "must say why, or be left out")
    return clean(value, field, NOTE_MAX)


def printable(value: str) -> str:
    """Stored text as a terminal may show it: control, bidirectional and invalid characters escaped (`\\u202e`),
    so text entered before these checks cannot reorder or hide what `case show` prints."""
    return "".join(ch.encode("unicode_escape").decode("ascii") if _bad(ch) else ch for ch in value)
