"""Publication of a cluster-year's results (immutable snapshots, recompute, revisions) and the council's decision."""
