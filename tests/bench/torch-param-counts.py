#!/usr/bin/python3
"""Parameter counts of the preset architectures built in PyTorch, for
tests/engine/test-spec.c (/engine/spec/param-counts-match-pytorch)."""
import torch.nn as nn

def blk(i, o, k=3):
    return [nn.Conv2d(i, o, k, bias=False), nn.BatchNorm2d(o), nn.ReLU(), nn.Dropout(0.05)]

models = {
    "tiny-cnn": nn.Sequential(*blk(1, 8), *blk(8, 16), nn.MaxPool2d(2), nn.Conv2d(16, 8, 1, bias=False),
                              *blk(8, 16), *blk(16, 16), *blk(16, 16), nn.AdaptiveAvgPool2d(1),
                              nn.Flatten(), nn.Linear(16, 10)),
    "fmnist-ann": nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.BatchNorm1d(256), nn.ReLU(),
                                nn.Dropout(0.3), nn.Linear(256, 128), nn.BatchNorm1d(128), nn.ReLU(),
                                nn.Dropout(0.3), nn.Linear(128, 10)),
    "fmnist-cnn": nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
                                nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
                                nn.Flatten(), nn.Linear(32 * 7 * 7, 128), nn.ReLU(), nn.Dropout(0.3),
                                nn.Linear(128, 10)),
    "ae-pretrain": nn.Sequential(nn.Conv2d(1, 16, 3, 2, 1), nn.ReLU(), nn.Conv2d(16, 32, 3, 2, 1), nn.ReLU(),
                                 nn.Flatten(), nn.Linear(32 * 49, 32), nn.Linear(32, 32 * 49), nn.ReLU(),
                                 nn.Unflatten(1, (32, 7, 7)), nn.ConvTranspose2d(32, 16, 3, 2, 1, 1), nn.ReLU(),
                                 nn.ConvTranspose2d(16, 1, 3, 2, 1, 1), nn.Sigmoid()),
}
for name, m in models.items():
    print(name, sum(p.numel() for p in m.parameters()))
