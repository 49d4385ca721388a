"""Rendering a message from `templates/`: `KIND.subject.txt`, `KIND.txt` and `KIND.html` (autoescaped).

The subject is rendered from the case reference and the action only, so it can never carry a child's name."""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass

from jinja2 import Environment, PackageLoader, StrictUndefined, Template, select_autoescape

IDENTIFIERS = {"reference": "EHCMARKREFERENCE", "escalation_id": "EHCMARKESCALATION"}  # printed as they are by
# every template that names them; each mark stands for it in a wording rendered once for many messages
PLAIN = re.compile(r"[A-Za-z0-9-]+")  # a value the same escaped as plain, one word: safe to put in afterwards
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


def _frozen(value, seen: dict[int, tuple[object, tuple | None]]):
    """`value` as a hashable key (its type kept: True and 1 word differently), or None if it cannot be. A
    container met before (the council's details, in every context) is looked up in `seen`, which keeps it
    alive so its id cannot be reused."""
    if isinstance(value, dict | list | tuple):
        if id(value) in seen:
            return seen[id(value)][1]
        if isinstance(value, dict):
            items = [(k, _frozen(v, seen)) for k, v in value.items()]
            frozen = None if any(v is None for _, v in items) else ("dict", tuple(items))
        else:
            items = [_frozen(v, seen) for v in value]
            frozen = None if any(v is None for v in items) else ("list", tuple(items))
        seen[id(value)] = (value, frozen)
        return frozen
    if isinstance(value, str):
        return None if "EHCMARK" in value else (type(value).__name__, value)
    if value is None or isinstance(value, int | float | dt.date):
        return (type(value).__name__, value)
    return None


def _plain(value) -> str | None:
    """An identifier's value as printed, if it can be put in after rendering (a plain word or a whole number)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    return value if isinstance(value, str) and PLAIN.fullmatch(value) else None


class Renderer:
    """`render` for many messages at once (a watch day words thousands): each distinct wording is rendered once,
    and messages that differ only in their identifiers (case reference, escalation number: the chases of one
    date and kind) get them put in afterwards. Only a plain identifier (letters, digits, dashes: the same
    escaped) is put in this way; any other context is rendered as it is. The words are exactly `render`'s."""

    def __init__(self) -> None:
        self._wordings: dict[tuple, Rendered] = {}
        self._seen: dict[int, tuple[object, tuple | None]] = {}

    def __call__(self, kind: str, context: dict) -> Rendered:
        values = {name: _plain(context[name]) for name in IDENTIFIERS if name in context}
        rest = tuple((k, _frozen(v, self._seen)) for k, v in context.items() if k not in IDENTIFIERS)
        if any(v is None for _, v in rest) or None in values.values():
            return render(kind, context)
        wording = self._wordings.get((kind, tuple(values), rest))
        if wording is None:
            marked = {**context, **{name: IDENTIFIERS[name] for name in values}}
            wording = self._wordings[(kind, tuple(values), rest)] = render(kind, marked)
        parts = [wording.subject, wording.text, wording.html]
        for name, value in values.items():
            parts = [part.replace(IDENTIFIERS[name], value) for part in parts]
        return Rendered(*parts)
