"""Threshold detectors (the KEK talk's first method): static, rolling k·σ, rolling quantile, seasonal."""
