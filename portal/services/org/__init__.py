"""The province's structure and its years: units, clusters and council members; emulation years, memberships,
terms and the carry-over to the next year; the secretariat's overview; Excel transfer.
"""
