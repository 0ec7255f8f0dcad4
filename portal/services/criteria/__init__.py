"""Criteria tables: sets and their tree, scoring methods, Excel export and import."""
