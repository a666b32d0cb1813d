"""Threshold detectors (the KEK talk's first method).

Static bounds, rolling mean ± k·σ, rolling quantile band, and a seasonal baseline.
"""
