"""Every write to indicator data: values, submissions and their review, targets, the catalogue.

Split by subject; import from here (``from kechuang.indicators import services``).
"""

from kechuang.indicators.services.values import (
    ValueChange,
    cell_history,
    open_submission,
    set_values,
)
from kechuang.indicators.services.workflow import (
    approval_chain,
    approve_submission,
    reopen_submission,
    return_submission,
    submit_submission,
    validate_submission,
    values_digest,
)

__all__ = [
    "ValueChange",
    "approval_chain",
    "approve_submission",
    "cell_history",
    "open_submission",
    "reopen_submission",
    "return_submission",
    "set_values",
    "submit_submission",
    "validate_submission",
    "values_digest",
]
