#!/usr/bin/python3
"""torchvision's VGGs at full size, for the interop suite (test/interop.test.ts): the torch
side of each check, one process per model and direction, printing one JSON line.

  export NAME DIR SEED   builds torchvision.models.NAME() (vgg11, vgg13, vgg16, vgg19;
                         weights=None, seeded), writes its state_dict to
                         DIR/NAME_torchvision.safetensors as a user's conversion of a
                         torchvision checkpoint would be (torch's names, format 'pt', no
                         verydeep metadata), and a seeded input x [2, 3, 224, 224] with
                         torch's logits in eval mode to DIR/NAME_io.safetensors.
  import NAME WEIGHTS IO OUT
                         loads WEIGHTS (verydeep's export with torchvision naming) into
                         torchvision.models.NAME() with load_state_dict(strict=True), and
                         writes its eval-mode logits for IO's input x to OUT.
  onnx NAME DIR SEED     builds NAME as export does and torch.onnx.export's it to
                         DIR/NAME.onnx (opset 13, input 'input', output 'logits', dynamic
                         batch axis), with inputs x1 [1, ...], x2 [2, ...] and torch's
                         logits for each in DIR/NAME_onnx_io.safetensors.

The weights: torchvision's own init (kaiming_normal_ fan_out for the convs, N(0, 0.01²) for
the FC layers, zero biases) would leave every bias untested and the logits of order 1e-2.
So after it every FC weight is redrawn from N(0, 2/fan_in) and every bias from
U(-0.1, 0.1), as in test/fixtures/make_torch_fixture.py: logits of order 1, and a bias
loaded into the wrong layer shows. The input is N(0, 1), as a normalised image.

Threads: OMP_NUM_THREADS (the test sets 2). Usage: /usr/bin/python3 torchvision_vgg.py ...
"""
import json
import os
import sys
import time

import torch
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402

NAMES = ('vgg11', 'vgg13', 'vgg16', 'vgg19')
BATCH = 2
SIDE = 224


def build(name, seed):
    """torchvision's NAME with random weights (see the module's comment), in eval mode."""
    if name not in NAMES:
        raise SystemExit(f'torchvision_vgg.py: expected one of {", ".join(NAMES)}, got {name!r}')
    torch.manual_seed(seed)
    model = getattr(torchvision.models, name)(weights=None)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.Linear):
                torch.nn.init.normal_(m.weight, 0, (2 / m.in_features) ** 0.5)
            if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)):
                torch.nn.init.uniform_(m.bias, -0.1, 0.1)
    return model.eval()


def logits(model, x):
    with torch.no_grad():
        return model(x)


def export(name, folder, seed):
    started = time.time()
    model = build(name, int(seed))
    x = torch.randn(BATCH, 3, SIDE, SIDE, generator=torch.Generator().manual_seed(int(seed) + 1))
    weights = os.path.join(folder, f'{name}_torchvision.safetensors')
    io = os.path.join(folder, f'{name}_io.safetensors')
    safetensors_io.save(weights, model.state_dict(), {'format': 'pt'})
    t0 = time.time()
    y = logits(model, x)
    forward_s = time.time() - t0
    safetensors_io.save(io, {'x': x, 'logits': y})
    return {'weights': weights, 'io': io, 'tensors': len(model.state_dict()),
            'parameters': sum(p.numel() for p in model.parameters()),
            'logits_max_abs': float(y.abs().max()), 'forward_s': forward_s, 'total_s': time.time() - started}


def import_(name, weights, io, out):
    started = time.time()
    if name not in NAMES:
        raise SystemExit(f'torchvision_vgg.py: expected one of {", ".join(NAMES)}, got {name!r}')
    state, metadata = safetensors_io.load(weights)
    model = getattr(torchvision.models, name)(weights=None)
    # strict=True: a missing, extra or misshapen tensor raises here, which fails the test
    result = model.load_state_dict(state, strict=True)
    model.eval()
    x = safetensors_io.load(io)[0]['x']
    t0 = time.time()
    y = logits(model, x)
    forward_s = time.time() - t0
    safetensors_io.save(out, {'logits': y})
    return {'out': out, 'missing': list(result.missing_keys), 'unexpected': list(result.unexpected_keys),
            'tensors': len(state), 'metadata': metadata, 'forward_s': forward_s, 'total_s': time.time() - started}


def onnx(name, folder, seed):
    started = time.time()
    model = build(name, int(seed))
    g = torch.Generator().manual_seed(int(seed) + 1)
    x1 = torch.randn(1, 3, SIDE, SIDE, generator=g)
    x2 = torch.randn(2, 3, SIDE, SIDE, generator=g)
    path = os.path.join(folder, f'{name}.onnx')
    io = os.path.join(folder, f'{name}_onnx_io.safetensors')
    tmp = f'{path}.tmp-{os.getpid()}'
    torch.onnx.export(model, x1, tmp, opset_version=13, input_names=['input'], output_names=['logits'],
                      dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}})
    os.replace(tmp, path)
    safetensors_io.save(io, {'x1': x1, 'logits1': logits(model, x1), 'x2': x2, 'logits2': logits(model, x2)})
    return {'onnx': path, 'io': io, 'bytes': os.path.getsize(path), 'total_s': time.time() - started}


def main(argv):
    commands = {'export': (export, 3), 'import': (import_, 4), 'onnx': (onnx, 3)}
    if len(argv) < 1 or argv[0] not in commands or len(argv) - 1 != commands[argv[0]][1]:
        raise SystemExit(__doc__)
    fn, _ = commands[argv[0]]
    torch.set_num_threads(int(os.environ.get('OMP_NUM_THREADS', '2')))
    print(json.dumps(fn(*argv[1:])))


if __name__ == '__main__':
    main(sys.argv[1:])
