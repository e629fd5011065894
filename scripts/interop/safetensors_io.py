"""safetensors in and out for the interop scripts, with nothing but the standard library
and torch (Debian 12 packages no `safetensors` for Python).

The format (Hugging Face's): an 8-byte little-endian header length n, n bytes of JSON
mapping each tensor's name to {dtype, shape, data_offsets}, plus an optional
"__metadata__" object of string -> string, then the raw little-endian data. We write F32
only, as verydeep does, and read F32. Writes are atomic: a temporary file in the same
folder, flushed, then renamed over the target, so a killed run never leaves half a file.
"""
import json
import os
import struct

import torch


def save(path, tensors, metadata=None):
    """Writes {name: tensor} (any float dtype, converted to float32) with string metadata."""
    header = {}
    blobs = []
    offset = 0
    for name, t in tensors.items():
        data = t.detach().to(torch.float32).contiguous().cpu().numpy().astype('<f4').tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(t.shape), 'data_offsets': [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    if metadata:
        for k, v in metadata.items():
            if not isinstance(v, str):
                raise TypeError(f'safetensors_io.save: metadata {k!r} must be a string, got {type(v).__name__}')
        header['__metadata__'] = dict(metadata)
    text = json.dumps(header, separators=(',', ':')).encode('utf-8')
    text += b' ' * (-len(text) % 8)
    tmp = f'{path}.tmp-{os.getpid()}'
    with open(tmp, 'wb') as f:
        f.write(struct.pack('<Q', len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def load(path):
    """Returns ({name: float32 tensor}, metadata) from a safetensors file of F32 tensors."""
    with open(path, 'rb') as f:
        raw = f.read()
    (n,) = struct.unpack('<Q', raw[:8])
    header = json.loads(raw[8:8 + n])
    metadata = header.pop('__metadata__', {}) or {}
    base = 8 + n
    tensors = {}
    for name, info in header.items():
        if info['dtype'] != 'F32':
            raise ValueError(f'safetensors_io.load: {path}: tensor {name!r} is {info["dtype"]}; expected F32')
        begin, end = info['data_offsets']
        buf = bytearray(raw[base + begin:base + end])
        t = torch.frombuffer(buf, dtype=torch.float32) if end > begin else torch.empty(0)
        tensors[name] = t.reshape(info['shape']).clone()
    return tensors, metadata
