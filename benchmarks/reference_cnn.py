"""PyTorch side of the reference-CNN benchmark (run by train_cnn.ts and contention.ts with /usr/bin/python3).

The Keras CIFAR-10 CNN in PyTorch: conv(32,3x3,relu) -> maxpool(2) -> conv(64) -> maxpool(2) -> conv(64) ->
flatten -> dense(64,relu) -> dense(10 logits); Adam(lr=1e-3, eps=1e-7 as Keras), cross-entropy from logits.
With --model resnet, the zoo's resnet20 (packages/insight/src/models/resnet.ts) instead: conv3x3(16)-BN-ReLU, three
stages of 3 BasicBlocks (16, 32, 64 channels; 1x1 conv + BN shortcuts where the shape changes), global average pool,
linear; BatchNorm eps 1e-5 and momentum 0.1 (Keras's 0.9); the same Adam.
Prints one JSON line: training and inference images/s (median over epochs after one warm-up epoch), 'config'
(what ran: layout, precision, jit, threads, ATen's CPU capability in use, allocator, the environment variables that
steer it) and 'torch_version'.

Modes:
  --channels-last  model and images in channels_last (NHWC in memory) instead of contiguous NCHW.
  --bf16           torch.autocast('cpu', dtype=torch.bfloat16) around forward + loss (training; the weights and
                   Adam stay fp32) and around the forward pass (inference). Stops if the convolutions do not run in bf16.
  --jit            inference only ('train' is null): torch.jit.trace on one batch in eval mode, torch.jit.freeze,
                   then torch.jit.optimize_for_inference unless --no-optimize-for-inference; run in inference_mode.
  --addon-malloc-tuning  the same mallopt calls the tfjs addon makes at load (binding/addon.cc TuneMalloc), so both
                   sides get one allocator behaviour when no MALLOC_* variable is set.
"""
import argparse
import ctypes
import json
import os
import re
import statistics
import sys
import time

import torch
import torch.nn as nn

# The variables that change how either side runs; train_cnn.ts passes its own environment, so both see the same.
ENV_PREFIXES = ('MALLOC_', 'GLIBC_TUNABLES', 'ATEN_', 'OMP_', 'GOMP_', 'KMP_', 'DNNL_', 'ONEDNN_', 'MKL_', 'LD_PRELOAD')


def model():
    return nn.Sequential(
        nn.Conv2d(3, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(64, 64, 3), nn.ReLU(),
        nn.Flatten(), nn.Linear(64 * 4 * 4, 64), nn.ReLU(), nn.Linear(64, 10))


class BasicBlock(nn.Module):
    """conv3x3-BN-ReLU-conv3x3-BN plus the shortcut (1x1 conv + BN where the shape changes), then ReLU."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout, eps=1e-5, momentum=0.1)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout, eps=1e-5, momentum=0.1)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout, eps=1e-5, momentum=0.1))

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(y)) + self.shortcut(x))


def resnet20():
    layers = [nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16, eps=1e-5, momentum=0.1), nn.ReLU()]
    cin = 16
    for stage, width in enumerate((16, 32, 64)):
        for block in range(3):
            layers.append(BasicBlock(cin, width, 2 if stage > 0 and block == 0 else 1))
            cin = width
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10)]
    return nn.Sequential(*layers)


def fail(message):
    print(f'reference_cnn.py: {message}', file=sys.stderr)
    sys.exit(3)


def addon_malloc_tuning():
    """glibc mallopt as the addon does it: mmap threshold 32 MiB, trim threshold 2 GiB, top pad 512 MiB."""
    libc = ctypes.CDLL('libc.so.6')
    m_trim_threshold, m_top_pad, m_mmap_threshold = -1, -2, -3  # glibc malloc.h
    ok = all(libc.mallopt(param, value) == 1 for param, value in
             ((m_mmap_threshold, 32 << 20), (m_trim_threshold, 2**31 - 1), (m_top_pad, 512 << 20)))
    if not ok:
        fail('glibc refused mallopt (--addon-malloc-tuning)')
    return 'tuned as the addon does (mmap threshold 32 MiB, trim threshold 2 GiB, top pad 512 MiB)'


def cpu_capability():
    """ATen's CPU dispatch in use, from torch.__config__.show() ('CPU capability usage: AVX512')."""
    found = re.search(r'CPU capability usage: (\S+)', torch.__config__.show())
    return found.group(1) if found else 'unknown'


def check_bf16(net, xb):
    """Stops unless the first convolution's output is bf16 under autocast; says what it saw on stderr."""
    with torch.inference_mode(), torch.autocast('cpu', dtype=torch.bfloat16):
        dtype = net[0](xb[:2]).dtype  # the first convolution, in both models
    print(f'reference_cnn.py: bf16 autocast: first conv output dtype {dtype}', file=sys.stderr)
    if dtype != torch.bfloat16:
        fail(f'torch.autocast("cpu", dtype=torch.bfloat16) did not run the convolution in bf16. Received: dtype={dtype}.')


def jit_model(net, xb, optimize):
    """Traced on one batch in eval mode, frozen, and optimized for inference; stops with the reason if unsupported."""
    net.eval()
    steps = ['trace', 'freeze']
    try:
        with torch.no_grad():
            module = torch.jit.freeze(torch.jit.trace(net, xb))
            if optimize:
                if not hasattr(torch.jit, 'optimize_for_inference'):
                    fail(f'torch.jit.optimize_for_inference is missing in torch {torch.__version__}; '
                         'use --no-optimize-for-inference')
                module = torch.jit.optimize_for_inference(module)
                steps.append('optimize_for_inference')
    except Exception as error:  # the torch build's own message says which part is unsupported
        fail(f'torch.jit {"+".join(steps)} failed on torch {torch.__version__}: {error}')
    with torch.inference_mode():
        reference = net(xb)
        for _ in range(3):  # the profiling executor specializes the graph over the first runs
            out = module(xb)
    if not torch.allclose(out, reference, rtol=1e-3, atol=1e-4):
        fail(f'the jit module disagrees with the eager model. Received: max difference={(out - reference).abs().max():.3g}.')
    return module, '+'.join(steps)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--model', choices=('seed-cnn', 'resnet'), default='seed-cnn')
    p.add_argument('--threads', type=int, required=True)
    p.add_argument('--batch-size', type=int, required=True)
    p.add_argument('--images', type=int, required=True)
    p.add_argument('--epochs', type=int, default=3)
    p.add_argument('--channels-last', action='store_true')
    p.add_argument('--bf16', action='store_true')
    p.add_argument('--jit', action='store_true')
    p.add_argument('--no-optimize-for-inference', action='store_true')
    p.add_argument('--addon-malloc-tuning', action='store_true')
    a = p.parse_args()
    if a.jit and a.bf16:
        fail('--jit with --bf16 is not offered (tracing under CPU autocast needs jit autocast switched off in 1.13); '
             'run them as separate modes')
    malloc = addon_malloc_tuning() if a.addon_malloc_tuning else 'glibc (with the environment\'s MALLOC_* if any)'
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    fmt = torch.channels_last if a.channels_last else torch.contiguous_format
    x = torch.rand(a.images, 3, 32, 32).contiguous(memory_format=fmt)
    y = torch.randint(0, 10, (a.images,))
    net = (resnet20() if a.model == 'resnet' else model()).to(memory_format=fmt)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()
    steps = a.images // a.batch_size
    batch = [(x[i * a.batch_size:(i + 1) * a.batch_size], y[i * a.batch_size:(i + 1) * a.batch_size]) for i in range(steps)]
    autocast = (lambda: torch.autocast('cpu', dtype=torch.bfloat16)) if a.bf16 else (lambda: torch.autocast('cpu', enabled=False))
    if a.bf16:
        check_bf16(net, batch[0][0])

    def train_epoch():
        net.train()
        t = time.perf_counter()
        for xb, yb in batch:
            opt.zero_grad(set_to_none=True)
            with autocast():  # per step: autocast's cache of bf16 weight copies lives for one context
                loss = loss_fn(net(xb), yb)
            loss.backward()
            opt.step()
        return steps * a.batch_size / (time.perf_counter() - t)

    def infer_epoch(forward):
        t = time.perf_counter()
        with torch.inference_mode(), autocast():
            for xb, _ in batch:
                forward(xb)
        return steps * a.batch_size / (time.perf_counter() - t)

    train = None
    jit = None
    if a.jit:
        forward, jit = jit_model(net, batch[0][0], not a.no_optimize_for_inference)
    else:
        train_epoch()
        train = statistics.median(train_epoch() for _ in range(a.epochs))
        net.eval()
        forward = net
    infer_epoch(forward)
    infer = statistics.median(infer_epoch(forward) for _ in range(a.epochs))
    config = {
        'model': a.model,
        'layout': 'channels_last' if a.channels_last else 'NCHW',
        'precision': 'bf16 autocast' if a.bf16 else 'fp32',
        'jit': jit,
        'threads': torch.get_num_threads(),
        'cpu_capability': cpu_capability(),
        'malloc': malloc,
        'env': {k: v for k, v in sorted(os.environ.items()) if k.startswith(ENV_PREFIXES)},
    }
    print(json.dumps({'torch_version': torch.__version__, 'train': train, 'infer': infer, 'config': config}))


if __name__ == '__main__':
    main()
