"""Suraksha: open-source child-safety operations platform."""

__version__ = "0.1.0"
