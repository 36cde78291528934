#!/usr/bin/python3
"""PyTorch peer for `attnvision bench --vs-torch`: times the same workloads with the same thread count.

Usage: /usr/bin/python3 bench/torch/bench.py <name> --threads N --batch B --size S --iters K [--model NAME]
Prints one JSON object: {"name", "ms", "peakRssMB", ...}.
Workloads: gemm (N x N x N float32 matmul), train-step (forward + backward + SGD-momentum step),
infer (eval forward, no grad). Models: torchvision resnet50 / swin_t (same architectures as
attnvision's resnet50 / swin_tiny_patch4_window7_224), or a tiny CNN matching attnvision's tiny_cnn.
"""
import argparse
import json
import resource
import time

import torch
import torch.nn.functional as F
import torchvision


class TinyCNN(torch.nn.Module):
    def __init__(self, cin, classes, width=16):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(cin, width, 3, padding=1, bias=False)
        self.bn1 = torch.nn.BatchNorm2d(width)
        self.conv2 = torch.nn.Conv2d(width, 2 * width, 3, padding=1, stride=2, bias=False)
        self.bn2 = torch.nn.BatchNorm2d(2 * width)
        self.head = torch.nn.Linear(2 * width, classes)

    def forward(self, x):
        y = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        y = F.relu(self.bn2(self.conv2(y)))
        return self.head(y.mean((2, 3)))


def make_model(name, classes, channels):
    if name == 'resnet50':
        return torchvision.models.resnet50(num_classes=classes)
    if name == 'swin_tiny_patch4_window7_224':
        return torchvision.models.swin_t(num_classes=classes)
    if name == 'tiny_cnn':
        return TinyCNN(channels, classes)
    raise SystemExit(f'bench.py: no PyTorch peer for model {name}')


def timeit(fn, warmup, iters):
    for _ in range(warmup):
        fn()
    t0 = time.perf_counter()
    for _ in range(iters):
        fn()
    return (time.perf_counter() - t0) / iters * 1000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('name')
    ap.add_argument('--threads', type=int, required=True)
    ap.add_argument('--batch', type=int, default=8)
    ap.add_argument('--size', type=int, default=224)
    ap.add_argument('--channels', type=int, default=3)
    ap.add_argument('--classes', type=int, default=1000)
    ap.add_argument('--iters', type=int, default=5)
    ap.add_argument('--warmup', type=int, default=2)
    ap.add_argument('--model', default='resnet50')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    out = {'name': a.name, 'torch': torch.__version__, 'threads': a.threads}
    if a.name == 'gemm':
        n = a.size
        x, y = torch.randn(n, n), torch.randn(n, n)
        ms = timeit(lambda: torch.mm(x, y), a.warmup, a.iters)
        out.update(ms=ms, gflops=2 * n ** 3 / (ms / 1000) / 1e9)
    else:
        model = make_model(a.model, a.classes, a.channels)
        x = torch.randn(a.batch, a.channels, a.size, a.size)
        if a.name == 'train-step':
            y = torch.randint(0, a.classes, (a.batch,))
            opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
            model.train()

            def step():
                opt.zero_grad(set_to_none=True)
                loss = F.cross_entropy(model(x), y)
                loss.backward()
                opt.step()
            ms = timeit(step, a.warmup, a.iters)
        elif a.name == 'infer':
            model.eval()

            def fwd():
                with torch.no_grad():
                    model(x)
            ms = timeit(fwd, a.warmup, a.iters)
        else:
            raise SystemExit(f'bench.py: unknown workload {a.name}')
        out.update(ms=ms, imagesPerSec=a.batch / (ms / 1000))
    out['peakRssMB'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


if __name__ == '__main__':
    main()
