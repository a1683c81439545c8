"""The composite-index engine: pure numpy/scipy, no Django (import-linter enforces it).

Every step is a function on arrays; a spec composes them. The platform side
(`kechuang.evaluation.services`) reads approved data into arrays, calls the
engine and stores what it returns.
"""
