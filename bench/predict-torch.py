"""PyTorch side of bench/predict.ts: full-map prediction windows/s of the GeoAnomaly CNN / DCN
architecture (the Net of bench/train-torch.py, identical to main/models/architectures.ts, with
torchvision's DeformConv2d) on the CPU, random-initialised (timing only), batch 1,024.

Run by bench/predict.ts with /usr/bin/python3 (Debian python3-torch 1.13, torchvision 0.14):
    /usr/bin/python3 bench/predict-torch.py --stack ../shared/data/tianshan-gkdcn/elements --model cnn --threads 2
Reads the single-band GeoTIFFs of the folder (GDAL), log10 + standardise per band, reflect-pads
by k//2 and slides the k×k window over every cell (windows built per batch, never all at once),
exactly the work of our predictMap. Timed: window building + forward, not the file reading.
Prints one JSON object on stdout.
"""
import argparse
import importlib.util
import json
import os
import resource
import time

import numpy as np
import torch
from osgeo import gdal

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("train_torch", os.path.join(HERE, "train-torch.py"))
train_torch = importlib.util.module_from_spec(spec)
spec.loader.exec_module(train_torch)


def read_stack(folder):
    files = sorted(f for f in os.listdir(folder) if f.lower().endswith((".tif", ".tiff")))
    bands = []
    for f in files:
        ds = gdal.Open(os.path.join(folder, f))
        b = ds.GetRasterBand(1)
        a = b.ReadAsArray().astype(np.float64)
        nd = b.GetNoDataValue()
        if nd is not None:
            a[a == nd] = np.nan
        bands.append(a)
    return np.stack(bands, axis=-1)  # H, W, C


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--stack", required=True)
    ap.add_argument("--model", default="cnn", choices=["cnn", "dcn"])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--size", type=int, default=9)
    ap.add_argument("--batch", type=int, default=1024)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)

    x = read_stack(a.stack)
    H, W, C = x.shape
    pos = np.where(x > 0, x, np.nan)
    floor = np.nanmin(pos, axis=(0, 1)) / 2
    x = np.log10(np.where(np.isnan(x), np.nan, np.maximum(x, floor)))
    x = (x - np.nanmean(x, axis=(0, 1))) / np.nanstd(x, axis=(0, 1))
    x = np.nan_to_num(x, nan=0.0).astype(np.float32)
    h = a.size // 2
    padded = torch.from_numpy(np.pad(x, ((h, h), (h, h), (0, 0)), mode="reflect"))  # Hp, Wp, C

    net = train_torch.Net(C, a.model == "dcn").eval()
    rows = torch.arange(H).repeat_interleave(W)
    cols = torch.arange(W).repeat(H)
    dy = torch.arange(a.size)
    n = H * W
    out = torch.empty(n)

    def run(limit):
        for s in range(0, limit, a.batch):
            e = min(limit, s + a.batch)
            r = rows[s:e, None, None] + dy[None, :, None]
            c = cols[s:e, None, None] + dy[None, None, :]
            win = padded[r, c]  # B, k, k, C (a gather per batch: windows never all materialised)
            out[s:e] = torch.softmax(net(win), dim=1)[:, 1]

    with torch.no_grad():
        run(min(n, a.batch))  # warm-up
        c0 = time.process_time()
        t0 = time.perf_counter()
        run(n)
        secs = time.perf_counter() - t0
        cpu = time.process_time() - c0
    print(json.dumps({
        "model": a.model,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "grid": [H, W, C],
        "windows": n,
        "seconds": secs,
        "cpuSeconds": cpu,
        "windowsPerSecond": n / secs,
        "windowsPerCpuSecond": n / cpu,
        "maxRssMB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


if __name__ == "__main__":
    main()
