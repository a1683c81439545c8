"""Where the workspace's read-only reference folder (`shared/`) is, for tests and benchmarks.

It sits next to the checkout in development; a CI clone may live deeper, so
every ancestor of this file is tried. ``KECHUANG_SHARED_DIR`` overrides.
Nothing at run time depends on it.
"""

from __future__ import annotations

import os
from pathlib import Path


def shared_folder() -> Path | None:
    override = os.environ.get("KECHUANG_SHARED_DIR")
    if override:
        return Path(override)
    for ancestor in Path(__file__).resolve().parents:
        candidate = ancestor / "shared"
        if (candidate / "data").is_dir():
            return candidate
    return None
