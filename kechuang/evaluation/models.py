"""Methodologies, runs and scores of the composite index (see services for the rules)."""
