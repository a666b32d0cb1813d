"""Deep-learning detectors (extra ``[dl]``): networks trained by :mod:`kizashi.dl`.

Importing this package does not import torch; the detector modules do.
"""
