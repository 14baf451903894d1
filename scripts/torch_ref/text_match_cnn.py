#!/usr/bin/env python3
"""PyTorch twin of aic-ml's `text-match-cnn` for a training-speed comparison on the CPU.

Same architecture as crates/aic-ml/src/models/textmatch.rs: embeddings [vocab, embed], one
width-3 convolution shared by question and answer (written, like the Rust model, as a linear
layer over the concatenated shifted windows), ReLU, max-pooling that masks padding, a bilinear
agreement q^T M a, four detached word-overlap features (IDF-weighted and plain share of the
question's words found in the answer, raw IDF overlap, answer length share), a hidden layer
and one logit; binary cross-entropy with logits; AdamW. Inputs are random id batches of the
Rust example's shapes (question 24, answer 40 tokens): only the speed is measured here.

    python3 scripts/torch_ref/text_match_cnn.py --threads 2 --steps 20 --json
"""
import argparse, json, time

import torch
import torch.nn as nn
import torch.nn.functional as F


class TextMatchCnn(nn.Module):
    def __init__(self, vocab=30000, embed=64, filters=64, hidden=64):
        super().__init__()
        self.embedding = nn.Parameter(torch.empty(vocab, embed).uniform_(-0.1, 0.1))
        self.conv = nn.Linear(3 * embed, filters)
        self.bilinear = nn.Parameter(torch.empty(filters, filters).uniform_(-0.03, 0.03))
        self.hidden = nn.Linear(2 * filters + 1 + 4, hidden)
        self.out = nn.Linear(hidden, 1)
        self.register_buffer("idf", torch.ones(vocab))

    def encode(self, ids):
        b, n = ids.shape
        emb = self.embedding[ids]                       # [b, n, e]
        padded = F.pad(emb, (0, 0, 1, 1))
        windows = torch.cat([padded[:, 0:n], padded[:, 1:n + 1], padded[:, 2:n + 2]], dim=2)
        h = F.relu(self.conv(windows))
        h = h + (ids == 0).float().unsqueeze(2) * -1e4
        return h.max(dim=1).values

    def overlap(self, q, a):
        with torch.no_grad():
            same = (q.unsqueeze(2) == a.unsqueeze(1)).float()
            matched = same.max(dim=2).values
            qmask = (q >= 2).float()
            idf = self.idf[q] * qmask
            hits = matched * qmask
            idf_hits = (hits * idf).sum(1, keepdim=True)
            f_idf = idf_hits / (idf.sum(1, keepdim=True) + 1e-6)
            f_plain = hits.sum(1, keepdim=True) / (qmask.sum(1, keepdim=True) + 1e-6)
            f_len = (a != 0).float().sum(1, keepdim=True) / a.shape[1]
            return torch.cat([f_idf, f_plain, idf_hits / 10.0, f_len], 1)

    def forward(self, q, a):
        feats = self.overlap(q, a)
        qe, ae = self.encode(q), self.encode(a)
        sim = ((qe @ self.bilinear) * ae).sum(1, keepdim=True)
        joined = torch.cat([qe, sim, ae, feats], 1)
        return self.out(F.relu(self.hidden(joined))).squeeze(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = TextMatchCnn()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-4)
    q = torch.randint(2, 30000, (a.batch, 24))
    ans = torch.randint(2, 30000, (a.batch, 40))
    y = (torch.arange(a.batch) % 2).float()
    times = []
    for i in range(a.steps + 3):
        t = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = F.binary_cross_entropy_with_logits(model(q, ans), y)
        loss.backward()
        opt.step()
        if i >= 3:
            times.append(time.perf_counter() - t)
    times.sort()
    med = times[len(times) // 2]
    out = {"framework": "pytorch", "version": torch.__version__, "threads": a.threads,
           "batch": a.batch, "model": "text-match-cnn",
           "median_step_s": med, "samples_per_s": a.batch / med}
    print(json.dumps(out) if a.json else out)


if __name__ == "__main__":
    main()
