"""Comparisons: run a matrix of methods on one task and dataset, then report it."""
