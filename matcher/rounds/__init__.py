"""Rounds: when pairings happen, for whom, and how they are stored and published."""
