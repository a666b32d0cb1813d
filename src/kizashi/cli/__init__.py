"""The ``kizashi`` command line."""
