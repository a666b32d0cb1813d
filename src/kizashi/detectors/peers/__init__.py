"""Detectors that judge a series against its peers (same metric on the nodes of a rack,
partition or job) rather than against its own history."""
