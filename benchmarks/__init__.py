"""`crmsync bench`: what a sync, a transform run and a push cost against the sandbox, as
ratios to baselines measured in the same run (so the figures hold on a noisy machine)."""
