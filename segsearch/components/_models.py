"""smp models by name, with the checks smp leaves to run time done up front,
and pretrained weights that fail fast instead of hanging on a download."""

from __future__ import annotations

import os
from typing import Any

import torch

from ..config._registry import did_you_mean
from ..errors import WeightsUnavailable


def encoder_names() -> list[str]:
    import segmentation_models_pytorch as smp

    return sorted(smp.encoders.get_encoder_names())


def check_encoder(encoder: str, weights: str | None) -> None:
    """Raise ValueError naming the valid choices if the encoder or its weights don't exist."""
    import segmentation_models_pytorch as smp

    if encoder.startswith("tu-"):
        import timm

        if not timm.list_models(encoder[3:].split(".")[0]):
            raise ValueError(f"unknown timm encoder {encoder!r} (see timm.list_models())")
        return
    names = encoder_names()
    if encoder not in names:
        raise ValueError(
            f"unknown encoder {encoder!r}{did_you_mean(encoder, names)}; "
            f"valid: {', '.join(names[:25])}, ... ({len(names)} smp encoders, or 'tu-<timm model>')"
        )
    if weights is not None:
        available = list(smp.encoders.encoders[encoder]["pretrained_settings"])
        if weights not in available:
            raise ValueError(
                f"encoder {encoder!r} has no weights {weights!r}; available: {', '.join(available) or 'none'} or null"
            )


def check_architecture(arch: str, encoder: str, depth: int, image_hw: tuple[int, int], classes: int,
                       in_channels: int, params: dict[str, Any]) -> None:
    """Build the model on the meta device (no memory, no download) and check the input size."""
    import segmentation_models_pytorch as smp

    least = _MIN_SIZE.get(arch.lower(), 0)
    if min(image_hw) < least:
        raise ValueError(f"architecture {arch!r} needs images of at least {least}x{least} "
                         f"(its pyramid pooling shrinks smaller ones to nothing); image size is "
                         f"{image_hw[0]}x{image_hw[1]}")

    try:
        with torch.device("meta"):
            model = smp.create_model(arch, encoder_name=encoder, encoder_weights=None, encoder_depth=depth,
                                     in_channels=in_channels, classes=classes, **_full_size(arch, depth, params))
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"architecture {arch!r} cannot use encoder {encoder!r}: {exc}") from None
    except RuntimeError:
        return  # some encoders can't be traced on the meta device; the trial will tell
    stride = _output_stride(model, depth)
    h, w = image_hw
    if h % stride or w % stride:
        raise ValueError(
            f"image size {h}x{w} is not divisible by {stride}, which {arch} with {encoder} "
            f"(depth {depth}) needs; use e.g. {max(stride, h // stride * stride)}"
        )


_MIN_SIZE = {"pan": 128}  # smp's PAN fails below this at its default output stride (measured: 96 fails, 128 works)


def _output_stride(model: torch.nn.Module, depth: int) -> int:
    enc = getattr(model, "encoder", None)
    stride = getattr(enc, "output_stride", None) or 2**depth
    if getattr(model, "requires_divisible_input_shape", True) is False:
        return 1
    return int(stride)


def ensure_weights(encoder: str, weights: str | None, timeout: float = 10.0) -> None:
    """Make sure pretrained weights are in the local cache, downloading them once with a short timeout."""
    if weights is None or encoder.startswith("tu-"):
        return
    import segmentation_models_pytorch as smp
    from huggingface_hub import hf_hub_download, try_to_load_from_cache

    settings = smp.encoders.encoders[encoder]["pretrained_settings"][weights]
    repo, rev = settings["repo_id"], settings.get("revision")
    if isinstance(try_to_load_from_cache(repo, "model.safetensors", revision=rev), str):
        return
    os.environ.setdefault("HF_HUB_ETAG_TIMEOUT", str(int(timeout)))
    os.environ.setdefault("HF_HUB_DOWNLOAD_TIMEOUT", str(int(timeout)))
    try:
        hf_hub_download(repo, filename="config.json", revision=rev)
        hf_hub_download(repo, filename="model.safetensors", revision=rev)
    except Exception as exc:
        raise WeightsUnavailable(
            f"encoder weights {weights!r} for {encoder!r} are not cached and could not be downloaded "
            f"({type(exc).__name__}). Either set encoder_weights: null, or on a machine with network run "
            f"`huggingface-cli download {repo}` and copy its cache (~/.cache/huggingface, or set HF_HOME) here."
        ) from None


def build_model(arch: str, encoder: str, weights: str | None, depth: int, in_channels: int, classes: int,
                params: dict[str, Any]) -> torch.nn.Module:
    import segmentation_models_pytorch as smp

    ensure_weights(encoder, weights)
    return smp.create_model(arch, encoder_name=encoder, encoder_weights=weights, encoder_depth=depth,
                            in_channels=in_channels, classes=classes, **_full_size(arch, depth, params))


def _full_size(arch: str, depth: int, params: dict[str, Any]) -> dict[str, Any]:
    """smp's PSPNet upsamples by 8, right only for its default depth 3: at depth 5 its masks came out
    at a quarter of the input size. Upsample by the encoder's stride unless the YAML says otherwise."""
    if arch.lower() == "pspnet" and "upsampling" not in params:
        return {**params, "upsampling": 2**depth}
    return params


def preprocessing(encoder: str, weights: str | None) -> dict[str, Any]:
    """Mean/std the encoder was trained with (ImageNet's when it has no weights of its own)."""
    imagenet = {"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225], "input_range": [0, 1]}
    if weights is None or encoder.startswith("tu-"):
        return imagenet
    import segmentation_models_pytorch as smp

    try:
        p = smp.encoders.get_preprocessing_params(encoder, weights)
        return {"mean": list(p["mean"]), "std": list(p["std"]), "input_range": list(p.get("input_range", [0, 1]))}
    except Exception:
        return imagenet
