"""What an import of the organisation workbook found: every error, and what each row changes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from portal.services.platform.excel import located

ACTION_LABELS = {"create": "thêm mới", "update": "cập nhật", "unchanged": "không đổi"}


@dataclass(frozen=True)
class RowError:
    sheet: str
    row: int | None  # as Excel numbers it; None for a problem with the whole file
    column: str
    message: str

    def __str__(self) -> str:
        return located(self.message, sheet=self.sheet, row=self.row, column=self.column)


@dataclass
class Change:
    sheet: str
    row: int
    action: str  # create | update | unchanged
    label: str
    fields: list[tuple[str, str, str]] = field(default_factory=list)  # (column, before, after)
    apply: Callable[[Session], None] | None = None

    @property
    def action_label(self) -> str:
        return ACTION_LABELS[self.action]


@dataclass
class ImportReport:
    errors: list[RowError] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    sheets: list[str] = field(default_factory=list)
    applied: bool = False

    @property
    def counts(self) -> dict[str, dict[str, int]]:
        tally = Counter((c.sheet, c.action) for c in self.changes)
        return {s: {a: tally[(s, a)] for a in ACTION_LABELS} for s in self.sheets}

    @property
    def edits(self) -> list[Change]:
        return [c for c in self.changes if c.action != "unchanged"]

    def summary(self) -> str:
        parts = [
            f"{sheet}: " + ", ".join(f"{n} {ACTION_LABELS[a]}" for a, n in counts.items())
            for sheet, counts in self.counts.items()
        ]
        return "; ".join(parts) + "."


def file_error(message: str) -> list[RowError]:
    """The one error of a file that cannot be taken as a whole."""
    return [RowError("", None, "", message)]
