"""PyTorch side of bench/train.ts: one training epoch and batch-1,024 inference of the
GeoAnomaly GK-DCN / CNN architecture (identical to main/models/architectures.ts), on the CPU.

Run by bench/train.ts with /usr/bin/python3 (Debian python3-torch 1.13, python3-torchvision):
    /usr/bin/python3 bench/train-torch.py --model gk-dcn --threads 2 --patches 4096 --batch 64
Prints one JSON object on stdout.
"""
import argparse
import json
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from torchvision.ops import DeformConv2d


class DeformBlock(nn.Module):
    """DCNv2: a zero-initialised 3x3 conv gives 2K^2 offsets + K^2 mask logits (sigmoid)."""

    def __init__(self, cin, cout, k=3):
        super().__init__()
        self.k = k
        self.offset_mask = nn.Conv2d(cin, 3 * k * k, k, padding=k // 2)
        nn.init.zeros_(self.offset_mask.weight)
        nn.init.zeros_(self.offset_mask.bias)
        self.dcn = DeformConv2d(cin, cout, k, padding=k // 2, bias=True)

    def forward(self, x):
        om = self.offset_mask(x)
        kk = self.k * self.k
        offset = om[:, : 2 * kk]
        mask = torch.sigmoid(om[:, 2 * kk:])
        return self.dcn(x, offset, mask)


class Net(nn.Module):
    def __init__(self, channels, deformable, stem=64, stages=(64, 128), dense=64, dropout=0.5):
        super().__init__()
        self.stem = nn.Conv2d(channels, stem, 3, padding=1)
        self.bn0 = nn.BatchNorm2d(stem)
        self.stages = nn.ModuleList()
        self.bns = nn.ModuleList()
        cin = stem
        for cout in stages:
            self.stages.append(DeformBlock(cin, cout) if deformable else nn.Conv2d(cin, cout, 3, padding=1))
            self.bns.append(nn.BatchNorm2d(cout))
            cin = cout
        self.fc1 = nn.Linear(cin, dense)
        self.drop = nn.Dropout(dropout)
        self.fc2 = nn.Linear(dense, 2)

    def forward(self, x):  # x: N,H,W,C as in the TypeScript code
        x = x.permute(0, 3, 1, 2)
        x = F.relu(self.bn0(self.stem(x)))
        for i, (layer, bn) in enumerate(zip(self.stages, self.bns)):
            x = F.relu(bn(layer(x)))
            if i == 0:
                x = F.max_pool2d(x, 2, 2)
        x = x.mean(dim=(2, 3))
        x = self.drop(F.relu(self.fc1(x)))
        return self.fc2(x)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="gk-dcn", choices=["cnn", "dcn", "gk-cnn", "gk-dcn"])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--patches", type=int, default=4096)
    ap.add_argument("--size", type=int, default=9)
    ap.add_argument("--channels", type=int, default=39)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--infer-windows", type=int, default=8192)
    ap.add_argument("--infer-batch", type=int, default=1024)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    deformable = a.model in ("dcn", "gk-dcn")
    gk = a.model.startswith("gk-")
    x = torch.randn(a.patches, a.size, a.size, a.channels)
    y = torch.randint(0, 2, (a.patches,))
    w = torch.rand(a.patches, 1)
    net = Net(a.channels, deformable)
    geo_a = nn.Parameter(torch.full((1,), 0.1))
    geo_b = nn.Parameter(torch.zeros(()))
    params = list(net.parameters()) + ([geo_a, geo_b] if gk else [])
    opt = torch.optim.Adam(params, lr=1e-3, weight_decay=1e-4)

    def step(idx):
        opt.zero_grad()
        logits = net(x[idx])
        loss = F.cross_entropy(logits, y[idx])
        if gk:
            p = torch.softmax(logits, dim=1)[:, 1]
            g = torch.sigmoid(w[idx] @ geo_a.view(-1, 1) + geo_b).view(-1)
            loss = loss + 1.0 * ((p - g) ** 2).mean()
        loss.backward()
        opt.step()
        return loss.item()

    net.train()
    step(torch.arange(a.batch))  # warm-up step, not timed (allocations, kernel selection)
    order = torch.randperm(a.patches)
    t0 = time.perf_counter()
    for s in range(0, a.patches, a.batch):
        step(order[s:s + a.batch])
    epoch_s = time.perf_counter() - t0

    net.eval()
    xi = torch.randn(a.infer_windows, a.size, a.size, a.channels)
    with torch.no_grad():
        net(xi[: a.infer_batch])  # warm-up
        t0 = time.perf_counter()
        for s in range(0, a.infer_windows, a.infer_batch):
            net(xi[s:s + a.infer_batch])
        infer_s = time.perf_counter() - t0

    print(json.dumps({
        "model": a.model,
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "threads": torch.get_num_threads(),
        "epochSeconds": epoch_s,
        "inferenceWindowsPerSecond": a.infer_windows / infer_s,
    }))


if __name__ == "__main__":
    main()
