"""Every architecture of the shipped space predicts a mask of the input's size (smp's PSPNet did not at depth 5)."""

import pytest
import torch

from segsearch.components import build_model
from segsearch.config import load_config

ARCHS = load_config("search_spaces/arch_loss.yaml").search["architecture"].choices


@pytest.mark.parametrize("arch", ARCHS)
def test_output_has_the_input_size(arch):
    model = build_model(arch, "resnet18", None, 5, 3, 2, {}).eval()
    with torch.inference_mode():
        out = model(torch.rand(2, 3, 128, 128))
    assert out.shape == (2, 2, 128, 128)


def test_an_image_size_an_architecture_cannot_take_is_named_before_training():
    from segsearch.components import check_architecture

    with pytest.raises(ValueError, match="'pan' needs images of at least 128x128.*96x96"):
        check_architecture("pan", "resnet18", 5, (96, 96), 2, 3, {})
    check_architecture("pan", "resnet18", 5, (128, 128), 2, 3, {})
