"""The data rows of an uploaded criteria table, read one by one: each cell checked, each depth read
or inferred from the row's code (I, 1, 1.1, a, a1 …). `checks` then checks the tree they make."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from decimal import Decimal

from portal.formatting import vn_number
from portal.models.criteria import CRITERION_KINDS, METHODS, CriterionKind, Method
from portal.services.criteria.excel.layout import HEADERS, Layout, ParsedRow, RowError, fold
from portal.services.criteria.methods import ScoreError, parse_decimal
from portal.services.criteria.sets import MAX_POINTS
from portal.services.criteria.tree import MAX_DEPTH
from portal.services.org.structure import clean

MAX_CODE, MAX_UNIT = 16, 64
CENT = Decimal("0.01")
METHOD_SHORT = {
    Method.DIRECT: ("truc tiep",),
    Method.QUANTITATIVE: ("dinh luong",),
    Method.PASS_FAIL: ("dinh tinh", "dat khong dat"),
    Method.PER_OCCURRENCE: ("theo so lan", "cham thang"),
}
KIND_SHORT = {CriterionKind.SCORED: (), CriterionKind.BONUS: ("thuong", "diem cong"), CriterionKind.DEDUCTION: ("tru",)}
YES, NO = {"co", "x", "yes", "1", "true"}, {"khong", "no", "0", "false", ""}
TOTAL_ROWS = ("tong cong", "tong diem", "tong so diem")
ROMAN = re.compile(r"(?=[ivxlcdm]+$)m{0,3}(cm|cd|d?c{0,3})(xc|xl|l?x{0,3})(ix|iv|v?i{0,3})", re.I)
LETTER = re.compile(r"[a-zđ][.)]?")
LETTER_NUMBERED = re.compile(r"[a-zđ]\.?\d+[.)]?")  # a1, a.1, a1), a1.: one below the lettered row before it
NUMBERED = re.compile(rf"\d+(\.\d+){{0,{MAX_DEPTH - 2}}}\.?")  # 1 is level 2, so 1.1.1.1 is level 5


def _choices(labels: dict[str, str], short: dict[str, tuple[str, ...]]) -> dict[str, str]:
    found = {fold(label): key for key, label in labels.items()}
    found.update({fold(label.split("(")[0]): key for key, label in labels.items()})
    found.update({word: key for key, words in short.items() for word in words})
    return found


METHOD_CHOICES = _choices(METHODS, METHOD_SHORT)
KIND_CHOICES = _choices(CRITERION_KINDS, KIND_SHORT)


class RowReader:
    """Reads the data rows one by one; collects every error of a row and of a merge."""

    def __init__(self, layout: Layout):
        self.layout = layout
        self.rows: list[ParsedRow] = []
        self.stated: dict[int, Decimal | None] = {}  # excel row → the Điểm chuẩn the file gives
        self.errors: list[RowError] = []
        self.unreadable: set[tuple[int, str]] = set()  # (row, column key) of numbers that could not be read
        self.merged_rows: set[int] = set()  # their values are unreliable: only the merge is reported
        self.context = 0  # depth of the last row numbered other than with a letter (a, b …)
        self.letter = 0  # depth of the last lettered row (a, b …) under it; 0 when none since
        self.guessed: set[int] = set()  # excel rows whose depth could not be read: placed by a guess

    def error(self, row: int, key: str, message: str) -> None:
        if row not in self.merged_rows:
            self.errors.append(RowError(row, HEADERS.get(key, ""), message))

    def merged(self, ranges) -> None:
        first, last = self.layout.header_row + 1, self.layout.last_row
        by_index = {index: key for key, index in self.layout.columns.items()}
        for cells in ranges:
            if cells.max_row >= first and cells.min_row <= last:
                row = max(cells.min_row, first)
                self.errors.append(
                    RowError(
                        row,
                        HEADERS.get(by_index.get(cells.min_col - 1, ""), ""),
                        f"Có ô gộp ({cells.coord}); hãy bỏ gộp ô (Unmerge) và ghi đủ giá trị vào từng dòng.",
                    )
                )
                self.merged_rows.update(range(row, cells.max_row + 1))

    def read(self, number: int, values: tuple) -> None:
        cells = {key: values[index] if index < len(values) else None for key, index in self.layout.columns.items()}
        title = _text(cells.get("title"))
        if blank(cells.values()) or blank([cells.get("code")]) and fold(title).startswith(TOTAL_ROWS):
            return  # blank, or the "Tổng cộng" line under a table typed by hand
        code = self._code(number, cells.get("code"))
        if not title:
            self.error(number, "title", "Thiếu nội dung tiêu chí.")
        self.stated[number] = self._number(number, "max_points", cells.get("max_points"))
        self.rows.append(
            ParsedRow(
                code=code,
                title=title,
                max_points=self.stated[number],
                depth=self._depth(number, code, cells.get("depth")),
                kind=self._choice(number, "kind", cells.get("kind"), KIND_CHOICES),
                method=self._choice(number, "method", cells.get("method"), METHOD_CHOICES),
                points_each=self._number(number, "points_each", cells.get("points_each")),
                measure_unit=clean(_text(cells.get("measure_unit"))),
                guidance=_text(cells.get("guidance")),
                evidence_required=self._yes(number, cells.get("evidence_required")),
                excel_row=number,
            )
        )
        if len(self.rows[-1].measure_unit) > MAX_UNIT:
            self.error(number, "measure_unit", f"Đơn vị tính tối đa {MAX_UNIT} ký tự.")

    def _code(self, number: int, value) -> str:
        if isinstance(value, (datetime, date, time)):
            self.error(
                number,
                "code",
                "Excel đã tự đổi số thứ tự thành ngày tháng; hãy định dạng cột STT là Văn bản (Text) rồi gõ lại.",
            )
            return ""
        if isinstance(value, float):
            code = str(int(value)) if value.is_integer() else repr(value)
        else:
            code = clean(_text(value))
        if not code:
            self.error(number, "code", "Thiếu số thứ tự (mã) của tiêu chí, ví dụ I, 1 hoặc a.")
        elif len(code) > MAX_CODE:
            self.error(number, "code", f"Mã tiêu chí tối đa {MAX_CODE} ký tự.")
        return code

    def _number(self, number: int, key: str, value) -> Decimal | None:
        header = HEADERS[key]
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        try:
            if isinstance(value, (bool, datetime, date, time)):
                raise ScoreError(f"{header} phải là một số (ví dụ 12,5).")
            # a number cell is read as it is; only text goes through the Vietnamese reading of "1.000" or "12,5"
            result = parse_decimal(value if isinstance(value, str) else Decimal(repr(value)), field=header)
        except ScoreError as error:
            self.error(number, key, str(error))
            self.unreadable.add((number, key))
            return None
        rounded = result.quantize(CENT)
        if result < 0:
            self.error(number, key, f"{header} không được âm.")
        elif result > MAX_POINTS:
            self.error(number, key, f"{header} không quá {vn_number(MAX_POINTS)}.")
        elif abs(result - rounded) > Decimal("1e-9"):  # what is left of binary floating point is not a decimal
            self.error(number, key, f"{header} có tối đa 2 chữ số thập phân.")
        return rounded

    def _choice(self, number: int, key: str, value, choices: dict[str, str]) -> str:
        text = fold(value) if value is not None else ""
        if not text:
            return ""
        found = choices.get(text) or choices.get(fold(str(value).split("(")[0]))
        if not found:
            labels = CRITERION_KINDS if key == "kind" else METHODS
            self.error(number, key, f"“{_text(value)}” không hợp lệ; chọn một trong: {'; '.join(labels.values())}.")
        return found or ""

    def _yes(self, number: int, value) -> bool:
        text = fold(value) if value is not None else ""
        if text not in YES | NO:
            self.error(number, "evidence_required", f"“{_text(value)}” không hợp lệ; ghi “Có” hoặc để trống.")
        return text in YES

    def _depth(self, number: int, code: str, value) -> int:
        text = _text(value) if not isinstance(value, bool) else "?"
        if text.isdigit() and int(text) >= 1:
            self._remember(code, int(text))
            return int(text)
        inferred = self._infer(code)
        if text:
            self.error(number, "depth", f"Cấp phải là một số nguyên từ 1 đến {MAX_DEPTH}.")
        elif inferred is None and code:
            self.error(
                number,
                "depth" if "depth" in self.layout.columns else "code",
                f"Không suy ra được cấp từ STT “{code}”; ghi cấp (1–{MAX_DEPTH}) vào cột “Cấp”.",
            )
        if inferred is None or text:
            self.guessed.add(number)  # placed by a guess: what follows from its place is not reported
        return inferred or max(self.context, 1)

    def _remember(self, code: str, depth: int) -> None:
        """The context the next lettered codes are read in, after a row of a known depth."""
        if LETTER_NUMBERED.fullmatch(code):
            return
        if LETTER.fullmatch(code):
            self.letter = depth
        else:
            self.context, self.letter = depth, 0

    def _infer(self, code: str) -> int | None:
        """I, II → 1; 1, 2 → 2; 1.1 → 3; 1.1.1 → 4; 1.1.1.1 → 5; a, b, a), a. → one below the row numbered
        before them; a1, a.1, a1) → one below the lettered row before them."""
        if LETTER_NUMBERED.fullmatch(code):
            return self.letter + 1 if self.letter else None
        if LETTER.fullmatch(code) and (self.context or not ROMAN.fullmatch(code[0])):
            self.letter = self.context + 1 if self.context else 0
            return self.letter or None
        if ROMAN.fullmatch(code.rstrip(".")):
            depth = 1
        elif NUMBERED.fullmatch(code):
            depth = 2 + code.rstrip(".").count(".")
        else:
            return None
        self.context, self.letter = depth, 0
        return depth


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).replace("\r\n", "\n").replace("\r", "\n").strip()


def blank(values) -> bool:
    """Nothing but empty cells (None or spaces)."""
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in values)
