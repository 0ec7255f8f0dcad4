"""Use cases across models. Services add and flush; the caller commits once."""

from collections.abc import Mapping


class DomainError(Exception):
    """A rule of the domain was broken; `field` names the form field it belongs to.

    `message` is the Vietnamese text. Every message is raised as its catalogue entry and its values
    apart, `DomainError(N_("Chọn tối đa %(seats)s đơn vị."), "award_3", seats=2)`, so the pages can
    show it in the reader's language (`msgid` and `params`, translated by the web layer; a value that
    is itself a DomainError is translated too); the services themselves stay free of Flask.
    """

    def __init__(self, message: str, field: str | None = None, **params):
        self.msgid = message
        self.params: Mapping = params
        self.message = message % params if params else message
        super().__init__(self.message)
        self.field = field
