"""Benign synthetic media and fixtures for tests, demos and plugin authors."""
