"""Rendering a message from `templates/`: `KIND.subject.txt`, `KIND.txt` and `KIND.html` (autoescaped).

The subject is rendered from the case reference and the action only, so it can never carry a child's name."""

from __future__ import annotations

from dataclasses import dataclass

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

SUBJECT_KEYS = ("reference", "action", "due", "council", "source_label", "tier")

_env = Environment(
    loader=PackageLoader("notifications", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def render(kind: str, context: dict) -> Rendered:
    subject_context = {k: v for k, v in context.items() if k in SUBJECT_KEYS}
    subject = _env.get_template(f"{kind}.subject.txt").render(subject_context)
    return Rendered(
        subject=" ".join(subject.split()),
        text=_env.get_template(f"{kind}.txt").render(context),
        html=_env.get_template(f"{kind}.html").render(context),
    )
