"""Materialized-path arithmetic, free of the database.

A path is the concatenation of fixed-width steps, one per ancestor level,
so "a is an ancestor of b" is ``b.startswith(a)`` and ordering by path lists
a tree depth-first. Steps are base-36, four characters wide: 1,679,615
children per parent (the whole country has ~41,000 townships).
"""

from __future__ import annotations

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
STEP_WIDTH = 4
MAX_STEP = len(ALPHABET) ** STEP_WIDTH - 1


def encode_step(number: int) -> str:
    """The step for the ``number``-th child (1-based)."""
    if not 1 <= number <= MAX_STEP:
        raise ValueError(f"step {number} out of range 1..{MAX_STEP}")
    digits = []
    for _ in range(STEP_WIDTH):
        number, remainder = divmod(number, len(ALPHABET))
        digits.append(ALPHABET[remainder])
    return "".join(reversed(digits))


def decode_step(step: str) -> int:
    number = 0
    for char in step:
        number = number * len(ALPHABET) + ALPHABET.index(char)
    return number


def child_path(parent_path: str, number: int) -> str:
    return parent_path + encode_step(number)


def depth_of(path: str) -> int:
    """0 for the root (one step), 1 for its children, …"""
    return len(path) // STEP_WIDTH - 1


def parent_path_of(path: str) -> str:
    return path[:-STEP_WIDTH]


def last_step_number(path: str) -> int:
    return decode_step(path[-STEP_WIDTH:])


def ancestor_paths(path: str) -> list[str]:
    """Every proper ancestor's path, root first."""
    return [path[:end] for end in range(STEP_WIDTH, len(path), STEP_WIDTH)]
