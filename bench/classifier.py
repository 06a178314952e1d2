"""Classifier speed on CPU: images/s of each EfficientNet-Lite at 224 px, batch 1 and 8,
channels-last memory format versus torch's default (contiguous NCHW), medians of repeated runs.

Also the load time of each model (first load in this process, not cached) and the
mean gradient pass (forward + backward to the input, as DeepDream runs it) at batch 1.

Run:  nice -n 10 .venv/bin/python bench/classifier.py [--threads 2] [--repeats 11]
Prints one JSON object; ``speedup_channels_last`` is images/s channels-last / images/s default.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time


def _median_rates(fns: dict, *, batch: int, repeats: int, warmup: int = 3) -> dict[str, float]:
    """Images/s of each function; runs are interleaved so load drift on a shared machine hits all alike."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeats):
        for key, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[key].append(time.perf_counter() - t0)
    return {k: batch / statistics.median(v) for k, v in times.items()}


def run(*, threads: int = 2, repeats: int = 11, size: int = 224) -> dict:
    import torch

    from latentstudio.zoo import load_classifier
    from latentstudio.zoo.classifier import _LITE

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    out: dict = {"threads": threads, "size": size, "repeats": repeats, "torch": torch.__version__,
                 "cpus": os.cpu_count(), "load_average_before": round(os.getloadavg()[0], 2), "models": {}}
    for name in _LITE:
        entry: dict = {}
        t0 = time.perf_counter()
        load_classifier(name, channels_last=False)
        entry["load_s"] = round(time.perf_counter() - t0, 3)
        models = {"default": load_classifier(name, channels_last=False),
                  "channels_last": load_classifier(name, channels_last=True)}
        for batch in (1, 8):
            x = torch.rand(batch, 3, size, size)
            def forward(model, x=x):
                with torch.inference_mode():
                    model(x)
            rates = _median_rates({fmt: (lambda m=m: forward(m)) for fmt, m in models.items()},
                                  batch=batch, repeats=repeats)
            entry[f"batch{batch}"] = {
                "images_per_s_default": round(rates["default"], 2),
                "images_per_s_channels_last": round(rates["channels_last"], 2),
                "speedup_channels_last": round(rates["channels_last"] / rates["default"], 3),
            }
        x = torch.rand(1, 3, size, size)

        def grad_pass(model):
            xi = x.clone().requires_grad_(True)
            model(xi).logsumexp(1).sum().backward()
        grads = _median_rates({fmt: (lambda m=m: grad_pass(m)) for fmt, m in models.items()},
                              batch=1, repeats=repeats)
        entry["grad_batch1"] = {
            "images_per_s_default": round(grads["default"], 2),
            "images_per_s_channels_last": round(grads["channels_last"], 2),
            "speedup_channels_last": round(grads["channels_last"] / grads["default"], 3),
        }
        out["models"][name] = entry
    # a load average above the core count means other processes shared the CPUs: absolute rates are
    # then low and noisy (and worse with threads > 1); the interleaved ratios stay meaningful
    out["load_average_after"] = round(os.getloadavg()[0], 2)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=11)
    parser.add_argument("--size", type=int, default=224)
    args = parser.parse_args(argv)
    print(json.dumps(run(threads=args.threads, repeats=args.repeats, size=args.size), indent=2))


if __name__ == "__main__":
    main()
