"""Detectors: one interface (:class:`Detector`), one registry, one module per algorithm."""

from kizashi.detectors.base import Detector
from kizashi.detectors.registry import create, get_class, names

__all__ = ["Detector", "create", "get_class", "names"]
