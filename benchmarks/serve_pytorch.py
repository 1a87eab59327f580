"""PyTorch side of the serving benchmark (started by benchmarks/serve.ts with /usr/bin/python3).

The seed-cnn (the Keras CIFAR-10 tutorial network) in PyTorch behind a minimal HTTP server: the standard
library's ThreadingHTTPServer (one thread per connection, HTTP/1.1 keep-alive), the JSON format of TF Serving's
:predict — POST /v1/models/<name>:predict {"instances": [[[[r, g, b], ...]]]} (NHWC floats) →
{"predictions": [[p0, ..., p9]]} (softmax). No batching across requests: each request runs its own forward pass,
which is what a minimal server does.

With --weights <file> (JSON written by serve.ts: the tfjs model's weights, in tfjs layouts) it computes the same
function as the Insight server, so the benchmark can check that both answer the same numbers.

  /usr/bin/python3 benchmarks/serve_pytorch.py [--port 0] [--threads 2] [--weights weights.json]
Prints one JSON line {"url": "http://127.0.0.1:<port>"} when it listens; stops on SIGTERM/SIGINT.
"""
import argparse
import json
import signal
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import torch
import torch.nn as nn


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
        x = x.permute(0, 3, 1, 2)
        x = self.pool(torch.relu(self.conv1(x)))
        x = self.pool(torch.relu(self.conv2(x)))
        x = torch.relu(self.conv3(x))
        # Keras flattens NHWC feature maps: flatten in that order so the dense weights line up.
        x = x.permute(0, 2, 3, 1).flatten(1)
        return self.logits(torch.relu(self.dense1(x)))


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


def make_handler(net):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = 'HTTP/1.1'
        # Headers and body are two writes: without TCP_NODELAY, Nagle + delayed ACK add ~40 ms to every response.
        disable_nagle_algorithm = True

        def do_POST(self):
            try:
                body = json.loads(self.rfile.read(int(self.headers.get('Content-Length', 0))))
                x = torch.tensor(body['instances'], dtype=torch.float32)
                if x.dim() != 4 or tuple(x.shape[1:]) != (32, 32, 3):
                    raise ValueError(f'instances must have shape [N, 32, 32, 3], got {list(x.shape)}')
                with torch.inference_mode():
                    probs = torch.softmax(net(x), dim=1)
                self.reply(200, {'predictions': probs.tolist()})
            except Exception as error:  # a bad request must not kill the server
                self.reply(400, {'error': str(error)})

        def reply(self, status, obj):
            data = json.dumps(obj).encode()
            self.send_response(status)
            self.send_header('Content-Type', 'application/json')
            self.send_header('Content-Length', str(len(data)))
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
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    net = SeedCnn().eval()
    if a.weights:
        load_tfjs_weights(net, a.weights)
    server = ThreadingHTTPServer(('127.0.0.1', a.port), make_handler(net))
    server.daemon_threads = True
    stop = lambda *_: threading.Thread(target=server.shutdown).start()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(json.dumps({'url': f'http://127.0.0.1:{server.server_port}', 'torch': torch.__version__, 'threads': a.threads}), flush=True)
    server.serve_forever()


if __name__ == '__main__':
    main()
