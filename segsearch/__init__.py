"""segsearch: find the best semantic-segmentation model for a dataset."""

__version__ = "0.1.0"


def load_model(path, **kwargs):
    """Load a model folder written by ``segsearch finalize`` (imports torch lazily); ``combine``, ``device``
    and ``tta`` as in ``segsearch.final.load_model``."""
    from .final import load_model as _load

    return _load(path, **kwargs)


__all__ = ["__version__", "load_model"]
