"""Reading a plan's plain text into its task-decomposition table: pure Python, no Django.

Deterministic rules of Chinese official-document structure (numbering levels,
role labels, quantity phrases); no model, nothing downloaded.
"""
