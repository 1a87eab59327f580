"""PyTorch side of the attack check (run by attack_check.ts with /usr/bin/python3).

The seed-cnn (the Keras CIFAR-10 tutorial network) in PyTorch with the trained tfjs weights (tfjs layouts: conv
kernels HWIO, dense [in, out]), the pixel normalization inside the model, and the attacks as the papers and
torchattacks write them, in pixel space ([0, 1]) on the cross-entropy, float32:
  fgsm: x + eps * sign(g), clamped to [0, 1]
  pgd:  from x (randomStart false) or x + U(-eps, eps) clamped to [0, 1] (torch.manual_seed(seed), one draw per batch
        in order), `steps` times x <- clamp(min(max(x + alpha * sign(g), x0 - eps), x0 + eps), 0, 1); the last iterate
Robust accuracy: the share of images classified correctly both clean and attacked.

  /usr/bin/python3 benchmarks/attack_check.py --dir <dir with weights.json, images.u8, labels.json> --eps 0.0313725
      --batch 250 --seed 0 --mean 0,0,0 --std 1,1,1 [--threads <n>] --spec '{"attack": "pgd", "steps": 20, "alpha": 0.00392, "randomStart": false}'
Prints one JSON line: {"accuracy", "clean", "seconds", "images", "threads", "torch_version"}.
"""
import argparse
import json
import os
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

from serve_pytorch import load_tfjs_weights  # the same tfjs -> PyTorch weight layout (this folder is on sys.path)


class SeedCnn(nn.Module):
    """pixels [N, 3, 32, 32] in [0, 1] -> logits [N, 10]."""

    def __init__(self, mean, std):
        super().__init__()
        self.conv1, self.conv2, self.conv3 = nn.Conv2d(3, 32, 3), nn.Conv2d(32, 64, 3), nn.Conv2d(64, 64, 3)
        self.dense1, self.logits = nn.Linear(64 * 4 * 4, 64), nn.Linear(64, 10)
        self.register_buffer('mean', torch.tensor(mean).view(1, 3, 1, 1))
        self.register_buffer('std', torch.tensor(std).view(1, 3, 1, 1))

    def forward(self, pixels):
        x = (pixels - self.mean) / self.std
        x = F.max_pool2d(torch.relu(self.conv1(x)), 2)
        x = F.max_pool2d(torch.relu(self.conv2(x)), 2)
        x = torch.relu(self.conv3(x))
        x = x.permute(0, 2, 3, 1).flatten(1)  # Keras flattens NHWC
        return self.logits(torch.relu(self.dense1(x)))


def gradient(net, x, y):
    x = x.clone().requires_grad_(True)
    loss = F.cross_entropy(net(x), y, reduction='sum')
    (g,) = torch.autograd.grad(loss, x)
    return g


def attack(net, x0, y, spec, eps):
    if spec['attack'] == 'fgsm':
        return (x0 + eps * gradient(net, x0, y).sign()).clamp(0, 1)
    x = x0.clone()
    if spec.get('randomStart', True):
        x = (x0 + torch.empty_like(x0).uniform_(-eps, eps)).clamp(0, 1)
    for _ in range(spec['steps']):
        x = x + spec['alpha'] * gradient(net, x, y).sign()
        x = torch.min(torch.max(x, x0 - eps), x0 + eps).clamp(0, 1)
    return x.detach()


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--dir', required=True)
    p.add_argument('--eps', type=float, required=True)
    p.add_argument('--batch', type=int, default=250)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--mean', default='0,0,0')
    p.add_argument('--std', default='1,1,1')
    p.add_argument('--spec', required=True)
    p.add_argument('--threads', type=int, default=os.cpu_count())
    a = p.parse_args()
    torch.set_num_threads(a.threads)  # Debian's torch starts with one thread; Insight's libtorch uses every core
    spec = json.loads(a.spec)
    net = SeedCnn([float(v) for v in a.mean.split(',')], [float(v) for v in a.std.split(',')])
    load_tfjs_weights(net, os.path.join(a.dir, 'weights.json'))
    net.eval()
    with open(os.path.join(a.dir, 'labels.json')) as f:
        labels = torch.tensor(json.load(f))
    raw = open(os.path.join(a.dir, 'images.u8'), 'rb').read()
    images = torch.frombuffer(bytearray(raw), dtype=torch.uint8).reshape(-1, 32, 32, 3).permute(0, 3, 1, 2).float() / 255
    torch.manual_seed(a.seed)
    clean = robust = 0
    started = time.perf_counter()
    for start in range(0, len(labels), a.batch):
        x, y = images[start:start + a.batch].contiguous(), labels[start:start + a.batch]
        with torch.no_grad():
            ok = net(x).argmax(1) == y
        adversarial = attack(net, x, y, spec, a.eps)
        with torch.no_grad():
            ok_adv = net(adversarial).argmax(1) == y
        clean += int(ok.sum())
        robust += int((ok & ok_adv).sum())
    seconds = time.perf_counter() - started
    n = len(labels)
    print(json.dumps({'accuracy': robust / n, 'clean': clean / n, 'seconds': seconds, 'images': n,
                      'threads': torch.get_num_threads(), 'torch_version': torch.__version__}))


if __name__ == '__main__':
    main()
