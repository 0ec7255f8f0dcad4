"""Monitoring: the council's view of every cluster of a year (stage, lateness, completion, rankings)."""
