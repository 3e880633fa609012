"""Trusted flaggers: the registry of organisations whose notices are heard first, their notices, what
was found and decided about each thing a notice names, the messages owed to them, and their accuracy."""
