#!/usr/bin/env python3
"""PyTorch twin of aic-ml's `kws-dscnn` for a training-speed comparison on the CPU.

Same architecture as crates/aic-ml/src/models/kws.rs: stem conv (1 -> C, kernel 10x4,
stride SxS, "same" padding, no bias) + BN + ReLU, then B blocks of depthwise 3x3 + BN + ReLU
and pointwise 1x1 + BN + ReLU, global average pooling, linear head; AdamW; cross-entropy.
Inputs are random log-mel-shaped batches: only the speed is measured here.

    python3 scripts/torch_ref/kws_dscnn.py --threads 2 --steps 20 --json
"""
import argparse, json, time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dw = nn.Conv2d(c, c, 3, padding=1, groups=c, bias=False)
        self.dwn = nn.BatchNorm2d(c)
        self.pw = nn.Conv2d(c, c, 1, bias=False)
        self.pwn = nn.BatchNorm2d(c)

    def forward(self, x):
        x = F.relu(self.dwn(self.dw(x)))
        return F.relu(self.pwn(self.pw(x)))


class DsCnn(nn.Module):
    def __init__(self, c=64, blocks=4, stride=2, classes=10):
        super().__init__()
        self.stride = stride
        self.stem = nn.Conv2d(1, c, (10, 4), stride=stride, bias=False)
        self.stemn = nn.BatchNorm2d(c)
        self.blocks = nn.Sequential(*[Block(c) for _ in range(blocks)])
        self.head = nn.Linear(c, classes)

    def forward(self, x):  # x: [b, frames, mels]
        x = x.unsqueeze(1)
        # TensorFlow/burn "same" padding for the strided stem.
        def pads(n, k, s):
            out = -(-n // s)
            total = max((out - 1) * s + k - n, 0)
            return total // 2, total - total // 2
        ph = pads(x.shape[2], 10, self.stride)
        pw = pads(x.shape[3], 4, self.stride)
        x = F.pad(x, (pw[0], pw[1], ph[0], ph[1]))
        x = F.relu(self.stemn(self.stem(x)))
        x = self.blocks(x)
        return self.head(x.mean(dim=(2, 3)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--channels", type=int, default=64)
    ap.add_argument("--stride", type=int, default=2)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = DsCnn(a.channels, 4, a.stride)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
    x = torch.randn(a.batch, 101, 40)
    y = torch.randint(0, 10, (a.batch,))
    times = []
    for i in range(a.steps + 3):
        t = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        if i >= 3:
            times.append(time.perf_counter() - t)
    times.sort()
    med = times[len(times) // 2]
    out = {"framework": "pytorch", "version": torch.__version__, "threads": a.threads,
           "batch": a.batch, "channels": a.channels, "stride": a.stride,
           "median_step_s": med, "samples_per_s": a.batch / med}
    print(json.dumps(out) if a.json else out)


if __name__ == "__main__":
    main()
