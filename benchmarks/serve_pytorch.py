"""PyTorch side of the serving benchmark (started by benchmarks/serve.ts with /usr/bin/python3).

The seed-cnn (the Keras CIFAR-10 tutorial network) in PyTorch behind a minimal HTTP server: the standard
library's ThreadingHTTPServer (one thread per connection, HTTP/1.1 keep-alive). No batching across requests: each
request runs its own forward pass, which is what a minimal server does. Two routes, the same bytes the Insight
server is sent:
  - JSON, TF Serving's :predict: POST /v1/models/<name>:predict {"instances": [[[[r, g, b], ...]]]} (NHWC floats)
    -> {"predictions": [[p0, ..., p9], ...]} (softmax).
  - Binary tensors, KServe v2 / Triton's binary data extension: POST /v2/models/<name>/infer with header
    Inference-Header-Content-Length: n, a JSON header of n bytes ({"inputs": [{"name": "image", "shape": [N, 32, 32,
    3], "datatype": "FP32", "parameters": {"binary_data_size": N*3072*4}}], "parameters": {"binary_data_output":
    true}}), then the raw little-endian FP32 pixels -> the JSON answer header, then the [N, 10] probabilities as raw
    FP32 (application/octet-stream with its own Inference-Header-Content-Length). Only this one input layout.
Modes (the network is the same function in each):
  --mode eager            the nn.Module under torch.inference_mode()
  --mode jit              torch.jit.trace + torch.jit.freeze + torch.jit.optimize_for_inference (folds conv/bias/
                          relu, prepacks weights for oneDNN), run under torch.inference_mode()
  --channels-last         the module's weights (and so its convolutions) in channels-last memory format
Before it says ready, the server runs the network a few times on the batch sizes it is told (--warmup-batches), so
the JIT's profiling runs and oneDNN's kernel choice happen before the measurement.

With --weights <file> (JSON written by serve.ts: the tfjs model's weights, in tfjs layouts) it computes the same
function as the Insight server, so the benchmark can check that both answer the same numbers.

  /usr/bin/python3 benchmarks/serve_pytorch.py [--port 0] [--threads 2] [--weights weights.json] [--mode eager|jit]
      [--channels-last] [--warmup-batches 1,16]
Prints one JSON line {"url": "http://127.0.0.1:<port>", "config": {...}} when it listens (config: torch version,
mode, threads, memory format, allocator settings); stops on SIGTERM/SIGINT.
"""
import argparse
import json
import os
import signal
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import torch
import torch.nn as nn

BINARY_HEADER = 'Inference-Header-Content-Length'


class SeedCnn(nn.Module):
    """x: [N, 32, 32, 3] (NHWC, as the JSON carries it) -> logits [N, 10]."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, 3)
        self.conv2 = nn.Conv2d(32, 64, 3)
        self.conv3 = nn.Conv2d(64, 64, 3)
        self.dense1 = nn.Linear(64 * 4 * 4, 64)
        self.logits = nn.Linear(64, 10)
        self.pool = nn.MaxPool2d(2)

    def forward(self, x):
        # NHWC -> NCHW as a view: its strides are channels-last ones, so no copy is made here.
        x = x.permute(0, 3, 1, 2)
        x = self.pool(torch.relu(self.conv1(x)))
        x = self.pool(torch.relu(self.conv2(x)))
        x = torch.relu(self.conv3(x))
        # Keras flattens NHWC feature maps: flatten in that order so the dense weights line up.
        x = x.permute(0, 2, 3, 1).flatten(1)
        return torch.softmax(self.logits(torch.relu(self.dense1(x))), dim=1)


def load_tfjs_weights(net, path):
    """tfjs layouts: conv kernel [kh, kw, in, out] -> [out, in, kh, kw]; dense kernel [in, out] -> [out, in]."""
    with open(path) as f:
        weights = json.load(f)
    layers = [net.conv1, net.conv2, net.conv3, net.dense1, net.logits]
    with torch.no_grad():
        for layer, (kernel, bias) in zip(layers, zip(weights[0::2], weights[1::2])):
            k = torch.tensor(kernel['values'], dtype=torch.float32).reshape(kernel['shape'])
            k = k.permute(3, 2, 0, 1) if k.dim() == 4 else k.t()
            layer.weight.copy_(k)
            layer.bias.copy_(torch.tensor(bias['values'], dtype=torch.float32))


def build(net, mode, channels_last, warmup_batches):
    """The callable the server runs: x [N, 32, 32, 3] float32 -> probabilities [N, 10]; warmed up on each batch size."""
    if channels_last:
        net = net.to(memory_format=torch.channels_last)
    if mode == 'jit':
        with torch.no_grad():
            traced = torch.jit.trace(net, torch.rand(max(warmup_batches), 32, 32, 3))
            net = torch.jit.optimize_for_inference(torch.jit.freeze(traced))
    with torch.inference_mode():
        for n in warmup_batches:
            for _ in range(5):
                net(torch.rand(n, 32, 32, 3))
    return net


def make_handler(net):
    def run(x):
        if x.dim() != 4 or tuple(x.shape[1:]) != (32, 32, 3):
            raise ValueError(f'the input must have shape [N, 32, 32, 3], got {list(x.shape)}')
        with torch.inference_mode():
            return net(x)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = 'HTTP/1.1'
        # Headers and body are two writes: without TCP_NODELAY, Nagle + delayed ACK add ~40 ms to every response.
        disable_nagle_algorithm = True

        def do_POST(self):
            try:
                body = self.rfile.read(int(self.headers.get('Content-Length', 0)))
                if self.path.startswith('/v2/'):
                    self.binary(body)
                else:
                    probs = run(torch.tensor(json.loads(body)['instances'], dtype=torch.float32))
                    self.reply(200, json.dumps({'predictions': probs.tolist()}).encode(), 'application/json')
            except Exception as error:  # a bad request must not kill the server
                self.reply(400, json.dumps({'error': str(error)}).encode(), 'application/json')

        def binary(self, body):
            n = int(self.headers[BINARY_HEADER])
            header = json.loads(body[:n])
            tensor = header['inputs'][0]
            if tensor['datatype'] != 'FP32' or tensor['parameters']['binary_data_size'] != len(body) - n:
                raise ValueError('one FP32 input whose binary_data_size is the rest of the body')
            x = torch.frombuffer(bytearray(body[n:]), dtype=torch.float32).reshape(tensor['shape'])
            probs = run(x)
            data = probs.contiguous().numpy().tobytes()
            answer = json.dumps({'model_name': self.path.split('/')[3], 'model_version': '1', 'outputs': [
                {'name': 'probabilities', 'datatype': 'FP32', 'shape': list(probs.shape), 'parameters': {'binary_data_size': len(data)}}]}).encode()
            self.reply(200, answer + data, 'application/octet-stream', {BINARY_HEADER: str(len(answer))})

        def reply(self, status, data, content_type, headers=None):
            self.send_response(status)
            self.send_header('Content-Type', content_type)
            self.send_header('Content-Length', str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    return Handler


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--port', type=int, default=0)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--weights')
    p.add_argument('--mode', choices=['eager', 'jit'], default='eager')
    p.add_argument('--channels-last', action='store_true')
    p.add_argument('--warmup-batches', default='1,16')
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    net = SeedCnn().eval()
    if a.weights:
        load_tfjs_weights(net, a.weights)
    net = build(net, a.mode, a.channels_last, [int(n) for n in a.warmup_batches.split(',')])
    server = ThreadingHTTPServer(('127.0.0.1', a.port), make_handler(net))
    server.daemon_threads = True
    stop = lambda *_: threading.Thread(target=server.shutdown).start()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    config = {
        'torch': torch.__version__, 'mode': a.mode, 'channels_last': a.channels_last, 'threads': torch.get_num_threads(),
        'interop_threads': torch.get_num_interop_threads(), 'mkldnn': torch.backends.mkldnn.is_available(),
        'malloc': {k: v for k, v in os.environ.items() if k.startswith('MALLOC_')},
        'server': 'http.server.ThreadingHTTPServer (a thread per connection), no batching',
    }
    print(json.dumps({'url': f'http://127.0.0.1:{server.server_port}', 'config': config}), flush=True)
    server.serve_forever()


if __name__ == '__main__':
    main()
