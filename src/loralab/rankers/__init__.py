"""Rankers score (query, document) pairs; every one returns scores that become a `Ranking`."""
