"""The offline route of an assessment: a prefilled Excel form to download, fill in and upload back.

The form (sheet "Tự chấm điểm") has a title block, then one row per criterion in
tree order: Mã | Nội dung tiêu chí | Cách chấm | Điểm tối đa | Chỉ tiêu đăng ký |
Giá trị tự chấm | Giải trình | Điểm. Only the value and explanation cells of the
leaves are unlocked; the sheet is protected without a password, to show what to
fill in, not to secure anything. A hidden sheet "_meta" names the assessment and
the criteria version and, for each row, the criterion id, its full code and the
value and explanation as they were downloaded: rows are matched by id, never by
position or text.

Import is all or nothing. A file that cannot be taken as a whole (not an .xlsx,
another assessment's or another version's form, a closed assessment) raises
DomainError. Otherwise every cell is checked with `assessments.parse_value`; if
any is wrong, the report lists every error with its row and code and nothing has
been written, not even flushed. Only then is each changed row saved through
`assessments.save_score`; the caller commits once, or rolls back on an error.

A row is applied as a change against the download: a row left as it was
downloaded never overwrites what was saved on the portal since, and a row changed
both in the file and on the portal meanwhile is an error, never a silent overwrite.

- `form`: the sheets, rows and columns both directions share;
- `export`: the prefilled, protected form;
- `parse`: the uploaded form read and every row checked, nothing written;
- `apply`: `import_workbook`, the checked changes saved.
"""
