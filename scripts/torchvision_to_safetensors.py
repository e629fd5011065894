#!/usr/bin/python3
"""torchvision's VGG weights as one safetensors file that `verydeep classify` and
`verydeep eval` read as they are.

    /usr/bin/python3 scripts/torchvision_to_safetensors.py --arch vgg16 --out vgg16.safetensors
    verydeep classify photo.jpg --weights vgg16.safetensors

The file holds the state_dict under torchvision's names (features.0.weight, ...,
classifier.6.bias) and, as metadata, what the weights need beyond their values:
  naming         'torchvision'
  preprocessing  JSON of lib/data/preprocess.ts's Preprocessing (RGB, 0-1, ImageNet mean
                 and std: TORCHVISION_PREPROCESSING)
  classes        JSON array of the 1,000 ImageNet class names, from the weights' own
                 metadata (VGG16_Weights.IMAGENET1K_V1.meta["categories"]; no download)
  source         where the weights came from

The weights: torchvision's pretrained ones by default (downloaded into the torch hub cache,
or read from it), a local state_dict with --state-dict (machines without network), or a
seeded random initialisation with --random (the tests; nothing is downloaded). The batch
norm variants (vgg16_bn, ...) are refused: verydeep's VGGs have no batch norm, as the
paper's have none. The file is written atomically (scripts/interop/safetensors_io.py).
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'interop'))

ARCHS = ['vgg11', 'vgg13', 'vgg16', 'vgg19']
WHERE = 'torchvision_to_safetensors.py'

# lib/data/preprocess.ts's TORCHVISION_PREPROCESSING, key for key
PREPROCESSING = {'channelOrder': 'RGB', 'range': '0-1', 'mean': [0.485, 0.456, 0.406], 'std': [0.229, 0.224, 0.225]}


def fail(message, code=2):
    """One line on stderr; exit 2 for bad arguments, 1 for other failures, as verydeep's CLI does."""
    print(f'error: {WHERE}: {message}', file=sys.stderr)
    sys.exit(code)


def parse_args(argv):
    p = argparse.ArgumentParser(prog=WHERE, description='Converts torchvision VGG weights to a safetensors file for verydeep (class names and preprocessing included).')
    p.add_argument('--arch', required=True, help='vgg11, vgg13, vgg16 or vgg19 (configurations A, B, D, E)')
    p.add_argument('--out', required=True, help='the safetensors file to write')
    source = p.add_mutually_exclusive_group()
    source.add_argument('--state-dict', metavar='PATH', help="a local torch state_dict file (.pth) of that arch, e.g. torchvision's download, for machines without network")
    source.add_argument('--random', action='store_true', help='random weights (torchvision\'s initialisation, seeded): no download; for tests')
    p.add_argument('--seed', type=int, default=0, help='the seed of --random (0)')
    # argparse's own errors are several lines and exit 2; make them one line
    p.error = lambda message: fail(f'{message} (--help lists the options)')
    return p.parse_args(argv)


def check_args(args):
    arch = args.arch
    if arch.endswith('_bn') and arch[:-3] in ARCHS:
        fail(f"--arch {arch} has batch normalisation, which verydeep's VGG does not have (nor the paper's); use one of {', '.join(ARCHS)}")
    if arch not in ARCHS:
        fail(f"--arch expects one of {', '.join(ARCHS)}, got {arch!r}")
    out_dir = os.path.dirname(os.path.abspath(args.out))
    if os.path.isdir(args.out):
        fail(f'--out {args.out} is a folder; expected a file path such as {arch}.safetensors')
    if not os.path.isdir(out_dir):
        fail(f'--out {args.out}: the folder {out_dir} does not exist')
    if args.state_dict is not None and not os.path.isfile(args.state_dict):
        fail(f'--state-dict {args.state_dict} is not a file')


def weights_enum(torchvision, arch):
    """VGG16_Weights.IMAGENET1K_V1 and the like: its meta carries the class names, no download needed."""
    return getattr(torchvision.models, f'{arch.upper()}_Weights').IMAGENET1K_V1


def build(args):
    import torch
    import torchvision
    weights = weights_enum(torchvision, args.arch)
    constructor = getattr(torchvision.models, args.arch)
    if args.random:
        torch.manual_seed(args.seed)
        return constructor(weights=None).state_dict(), weights, f'random (torchvision {args.arch} initialisation, seed {args.seed})'
    if args.state_dict is not None:
        try:
            state = torch.load(args.state_dict, map_location='cpu')
        except Exception as e:  # a damaged or foreign file: one line that names it
            fail(f'--state-dict {args.state_dict} is not a torch state_dict: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ""}', 1)
        if isinstance(state, dict) and 'state_dict' in state and isinstance(state['state_dict'], dict):
            state = state['state_dict']
        if not isinstance(state, dict):
            fail(f'--state-dict {args.state_dict} holds a {type(state).__name__}, not a state_dict (a dict of tensors)', 1)
        model = constructor(weights=None)
        try:
            model.load_state_dict(state)  # strict: every name and shape of that arch
        except RuntimeError as e:
            fail(f'--state-dict {args.state_dict} does not fit torchvision {args.arch}: ' + ' '.join(str(e).split())[:600], 1)
        return model.state_dict(), weights, f'torchvision {args.arch} state_dict {os.path.basename(args.state_dict)}'
    try:
        model = constructor(weights=weights, progress=False)
    except Exception as e:  # no network, a proxy, a full disk: say what else works
        fail(f'cannot get torchvision\'s pretrained {type(weights).__name__}.IMAGENET1K_V1 ({weights.url}): {type(e).__name__}: {" ".join(str(e).split())[:300]}; '
             f'download that file elsewhere and pass it with --state-dict PATH, or use --random for random weights', 1)
    return model.state_dict(), weights, f'torchvision {type(weights).__name__}.IMAGENET1K_V1'


def main(argv):
    args = parse_args(argv)
    check_args(args)
    import safetensors_io
    state, weights, source = build(args)
    classes = list(weights.meta['categories'])
    if len(classes) != 1000 or not all(isinstance(c, str) for c in classes):
        fail(f'{type(weights).__name__}.IMAGENET1K_V1.meta["categories"] has {len(classes)} entries; expected 1,000 names', 1)
    metadata = {
        'naming': 'torchvision',
        'preprocessing': json.dumps(PREPROCESSING, separators=(',', ':')),
        'classes': json.dumps(classes, ensure_ascii=False, separators=(',', ':')),
        'source': source,
    }
    # the state_dict of a VGG holds parameters only (no buffers), so every entry is a weight or bias
    safetensors_io.save(args.out, {k: v for k, v in state.items()}, metadata)
    count = sum(v.numel() for v in state.values())
    print(f'wrote {args.out}: {args.arch}, {count:,} parameters in {len(state)} tensors, {len(classes)} class names; {source}')


if __name__ == '__main__':
    main(sys.argv[1:])
