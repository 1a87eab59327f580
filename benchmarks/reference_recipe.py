"""PyTorch running the reference recipe on the same data as `insight train` (run by reference_recipe.ts).

The Keras CIFAR-10 tutorial CNN, Adam(1e-3, eps=1e-7), cross-entropy from logits, batch 64, 10 epochs,
pixels scaled to [0,1], trained on the first 45,000 records of the CIFAR-10 training batches and validated on
the last 5,000 (the same split as Insight's default). Prints one JSON object per epoch and a summary line.
"""
import argparse
import io
import json
import tarfile
import time

import numpy as np
import torch
import torch.nn as nn


def load_cifar_train(archive):
    xs, ys = [], []
    with tarfile.open(archive, 'r:gz') as tar:
        for i in range(1, 6):
            raw = tar.extractfile(f'cifar-10-batches-bin/data_batch_{i}.bin').read()
            rec = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3073)
            ys.append(rec[:, 0].astype(np.int64))
            xs.append(rec[:, 1:].reshape(-1, 3, 32, 32))
    return np.concatenate(xs), np.concatenate(ys)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--data', required=True)
    p.add_argument('--threads', type=int, required=True)
    p.add_argument('--epochs', type=int, default=10)
    p.add_argument('--channels-last', action='store_true')
    p.add_argument('--seed', type=int, default=0)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    x, y = load_cifar_train(a.data)
    fmt = torch.channels_last if a.channels_last else torch.contiguous_format
    xt = torch.from_numpy(x[:45000]).float().div_(255).contiguous(memory_format=fmt)
    yt = torch.from_numpy(y[:45000])
    xv = torch.from_numpy(x[45000:]).float().div_(255).contiguous(memory_format=fmt)
    yv = torch.from_numpy(y[45000:])
    net = nn.Sequential(
        nn.Conv2d(3, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(64, 64, 3), nn.ReLU(),
        nn.Flatten(), nn.Linear(64 * 4 * 4, 64), nn.ReLU(), nn.Linear(64, 10)).to(memory_format=fmt)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()
    g = torch.Generator().manual_seed(a.seed)
    times = []
    for epoch in range(a.epochs):
        net.train()
        t0 = time.perf_counter()
        order = torch.randperm(45000, generator=g)
        for i in range(0, 45000, 64):
            idx = order[i:i + 64]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(net(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
        train_s = time.perf_counter() - t0
        net.eval()
        with torch.inference_mode():
            logits = torch.cat([net(xv[i:i + 256]) for i in range(0, 5000, 256)])
            val_loss = loss_fn(logits, yv).item()
            val_acc = (logits.argmax(1) == yv).float().mean().item()
        epoch_s = time.perf_counter() - t0
        times.append(epoch_s)
        print(json.dumps({'epoch': epoch + 1, 'train_seconds': train_s, 'epoch_seconds': epoch_s,
                          'images_per_second': 45000 / train_s, 'val_loss': val_loss, 'val_accuracy': val_acc}),
              flush=True)
    print(json.dumps({'summary': True, 'median_epoch_seconds': float(np.median(times)),
                      'final_val_accuracy': val_acc}))


if __name__ == '__main__':
    main()
