"""The one error type the matching engine raises for bad input."""


class ProblemError(ValueError):
    """A problem or rules definition is invalid; the message is one line naming the field."""
