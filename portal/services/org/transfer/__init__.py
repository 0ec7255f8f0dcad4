"""Excel import and export of units, clusters and memberships, in one documented workbook.

The workbook has three data sheets ("Đơn vị", "Cụm, khối", "Thành viên"), each with
its Vietnamese headers in row 1, and a "Hướng dẫn" sheet that the import ignores.
Import is an upsert: units are matched by name (case and repeated spaces ignored),
clusters by code, memberships by year and unit. The whole file is validated before
anything is written, every error is collected with its sheet, row and column, and
the changes go through the services of `org`, so the audit hook records each one;
the caller commits once, or rolls back when the report has errors.

- `layout`: the sheets, their columns and the rules of the template;
- `report`: what an import found (every error, each row's change);
- `read`: the file (sheets, headers, merged cells) and each cell's value;
- `plan`: every row checked against the database and the rest of the file, its change planned;
- `apply`: `import_workbook`, the whole import: read, plan, then apply the changes;
- `export`: the blank template and the export, one layout.
"""
