"""Errors raised by the research core.

They inherit stdlib bases so callers can catch them generically (`except RuntimeError`).
"""

from __future__ import annotations


class TrainingError(RuntimeError):
    """Training diverged (NaN/inf loss or boxes); nothing from the run may be published."""
