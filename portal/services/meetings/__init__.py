"""The meetings of a cluster's year: award quotas, vote rules, the year-end meeting's record, its approved
score table, vote tallies and nominations (rules: the arithmetic of the vote, no database)."""
