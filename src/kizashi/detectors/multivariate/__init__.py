"""Detectors that read an entity's metrics together."""
