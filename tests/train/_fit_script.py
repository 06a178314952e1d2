"""A tiny regression job for the train tests; runnable as a script (under torchrun too).

    python _fit_script.py CHECKPOINT_DIR OUT_JSON [--data dataset|callable] [--steps N]
"""

from __future__ import annotations

import argparse
import json
import os

import torch
from torch.utils.data import Dataset

from latentstudio.train import TrainConfig, fit
from latentstudio.zoo.checkpoint import register_model

W_TRUE = torch.tensor([[1.5], [-2.0], [0.5], [3.0]])


@register_model("tests_train_tiny_mlp")
class TinyMLP(torch.nn.Module):
    def __init__(self, width: int = 32, dropout: float = 0.1):
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Linear(4, width), torch.nn.ReLU(), torch.nn.Dropout(dropout),
                                       torch.nn.Linear(width, 1))

    def forward(self, x):
        return self.net(x)


class Regression(Dataset):
    def __init__(self, n: int = 256):
        g = torch.Generator().manual_seed(123)
        self.x = torch.randn(n, 4, generator=g)
        self.y = self.x @ W_TRUE + 0.05 * torch.randn(n, 1, generator=g)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i], self.y[i]


def make_batch(step, generator):
    x = torch.randn(16, 4, generator=generator)
    return x, x @ W_TRUE


def loss_fn(model, batch):
    x, y = batch
    pred = model(x)
    return torch.nn.functional.mse_loss(pred, y), {"mae": (pred - y).abs().mean().item()}


def config(checkpoint_dir, *, steps: int = 40, **kw) -> TrainConfig:
    base = dict(steps=steps, batch_size=16, lr=0.02, seed=7, checkpoint_dir=checkpoint_dir, checkpoint_every=10,
                model_config={"width": 32, "dropout": 0.1}, grad_clip=1.0, scheduler="cosine", log_every=10)
    base.update(kw)
    return TrainConfig(**base)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("checkpoint_dir")
    ap.add_argument("out")
    ap.add_argument("--data", default="dataset", choices=["dataset", "callable"])
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--crash-at", type=int, default=0, help="raise in the loss of this (1-based) call")
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = TinyMLP(width=32, dropout=0.1)
    data = Regression() if args.data == "dataset" else make_batch
    calls = {"n": 0}

    def maybe_crash(model, batch):
        calls["n"] += 1
        if calls["n"] == args.crash_at:
            raise SystemExit(3)
        return loss_fn(model, batch)

    res = fit(model, data=data, loss_fn=maybe_crash, config=config(args.checkpoint_dir, steps=args.steps))
    if int(os.environ.get("RANK", "0")) == 0:
        with open(args.out, "w") as f:
            json.dump({"losses": res.losses, "metrics": res.metrics, "steps_done": res.steps_done,
                       "checkpoint": str(res.checkpoint), "world_size": res.world_size,
                       "resumed_from": res.resumed_from}, f)


if __name__ == "__main__":
    main()
