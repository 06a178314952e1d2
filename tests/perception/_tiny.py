"""Tiny seeded classifiers standing in for the zoo in fast perception tests."""
import torch
from torch import nn


def tiny_classifier(seed: int, *, input_size: int = 32, classes: int = 10) -> nn.Module:
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.ReLU(), nn.Conv2d(8, 16, 3, stride=2, padding=1),
                        nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, classes)).eval()
    with torch.no_grad():
        net[-1].weight.mul_(30.0)        # a confident classifier, so drawings matter
    net.name = f"tiny{seed}"
    net.input_size = input_size
    net.labels = [f"class{i}" for i in range(classes)]
    return net
