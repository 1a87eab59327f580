"""PyTorch side of the reference-CNN benchmark (run by train_cnn.ts with /usr/bin/python3).

The Keras CIFAR-10 CNN in PyTorch: conv(32,3x3,relu) -> maxpool(2) -> conv(64) -> maxpool(2) -> conv(64) ->
flatten -> dense(64,relu) -> dense(10 logits); Adam(lr=1e-3, eps=1e-7 as Keras), cross-entropy from logits.
Prints one JSON line with training and inference images/s (median over epochs after one warm-up epoch).
"""
import argparse
import json
import statistics
import time

import torch
import torch.nn as nn


def model():
    return nn.Sequential(
        nn.Conv2d(3, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(64, 64, 3), nn.ReLU(),
        nn.Flatten(), nn.Linear(64 * 4 * 4, 64), nn.ReLU(), nn.Linear(64, 10))


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--threads', type=int, required=True)
    p.add_argument('--batch-size', type=int, required=True)
    p.add_argument('--images', type=int, required=True)
    p.add_argument('--epochs', type=int, default=3)
    p.add_argument('--channels-last', action='store_true')
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    fmt = torch.channels_last if a.channels_last else torch.contiguous_format
    x = torch.rand(a.images, 3, 32, 32).contiguous(memory_format=fmt)
    y = torch.randint(0, 10, (a.images,))
    net = model().to(memory_format=fmt)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()
    steps = a.images // a.batch_size

    def train_epoch():
        net.train()
        t = time.perf_counter()
        for i in range(steps):
            xb = x[i * a.batch_size:(i + 1) * a.batch_size]
            yb = y[i * a.batch_size:(i + 1) * a.batch_size]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(net(xb), yb)
            loss.backward()
            opt.step()
        return steps * a.batch_size / (time.perf_counter() - t)

    def infer_epoch():
        net.eval()
        t = time.perf_counter()
        with torch.inference_mode():
            for i in range(steps):
                net(x[i * a.batch_size:(i + 1) * a.batch_size])
        return steps * a.batch_size / (time.perf_counter() - t)

    train_epoch()
    train = statistics.median(train_epoch() for _ in range(a.epochs))
    infer_epoch()
    infer = statistics.median(infer_epoch() for _ in range(a.epochs))
    print(json.dumps({'torch_version': torch.__version__, 'train': train, 'infer': infer}))


if __name__ == '__main__':
    main()
