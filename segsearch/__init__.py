"""segsearch: find the best semantic-segmentation model for a dataset."""

import os

__version__ = "0.1.0"

# albumentations asks pypi.org for its latest version on every import (a 2 s timeout, a warning on offline
# nodes): every worker and data loader would; a user's own setting wins
os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")


def load_model(path, **kwargs):
    """Load a model folder written by ``segsearch finalize`` (imports torch lazily); ``combine``, ``device``
    and ``tta`` as in ``segsearch.final.load_model``."""
    from .final import load_model as _load

    return _load(path, **kwargs)


__all__ = ["__version__", "load_model"]
