"""Errors the page can show as they are: each carries a code, a sentence for the user and the field."""


class RerankerError(ValueError):
    """Base class: `message` is a complete sentence a user can act on; `field` says where to show it."""

    def __init__(self, code: str, message: str, field: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field

    def to_dict(self) -> dict:
        """JSON-able form for the glue."""
        return {"code": self.code, "message": self.message, "field": self.field}


class InputError(RerankerError):
    """The query, the passages or a setting cannot be used as given."""


class ShareError(RerankerError):
    """A share string is damaged, from a newer version, or otherwise unusable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message, "share")
