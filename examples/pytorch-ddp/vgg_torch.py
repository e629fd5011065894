"""The torch side of examples/pytorch-ddp: a verydeep weights file as a torch nn.Module, and
Fashion-MNIST prepared exactly as verydeep prepares it. train_ddp.py and evaluate_torch.py
import this (it sits beside them, so Python finds it).

The module has torchvision's VGG state_dict layout (`features.N` Conv2d/ReLU/MaxPool2d,
`classifier.N` Linear/ReLU/Dropout), so the file's torchvision names load with
strict=True. It is built here rather than with torchvision.models.VGG because that class
hard-codes FC6's 512*7*7 inputs and an AdaptiveAvgPool2d((7, 7)) for 224x224 inputs; the
reduced nets of this example (width 0.25, 32x32 inputs) end in a 1x1 map that FC6 takes
as it is, which is what verydeep does (its Vgg has no avgpool).

The preprocessing (documented once, in README.md "The preprocessing"): a 28x28 image is
zero-padded, centred, to the input size; pixels are taken in the file's range (0-255 for
verydeep's Fashion-MNIST runs); the file's mean is subtracted and the result divided by
its std. The arithmetic repeats verydeep's float32 steps (lib/data: byte/255 stored as
float32; times 255 in float32; the mean subtracted in float64, rounded to float32), so both
sides feed the network the same bits.
"""
import gzip
import json
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'scripts', 'interop'))
import safetensors_io  # noqa: E402  (scripts/interop/safetensors_io.py: F32 safetensors, atomic writes)

FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist'

# Table 1 of the paper, the configurations torchvision names (vgg11, 13, 16, 19): a number is a
# 3x3 conv's channels at full width, 'M' a 2x2 max-pool. The widths come from the file's shapes.
CONFIGS = {
    'A': [64, 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
    'B': [64, 64, 'M', 128, 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
    'D': [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'],
    'E': [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 256, 'M', 512, 512, 512, 512, 'M', 512, 512, 512, 512, 'M'],
}
CONFIG_BY_CONVS = {sum(1 for v in layers if v != 'M'): name for name, layers in CONFIGS.items()}


class Vgg(nn.Module):
    """torchvision's VGG layout at any width and input size, without the avgpool."""

    def __init__(self, config, conv_shapes, fc_shapes, dropout):
        super().__init__()
        layers, convs = [], iter(conv_shapes)
        for spec in CONFIGS[config]:
            if spec == 'M':
                layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            else:
                out_c, in_c, kh, kw = next(convs)
                layers += [nn.Conv2d(in_c, out_c, kernel_size=(kh, kw), padding=kh // 2), nn.ReLU(inplace=True)]
        self.features = nn.Sequential(*layers)
        (h6, i6), (h7, i7), (h8, i8) = fc_shapes
        self.classifier = nn.Sequential(
            nn.Linear(i6, h6), nn.ReLU(inplace=True), nn.Dropout(dropout),
            nn.Linear(i7, h7), nn.ReLU(inplace=True), nn.Dropout(dropout),
            nn.Linear(i8, h8),
        )

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


def _indexed(tensors, prefix, rank):
    """[(index, shape)] of `prefix.N.weight` tensors of the given rank, by N."""
    found = []
    for name, t in tensors.items():
        parts = name.split('.')
        if len(parts) == 3 and parts[0] == prefix and parts[2] == 'weight' and parts[1].isdigit() and t.dim() == rank:
            found.append((int(parts[1]), tuple(t.shape)))
    return [shape for _, shape in sorted(found)]


def load_model(path):
    """(model, tensors, metadata, vgg) from a weights file with torchvision names, weights loaded (strict)."""
    tensors, metadata = safetensors_io.load(path)
    if metadata.get('naming', 'torchvision') != 'torchvision':
        sys.exit(f'error: {path} has {metadata["naming"]!r} names; export it with torchvision names '
                 '(node dist/examples/pytorch-ddp/export.js writes them)')
    vgg = json.loads(metadata['vgg']) if 'vgg' in metadata else {}
    convs, fcs = _indexed(tensors, 'features', 4), _indexed(tensors, 'classifier', 2)
    config = vgg.get('config', CONFIG_BY_CONVS.get(len(convs)))
    if config not in CONFIGS:
        sys.exit(f'error: {path} holds VGG configuration {config!r} ({len(convs)} convs); torchvision names cover A, B, D and E')
    model = Vgg(config, convs, fcs, float(vgg.get('dropout', 0.5)))
    model.load_state_dict(tensors, strict=True)
    return model, tensors, metadata, vgg


def preprocessing_of(metadata, path):
    """The file's 'preprocessing' (verydeep's object), checked to be one a grey 28x28 set can take."""
    if 'preprocessing' not in metadata:
        sys.exit(f'error: {path} does not say which preprocessing its weights expect (no "preprocessing" metadata); '
                 'export it with node dist/examples/pytorch-ddp/export.js, which stores the Fashion-MNIST one')
    p = json.loads(metadata['preprocessing'])
    if p['channelOrder'] != 'gray':
        sys.exit(f'error: {path} expects {p["channelOrder"]} images; Fashion-MNIST is grey (channelOrder "gray")')
    return p


def read_idx(path):
    """An IDX file (gzipped or plain) of unsigned bytes as a uint8 tensor of its shape."""
    opener = gzip.open if path.endswith('.gz') else open
    with opener(path, 'rb') as f:
        raw = f.read()
    if raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        sys.exit(f'error: {path} is not an IDX file of unsigned bytes')
    dims = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], 'big') for i in range(dims)]
    body = bytearray(raw[4 + 4 * dims:])
    return torch.frombuffer(body, dtype=torch.uint8)[:torch.Size(shape).numel()].reshape(shape)


def fashion_mnist(split, folder=FASHION_MNIST_DIR):
    """(images uint8 [N, 28, 28], labels int64 [N]) of 'train' or 't10k' (test), .gz or plain files."""
    def find(stem):
        for candidate in (os.path.join(folder, stem + '.gz'), os.path.join(folder, stem)):
            if os.path.exists(candidate):
                return candidate
        sys.exit(f'error: {os.path.join(folder, stem)}(.gz) is missing; install Debian\'s dataset-fashion-mnist '
                 '(apt-get install dataset-fashion-mnist) or pass --data <folder>')
    images = read_idx(find(f'{split}-images-idx3-ubyte'))
    labels = read_idx(find(f'{split}-labels-idx1-ubyte')).to(torch.int64)
    return images, labels


def pad(images, size):
    """uint8 [N, H, W] zero-padded, centred, to [N, size, size] (verydeep's data.pad)."""
    n, h, w = images.shape
    top, left = (size - h) // 2, (size - w) // 2
    return torch.nn.functional.pad(images, (left, size - w - left, top, size - h - top))


def normalise(images, p):
    """uint8 [N, S, S] as the network's float32 [N, 1, S, S] input under preprocessing `p`."""
    pixels = (images.to(torch.float64) / 255).to(torch.float32)  # the dataset's [0, 1] float32 pixels
    if p['range'] == '0-255':
        pixels = pixels * 255  # float32 times float32, rounded to float32, as verydeep's scale()
    out = (pixels.to(torch.float64) - p['mean'][0]) / p['std'][0]
    return out.to(torch.float32).unsqueeze(1)


def save(path, model, metadata):
    """The model's weights under their torchvision names, with `metadata`, written atomically."""
    safetensors_io.save(path, dict(model.state_dict()), metadata)
