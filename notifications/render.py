"""Rendering a message from `templates/`: `KIND.subject.txt`, `KIND.txt` and `KIND.html` (autoescaped).

The subject is rendered from the case reference and the action only, so it can never carry a child's name."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from jinja2 import Environment, PackageLoader, StrictUndefined, Template, select_autoescape

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


@functools.cache
def _templates(kind: str) -> tuple[Template, Template, Template]:
    """A kind's three templates, compiled once per process (a watch day renders thousands of messages)."""
    return tuple(_env.get_template(f"{kind}.{ending}") for ending in ("subject.txt", "txt", "html"))


def render(kind: str, context: dict) -> Rendered:
    subject_context = {k: v for k, v in context.items() if k in SUBJECT_KEYS}
    subject, text, html = _templates(kind)
    return Rendered(subject=" ".join(subject.render(subject_context).split()), text=text.render(context),
                    html=html.render(context))
