"""Excel import and export of a criteria table (bảng tiêu chí, thang điểm), one module per phase.

The layout is the one these tables are written in by hand: a title block, then one
header row (STT | Nội dung tiêu chí | Điểm chuẩn | Cấp | Loại | Phương pháp chấm |
Điểm mỗi lần | Đơn vị tính | Cách chấm | Minh chứng) and one row per section or
criterion, in the order of the table. docs/criteria-excel.md documents it and the
"Hướng dẫn" sheet of every exported file repeats it.

- `layout`: the sheet, its columns and what a parse yields (shared by every phase);
- `export`: the table as a workbook, with its guide sheet;
- `parse`: the file as a whole (sheet, header row, size), then `rows` reads each row and
  `checks` checks the tree they make: every problem is returned with its Excel row, none raised;
- `apply`: `replace_tree` swaps the draft's criteria for the parsed ones through
  `sets.add_criterion`, so the tree rules and the audit log apply; the caller commits once;
- `report`: the errors of a refused import, grouped for the page or one per line in a workbook.

Exporting a table and importing the file gives back the same tree.
"""
