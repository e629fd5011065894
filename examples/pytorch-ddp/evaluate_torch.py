"""Step 3, torch's side: the same weights and test images as evaluate.js, for comparing the two
frameworks (README.md). One process, no distribution.

    /usr/bin/python3 examples/pytorch-ddp/evaluate_torch.py --weights runs/ddp/trained.safetensors \\
        --count 64 --logits runs/ddp/logits-torch.json

Prints one JSON line (top-1 and top-5 error over the first --limit test images); --logits
writes the logits of the first --count test images as evaluate.js does (JSON, atomically).
"""
import argparse
import json
import os
import time

import torch

import vgg_torch


def main():
    a = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    a.add_argument('--weights', required=True)
    a.add_argument('--limit', type=int, default=None, help='score the first N test images (all 10,000)')
    a.add_argument('--count', type=int, default=64, help='with --logits: how many of the first test images (64)')
    a.add_argument('--logits', default=None, help='write the logits of the first --count test images (JSON)')
    a.add_argument('--data', default=vgg_torch.FASHION_MNIST_DIR)
    o = a.parse_args()
    for name in ('limit', 'count'):
        v = getattr(o, name)
        if v is not None and v < 1:
            a.error(f'--{name} expects an integer >= 1, got {v}')

    model, _, metadata, vgg = vgg_torch.load_model(o.weights)
    p = vgg_torch.preprocessing_of(metadata, o.weights)
    size = int(vgg.get('inputSize', 32))
    model.eval()
    images, labels = vgg_torch.fashion_mnist('t10k', o.data)
    limit = min(o.limit or len(images), len(images))
    started = time.time()
    top1 = top5 = 0
    loss = 0.0
    with torch.no_grad():
        for begin in range(0, limit, 256):
            x = vgg_torch.normalise(vgg_torch.pad(images[begin:min(begin + 256, limit)], size), p)
            y = labels[begin:begin + x.shape[0]]
            z = model(x)
            ranks = z.topk(min(5, z.shape[1]), dim=1).indices
            top1 += (ranks[:, 0] == y).sum().item()
            top5 += (ranks == y[:, None]).any(dim=1).sum().item()
            loss += torch.nn.functional.cross_entropy(z.double(), y, reduction='sum').item()
        result = {'weights': o.weights, 'framework': f'torch {torch.__version__}', 'images': limit, 'top1_error': 1 - top1 / limit,
                  'top5_error': 1 - top5 / limit, 'loss': loss / limit, 'seconds': round(time.time() - started, 3)}
        if o.logits:
            count = min(o.count, len(images))
            z = model(vgg_torch.normalise(vgg_torch.pad(images[:count], size), p))
            rows = z.tolist()
            out = {'weights': o.weights, 'framework': 'torch', 'labels': labels[:count].tolist(),
                   'predictions': z.argmax(dim=1).tolist(), 'logits': rows}
            tmp = f'{o.logits}.tmp-{os.getpid()}'
            with open(tmp, 'w') as f:
                f.write(json.dumps(out) + '\n')
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, o.logits)
            result['logits'] = o.logits
    print(json.dumps(result), flush=True)


if __name__ == '__main__':
    main()
