"""PyTorch side of the explanation-speed benchmark (run by explain_speed.ts with /usr/bin/python3).

The same model architectures as Insight's zoo (seed-cnn: the Keras CIFAR-10 CNN; resnet: the CIFAR ResNet of He et
al. 2016 with BasicBlocks, BatchNorm and 1x1-projection shortcuts) in eval mode, random weights, and the same
explanation methods written with autograd and a forward hook, as Captum and pytorch-grad-cam compute them:
  saliency    grad of the target logit w.r.t. the input; map = max over channels of |grad|
  gradcam     forward hook on the last convolution's feature map A (seed-cnn: the ReLU after conv3; resnet: the last
              block's output); w = spatial mean of dlogit/dA; cam = ReLU(sum_k w_k A_k), bilinear upsampling
  ig          Integrated Gradients, trapezoid rule on `steps` points from a black baseline, plus the two forward
              passes of the convergence delta (Captum's return_convergence_delta)
  smoothgrad  mean gradient over `samples` noisy copies, sigma = noise_level * (max - min) per image
  occlusion   window x window black patches at stride `stride`; mean drop of the target logit per pixel
Every method evaluates at most `internal_batch_size` rows per forward/backward pass, as Insight's do. Prints one JSON
line: milliseconds per image per method (median over `repeats` timed calls after one warm-up call).
"""
import argparse
import json
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def seed_cnn(classes):
    return nn.Sequential(
        nn.Conv2d(3, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(64, 64, 3), nn.ReLU(),
        nn.Flatten(), nn.Linear(64 * 4 * 4, 64), nn.ReLU(), nn.Linear(64, classes))


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout, eps=1e-5)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout, eps=1e-5)
        self.proj = None
        if stride != 1 or cin != cout:
            self.proj = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout, eps=1e-5))
        self.out = nn.ReLU()

    def forward(self, x):
        y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return self.out(y + (x if self.proj is None else self.proj(x)))


class Resnet(nn.Module):
    def __init__(self, depth, width, classes):
        super().__init__()
        n = (depth - 2) // 6
        self.stem = nn.Sequential(nn.Conv2d(3, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width, eps=1e-5), nn.ReLU())
        blocks, cin = [], width
        for stage in range(3):
            cout = width * 2 ** stage
            for b in range(n):
                blocks.append(BasicBlock(cin, cout, 2 if stage > 0 and b == 0 else 1))
                cin = cout
        self.blocks = nn.Sequential(*blocks)
        self.logits = nn.Linear(cin, classes)

    def forward(self, x):
        return self.logits(self.blocks(self.stem(x)).mean((2, 3)))


def cam_layer(name, net):
    """The module whose output Grad-CAM reads: the last convolution's feature map, as Insight chooses it."""
    return net[7] if name == 'seed-cnn' else net.blocks[-1].out


def scores(net, x, t):
    return net(x).gather(1, t[:, None])[:, 0]


def chunks(rows, size):
    return [(s, min(rows, s + size)) for s in range(0, rows, size)]


def input_grads(net, x, t):
    """d score / d x only (autograd.grad with explicit inputs: no parameter gradients are computed)."""
    x = x.detach().requires_grad_(True)
    return torch.autograd.grad(scores(net, x, t).sum(), x)[0]


def saliency(net, x, t, o):
    g = torch.cat([input_grads(net, x[s:e], t[s:e]) for s, e in chunks(len(x), o.internal_batch_size)])
    return g.abs().amax(1)


def gradcam(net, x, t, o):
    layer = cam_layer(o.model, net)
    maps = []
    for s, e in chunks(len(x), o.internal_batch_size):
        held = {}
        hook = layer.register_forward_hook(lambda _m, _i, out: held.__setitem__('a', out))
        try:
            score = scores(net, x[s:e], t[s:e]).sum()
        finally:
            hook.remove()
        a = held['a']
        g = torch.autograd.grad(score, a)[0]
        cam = F.relu((g.mean((2, 3), keepdim=True) * a).sum(1, keepdim=True))
        maps.append(F.interpolate(cam, size=x.shape[2:], mode='bilinear', align_corners=False)[:, 0].detach())
    return torch.cat(maps)


def integrated_gradients(net, x, t, o):
    n, steps = len(x), o.steps
    alphas = torch.arange(steps, dtype=torch.float32) / (steps - 1)
    weights = torch.full((steps,), 1.0 / (steps - 1))
    weights[0] = weights[-1] = 0.5 / (steps - 1)
    baseline = torch.zeros_like(x)
    diff = x - baseline
    integral = torch.zeros_like(x)
    for s, e in chunks(n * steps, o.internal_batch_size):
        rows = torch.arange(s, e)
        img, k = rows // steps, rows % steps
        points = baseline[img] + alphas[k].view(-1, 1, 1, 1) * diff[img]
        g = input_grads(net, points, t[img])
        integral.index_add_(0, img, g * weights[k].view(-1, 1, 1, 1))
    attributions = diff * integral
    with torch.no_grad():
        at_x = torch.cat([scores(net, x[s:e], t[s:e]) for s, e in chunks(n, o.internal_batch_size)])
        at_b = torch.cat([scores(net, baseline[s:e], t[s:e]) for s, e in chunks(n, o.internal_batch_size)])
    delta = attributions.sum((1, 2, 3)) - (at_x - at_b)
    return attributions.sum(1), delta


def smoothgrad(net, x, t, o):
    n, samples = len(x), o.samples
    sigma = o.noise_level * (x.amax((1, 2, 3)) - x.amin((1, 2, 3)))
    gen = torch.Generator().manual_seed(0)
    noise = torch.randn((samples,) + tuple(x.shape[1:]), generator=gen)
    total = torch.zeros_like(x)
    for s, e in chunks(n * samples, o.internal_batch_size):
        rows = torch.arange(s, e)
        img, k = rows // samples, rows % samples
        noisy = x[img] + noise[k] * sigma[img].view(-1, 1, 1, 1)
        total.index_add_(0, img, input_grads(net, noisy, t[img]))
    return (total / samples).abs().amax(1)


def occlusion(net, x, t, o):
    n, _, h, w = x.shape
    win, stride = o.window, o.stride
    tops = list(range(0, h - win + 1, stride))
    lefts = list(range(0, w - win + 1, stride))
    patches = [(a, b) for a in tops for b in lefts]
    masks = torch.zeros(len(patches), 1, h, w)
    for p, (a, b) in enumerate(patches):
        masks[p, :, a:a + win, b:b + win] = 1
    total = torch.zeros(n, h, w)
    with torch.no_grad():
        base = torch.cat([scores(net, x[s:e], t[s:e]) for s, e in chunks(n, o.internal_batch_size)])
        for s, e in chunks(n * len(patches), o.internal_batch_size):
            rows = torch.arange(s, e)
            img, p = rows // len(patches), rows % len(patches)
            m = masks[p]
            occluded = x[img] * (1 - m)  # black = 0 under the reference [0, 1] scaling
            drops = base[img] - scores(net, occluded, t[img])
            total.index_add_(0, img, m[:, 0] * drops.view(-1, 1, 1))
        count = masks[:, 0].sum(0).clamp(min=1)
    return total / count


METHODS = {'saliency': saliency, 'gradcam': gradcam, 'ig': integrated_gradients, 'smoothgrad': smoothgrad, 'occlusion': occlusion}


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--model', choices=['seed-cnn', 'resnet'], default='seed-cnn')
    p.add_argument('--methods', default='saliency,gradcam,ig,smoothgrad,occlusion')
    p.add_argument('--threads', type=int, required=True)
    p.add_argument('--batch', type=int, default=64)
    p.add_argument('--steps', type=int, default=50)
    p.add_argument('--samples', type=int, default=50)
    p.add_argument('--noise-level', type=float, default=0.15)
    p.add_argument('--window', type=int, default=8)
    p.add_argument('--stride', type=int, default=4)
    p.add_argument('--internal-batch-size', type=int, default=64)
    p.add_argument('--repeats', type=int, default=3)
    p.add_argument('--channels-last', action='store_true')
    o = p.parse_args()
    torch.set_num_threads(o.threads)
    torch.manual_seed(0)
    fmt = torch.channels_last if o.channels_last else torch.contiguous_format
    net = (seed_cnn(10) if o.model == 'seed-cnn' else Resnet(20, 16, 10)).eval().to(memory_format=fmt)
    x = torch.rand(o.batch, 3, 32, 32).contiguous(memory_format=fmt)
    with torch.no_grad():
        t = net(x).argmax(1)
    out = {}
    for name in o.methods.split(','):
        method = METHODS[name]
        method(net, x, t, o)  # warm-up
        times = []
        for _ in range(o.repeats):
            started = time.perf_counter()
            method(net, x, t, o)
            times.append(time.perf_counter() - started)
        out[name] = 1000 * statistics.median(times) / o.batch
    print(json.dumps({'torch_version': torch.__version__, 'ms_per_image': out}))


if __name__ == '__main__':
    main()
