"""Detectors of patterns: what the recent shape of a series says."""
