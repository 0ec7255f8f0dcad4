"""Results: the engine (inputs → points → ranking, bands, flags, stability) and its one aggregate read.

Also what the results are computed with: settings, bands, criteria that do not apply, eligibility.
"""
