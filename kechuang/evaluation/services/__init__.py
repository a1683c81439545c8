"""Evaluation services: methodologies, runs, rankings, what-if, assessments."""
