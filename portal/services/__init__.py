"""Use cases across models. Services add and flush; the caller commits once."""


class DomainError(Exception):
    """A rule of the domain was broken; `field` names the form field it belongs to."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
