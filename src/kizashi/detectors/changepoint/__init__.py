"""Change-point detectors (the KEK talk's second method family): SST and ChangeFinder."""
