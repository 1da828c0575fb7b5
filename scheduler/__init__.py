"""Storyline: one story, written once, told in every network's voice at each market's hour."""

__version__ = "0.1.0"
