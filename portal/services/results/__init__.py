"""Results: totals per assessment today; the results engine (ranking, bands, eligibility) grows here."""
