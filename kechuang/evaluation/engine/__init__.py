"""The composite-index engine: pure numpy, no Django (import-linter enforces it).

Every step is a function on arrays; a spec composes them. The platform side
(`kechuang.evaluation.services`) reads approved data into arrays, calls the
engine and stores what it returns. The algorithms are COINr 1.1.14's
(reference outputs in `tests/engine/coinr_reference/`), plus the Chinese
standard-value (标准值) scoring and base-year indices.

framework   the indicator tree from META rows (`framework_from_rows`)
table       the data in memory (`DataTable`)
spec        SPEC.yaml → step objects (`parse_spec`)
steps/      denominate, impute, screen, treat, normalise, aggregate
weights     effective weights; equal, entropy, CRITIC and PCA weights
pipeline    `build(table, framework, spec) -> BuildResult`, ranks
files       CSV/YAML in, dset_*.csv, results.csv, treat_details.csv out
"""
