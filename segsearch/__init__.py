"""segsearch: find the best semantic-segmentation model for a dataset."""

__version__ = "0.1.0"


def load_model(path):  # noqa: ANN001, ANN201 - thin lazy front, see segsearch.final
    """Load a model folder written by ``segsearch finalize`` (imports torch lazily)."""
    from .final import load_model as _load

    return _load(path)


__all__ = ["__version__", "load_model"]
