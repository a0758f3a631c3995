"""Programmes: the catalogue, each programme's rules and schedule, and who belongs to which."""
