"""Hash banks: named lists of known signals (block lists and allow lists) and their entries."""
