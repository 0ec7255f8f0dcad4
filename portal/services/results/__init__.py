"""Results: the engine (inputs → points → ranking, bands, flags, stability), its one aggregate read, and what it is computed with (settings, bands, criteria that do not apply, eligibility)."""
