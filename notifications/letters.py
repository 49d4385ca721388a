"""Letters: a notice to someone who prefers post, as an A4 PDF from the same content as its email, addressed
for a DL window envelope, and the print queue (`ehc letters pending|printed`).

The recipient's address block sits where a DL window shows it once the A4 sheet is folded in three: 24.6 mm
from the left edge and 39.5 mm from the top, 95.4 mm by 26.8 mm, at most 7 lines (GOV.UK Notify's
precompiled-letter address block, so the same PDF can go through Notify). The council's return address sits
top right, clear of the window.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable
from pathlib import Path

import sqlalchemy as sa
from fpdf import FPDF
from sqlmodel import Session, col, select

from models.cases import Case, utcnow
from models.errors import InputError
from models.outbox import OutboxMessage
from models.vocabulary import Channel, OutboxStatus

ADDRESS_BLOCK = (24.6, 39.5, 95.4, 26.8)  # mm: left, top, width, height
ADDRESS_LINES = 7
MARGIN = 20.0  # mm: left, right and the text's bottom
FONTS = Path(importlib.util.find_spec("matplotlib").submodule_search_locations[0]) / "mpl-data" / "fonts" / "ttf"
FONT_FILES = (FONTS / "DejaVuSans.ttf", FONTS / "DejaVuSans-Bold.ttf")  # DejaVu, as matplotlib (pinned) ships it:
# every letter has a Unicode font, whatever the machine has installed; found without importing matplotlib
PRINTED = "print"  # the provider a printed letter records


def address_lines(postal_address: str) -> list[str]:
    """The address block's lines: the name first, the postcode last, at most 7 (a longer address is joined
    up on its last lines rather than cut)."""
    lines = [part.strip() for part in postal_address.split(",") if part.strip()]
    if len(lines) > ADDRESS_LINES:
        lines = [*lines[:ADDRESS_LINES - 2], ", ".join(lines[ADDRESS_LINES - 2:-1]), lines[-1]]
    return lines


def _fonts(pdf: FPDF) -> str:
    """DejaVu Sans, regular and bold: names in any language, as they were given."""
    regular, bold = FONT_FILES
    pdf.add_font("body", "", str(regular))
    pdf.add_font("body", "B", str(bold))
    return "body"


def letter_pdf(message: OutboxMessage, details: dict, reference: str | None) -> bytes:
    """The letter of an outbox row: return address, the window's address block, its date (the notice's day),
    the subject, the body."""
    if not message.postal_address:
        raise InputError("postal_address", f"message {message.id} has no postal address")
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(True, MARGIN)
    font = _fonts(pdf)
    pdf.set_title(f"{reference or ''} {message.kind}".strip())  # the reference only: no personal data in metadata
    pdf.add_page()
    pdf.set_font(font, size=9)
    council = [details["name"], *(p.strip() for p in (details.get("address") or "").split(",") if p.strip()),
               *(v for v in (details.get("postcode"), details.get("sen_team_phone"), details.get("sen_team_email"))
                 if v)]
    pdf.set_xy(130, 12)
    pdf.multi_cell(60, 4, "\n".join(council), align="R")
    left, top, width, height = ADDRESS_BLOCK
    pdf.set_font(font, size=10)
    pdf.set_xy(left, top)
    lines = address_lines(message.postal_address)
    pdf.multi_cell(width, height / ADDRESS_LINES, "\n".join(lines))
    pdf.set_xy(MARGIN, top + height + 8)
    pdf.cell(0, 5, f"{message.on.day} {message.on:%B %Y}", new_x="LMARGIN", new_y="NEXT")
    if reference:
        pdf.cell(0, 5, f"Our reference: {reference}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font(font, "B", 11)
    pdf.multi_cell(0, 5.5, message.subject, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font(font, size=10.5)
    for paragraph in message.body_text.strip().split("\n\n"):
        pdf.multi_cell(0, 5, " ".join(paragraph.split()), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2.5)
    return bytes(pdf.output())


def pending_letters(s: Session) -> list[tuple[OutboxMessage, str | None]]:
    """The letters waiting to be printed, oldest first, with their case reference."""
    query = (select(OutboxMessage, Case.reference).join(Case, Case.id == OutboxMessage.case_id, isouter=True)
             .where(OutboxMessage.channel == Channel.LETTER, OutboxMessage.status == OutboxStatus.PENDING)
             .order_by(OutboxMessage.id))
    return list(s.exec(query))


def letter_path(folder: Path, message: OutboxMessage, reference: str | None) -> Path:
    """`<id>-<reference>-<kind>.pdf`: the file name carries no personal data."""
    return Path(folder) / f"{message.id:08d}-{reference or 'no-case'}-{message.kind}.pdf"


def write_pending(s: Session, folder: Path, details: dict) -> list[tuple[OutboxMessage, str | None, Path]]:
    """Write each pending letter's PDF into `folder` (again, if it is there already); returns them."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for message, reference in pending_letters(s):
        path = letter_path(folder, message, reference)
        partial = path.with_suffix(".part")
        partial.write_bytes(letter_pdf(message, details, reference))
        partial.replace(path)
        written.append((message, reference, path))
    return written


def mark_printed(s: Session, ids: Iterable[int]) -> int:
    """Record letters as printed and posted: sent, by `print`. An id that is not a pending letter is refused,
    and nothing is marked."""
    ids = sorted(set(ids))
    c = OutboxMessage.__table__.c
    found = set(s.exec(select(OutboxMessage.id).where(col(OutboxMessage.id).in_(ids),
                                                       OutboxMessage.channel == Channel.LETTER,
                                                       OutboxMessage.status == OutboxStatus.PENDING)))
    unknown = [i for i in ids if i not in found]
    if unknown:
        raise InputError("ID", f"not a letter waiting to be printed: {', '.join(map(str, unknown))}")
    done = s.execute(sa.update(OutboxMessage.__table__).where(c.id.in_(ids), c.status == OutboxStatus.PENDING)
                     .values(status=OutboxStatus.SENT, provider=PRINTED, sent_at=utcnow(), next_attempt_at=None))
    return done.rowcount
