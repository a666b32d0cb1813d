"""Data: the in-memory series frame, readers, validation and synthetic generators."""
