"""The one error type for bad input: it names the field and the rule broken, and never carries personal data."""


class InputError(ValueError):
    def __init__(self, field_name: str, rule: str):
        super().__init__(f"{field_name}: {rule}")
        self.field = field_name
        self.rule = rule
