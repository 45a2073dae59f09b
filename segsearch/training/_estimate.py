"""How long one epoch of a configuration takes on this machine, from a few timed steps (no data read)."""

from __future__ import annotations

import time

import torch

from ..components import build_loss, build_model, build_optimizer
from ..config import DataConfig, TrainConfig
from ._device import make_runtime

# the parts of an epoch that a bare step leaves out: loading and augmenting, validation's metrics, the checkpoint
_EPOCH_OVERHEAD = 1.1


def epoch_seconds(cfg: TrainConfig, data: DataConfig, n_train: int, n_val: int, steps: int = 2) -> float:
    """Seconds for one training epoch over ``n_train`` images plus validation over ``n_val``, timed on
    random batches of up to 8 images scaled to the configured batch size (the first step, a warm-up,
    is not counted)."""
    rt = make_runtime(cfg.device, cfg.amp, cfg.channels_last)
    model = build_model(cfg.architecture, cfg.encoder, None, cfg.encoder_depth, data.in_channels, data.num_classes,
                        cfg.architecture_params).to(rt.device)
    if rt.channels_last:  # as the training loop runs it (CUDA only): the layout changes the kernels timed
        model = model.to(memory_format=torch.channels_last)
    loss_fn = build_loss(cfg.loss, dict(cfg.loss_params), data.mode, data.num_classes, data.ignore_index,
                         [1.0] * data.num_classes).to(rt.device)
    opt = build_optimizer(cfg.optimizer, model.parameters(), cfg.lr, cfg.weight_decay, dict(cfg.optimizer_params))

    bs = min(cfg.batch_size, max(n_train, 1), 8)  # small batches cost more per image: time the real one
    h, w = data.size_hw
    x = torch.rand(bs, data.in_channels, h, w, device=rt.device)
    if rt.channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    shape = (bs, h, w) if data.mode == "multiclass" else (bs, data.num_classes, h, w)
    y = torch.randint(0, max(2, data.num_classes) if data.mode == "multiclass" else 2, shape, device=rt.device)
    model.train()
    took = []
    for _ in range(steps + 1):
        t0 = time.perf_counter()
        with rt.autocast():
            loss = loss_fn(model(x).float(), y)  # as the training loop does
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if rt.is_cuda:
            torch.cuda.synchronize()
        took.append(time.perf_counter() - t0)
    per_image = min(took[1:]) / bs  # the fastest step: the others paid for allocator warm-up or a busy core
    # a forward pass is about a third of a training step
    return _EPOCH_OVERHEAD * per_image * (max(n_train, 1) + max(n_val, 1) / 3)
