"""The one error type for bad input: it names the field and the rule broken, and never carries personal data."""

SHOWN = 60  # characters of a bad value echoed back; a pasted 100,000-character value is cut here
RULE_MAX = 300  # the whole rule, whatever a caller put in it


def shown(value: object, limit: int = SHOWN) -> str:
    """A bad value as an error may echo it: its repr, cut to `limit` characters with an ellipsis."""
    text = value if isinstance(value, str) else str(value)
    return repr(text) if len(text) <= limit else f"{text[:limit]!r}…"


class InputError(ValueError):
    def __init__(self, field_name: str, rule: str):
        rule = rule if len(rule) <= RULE_MAX else f"{rule[:RULE_MAX]}…"
        super().__init__(f"{field_name}: {rule}")
        self.field = field_name
        self.rule = rule
