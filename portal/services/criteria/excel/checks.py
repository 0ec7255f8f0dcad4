"""The tree the rows of an uploaded criteria table make, checked: depths, kinds, duplicate codes,
what a leaf or a parent may say, and each parent's points against the sum of its children's."""

from __future__ import annotations

from decimal import Decimal

from portal.formatting import vn_number
from portal.models.criteria import CRITERION_KINDS, CriterionKind, Method
from portal.services.criteria.excel.layout import ParsedRow, ParsedTable, fold
from portal.services.criteria.excel.rows import RowReader
from portal.services.criteria.tree import MAX_DEPTH


def check_tree(reader: RowReader) -> ParsedTable:
    """The rows read, placed in their tree and checked; with every error of the file in row order."""
    return _TreeCheck(reader).finish()


class _TreeCheck:
    """Places each row under its parent, then checks what follows from its place; adds to the reader's errors."""

    def __init__(self, reader: RowReader):
        self.layout, self.rows, self.stated = reader.layout, reader.rows, reader.stated
        self.errors, self.error = reader.errors, reader.error
        self.unreadable, self.guessed = reader.unreadable, reader.guessed
        self.unsure: set[int] = set()  # indexes of rows whose place, or whose children, follow from a guess

    def finish(self) -> ParsedTable:
        if "depth" not in self.layout.columns and self.rows and min(r.depth for r in self.rows) > 1:
            shift = min(r.depth for r in self.rows) - 1  # a table typed without sections: 1, 2 … are the top level
            for row in self.rows:
                row.depth -= shift
        if not self.rows:
            self.error(self.layout.header_row, "", "Không có dòng tiêu chí nào dưới dòng tiêu đề cột.")
        parents = self._link()
        self._check_leaves()
        self._check_sums(parents)
        return ParsedTable(rows=self.rows, errors=sorted(self.errors, key=lambda e: e.excel_row or 0))

    def _link(self) -> list[int | None]:
        """Depth, kind and duplicate checks; returns each row's parent index.

        A row that cannot be placed where the file says (too deep, a missing level, a code
        not understood) is reported once, at its row, and put where it most likely belongs.
        Nothing that follows from that guess is reported: not the sums, leaves, kinds or
        duplicates of the rows it may have been put among, nor of the rows under it, nor of
        the rows it may have been taken from (`self.unsure`).
        """
        depth_key = "depth" if "depth" in self.layout.columns else "code"
        stack: list[int] = []
        parents: list[int | None] = []
        seen: dict[tuple[int | None, str], int] = {}
        stated_before = 0  # the depth the previous row states: a missing level is reported once, where it is
        region: int | None = None  # while rows follow a guessed one: the depth it was placed at
        after_guess = False
        for index, row in enumerate(self.rows):
            stated = row.depth
            self._check_depth(row, depth_key, stated_before, len(stack), after_guess)
            row.depth, stated_before = min(stated, MAX_DEPTH, len(stack) + 1), stated
            after_guess = row.excel_row in self.guessed  # its own depth is a guess: the next row's jump is not news
            region = self._follow_guess(index, row, stated, stack, region, after_guess)
            del stack[row.depth - 1 :]
            parents.append(stack[-1] if stack else None)
            self._settle_kind(row, self.rows[stack[-1]] if stack else None, sure=region is None)
            self._check_code(row, parents[-1], seen, sure=region is None)
            stack.append(index)
        return parents

    def _check_depth(
        self, row: ParsedRow, depth_key: str, stated_before: int, open_levels: int, after_guess: bool
    ) -> None:
        """A row deeper than the table allows, or a level skipped (unless the row before was itself a guess)."""
        stated = row.depth
        if stated > MAX_DEPTH:
            self.error(row.excel_row, depth_key, f"Bảng tiêu chí có tối đa {MAX_DEPTH} cấp; dòng này ở cấp {stated}.")
        elif stated > stated_before + 1 and stated > open_levels + 1 and not after_guess:
            self.error(
                row.excel_row,
                depth_key,
                f"Cấp {stated} ngay sau cấp {stated_before}: thiếu cấp ở giữa."
                if stated_before
                else "Dòng đầu tiên của bảng phải là một mục cấp 1 (I, II, …).",
            )

    def _follow_guess(
        self, index: int, row: ParsedRow, stated: int, stack: list[int], region: int | None, after_guess: bool
    ) -> int | None:
        """The depth of the guessed region the row is in, None once rows are placed surely again.

        A row placed by a guess makes its possible parents unsure, and every row in its region."""
        if after_guess or row.depth != stated:
            self.unsure.update(stack)  # it may belong under any of these, or deeper
            region = row.depth if region is None else min(region, row.depth)
        elif region is not None and row.depth <= region:
            region = None
        if region is not None:
            self.unsure.add(index)
        return region

    def _settle_kind(self, row: ParsedRow, parent: ParsedRow | None, *, sure: bool) -> None:
        """A row without a kind takes its parent's (or its title's); a sure row of another kind than its parent's
        is an error."""
        if parent is not None:
            parent.has_children = True
        if not row.kind:
            row.kind = parent.kind if parent else _kind_from_title(row.title)
        elif parent is not None and row.kind != parent.kind and sure:
            self.error(
                row.excel_row,
                "kind",
                f"Tiêu chí con phải cùng loại với mục cha "
                f"({CRITERION_KINDS[parent.kind].lower()}, dòng {parent.excel_row}).",
            )

    def _check_code(
        self, row: ParsedRow, parent: int | None, seen: dict[tuple[int | None, str], int], *, sure: bool
    ) -> None:
        """Two rows under the same parent may not share a code; `seen` keeps the first row of each."""
        key = (parent, row.code.casefold())
        if row.code and key in seen and sure:
            self.error(row.excel_row, "code", f"Mã “{row.code}” trùng với dòng {seen[key]} trong cùng một mục.")
        seen.setdefault(key, row.excel_row)

    def _check_leaves(self) -> None:
        for index, row in enumerate(self.rows):
            number = row.excel_row
            if index in self.unsure:  # whether it has children is a guess
                continue
            if row.has_children:
                if row.method not in ("", Method.DIRECT) or row.points_each is not None or row.measure_unit:
                    self.error(
                        number,
                        "method",
                        "Mục có tiêu chí con được tính bằng tổng các tiêu chí con; để trống "
                        "“Phương pháp chấm”, “Điểm mỗi lần” và “Đơn vị tính”.",
                    )
                row.method, row.points_each, row.measure_unit = Method.DIRECT, None, ""
                continue
            row.method = row.method or (Method.PER_OCCURRENCE if row.points_each is not None else Method.DIRECT)
            if row.kind != CriterionKind.SCORED and row.method == Method.QUANTITATIVE:
                self.error(number, "method", "Điểm thưởng, điểm trừ không chấm theo phương pháp định lượng.")
            if row.method == Method.PER_OCCURRENCE and not row.points_each:
                self.error(
                    number,
                    "points_each",
                    "Nhập số điểm cho mỗi lần (lớn hơn 0) với phương pháp chấm thẳng theo số lần.",
                )
            elif row.method != Method.PER_OCCURRENCE and row.points_each is not None:
                self.error(number, "points_each", "Điểm mỗi lần chỉ dùng với phương pháp chấm thẳng theo số lần.")
            if row.method != Method.QUANTITATIVE and row.measure_unit:
                self.error(number, "measure_unit", "Đơn vị tính chỉ dùng với phương pháp định lượng.")
            if row.max_points is None and (number, "max_points") not in self.unreadable:
                self.error(
                    number,
                    "max_points",
                    "Tiêu chí không có tiêu chí con phải có điểm chuẩn (với điểm thưởng, điểm trừ: mức tối đa).",
                )

    def _check_sums(self, parents: list[int | None]) -> None:
        sums: dict[int, Decimal] = {}
        # parents with a leaf whose points are missing or unreadable, or placed by a guess: no check
        incomplete: set[int] = set(self.unsure)
        for index in reversed(range(len(self.rows))):
            row = self.rows[index]
            if row.has_children:
                stated = self.stated[row.excel_row]
                if stated is not None and index not in incomplete and stated != sums[index]:
                    self.error(
                        row.excel_row,
                        "max_points",
                        f"Điểm chuẩn {vn_number(stated)} khác tổng điểm các tiêu chí con ({vn_number(sums[index])}).",
                    )
                row.max_points = sums[index]
            if parents[index] is not None:
                sums[parents[index]] = sums.get(parents[index], Decimal(0)) + (row.max_points or Decimal(0))
                if row.max_points is None or index in incomplete:
                    incomplete.add(parents[index])


def _kind_from_title(title: str) -> str:
    words = fold(title)
    if "diem thuong" in words:
        return CriterionKind.BONUS
    return CriterionKind.DEDUCTION if "diem tru" in words else CriterionKind.SCORED
