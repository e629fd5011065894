#!/usr/bin/python3
"""Python's ONNX tools on an ONNX file (verydeep's io.saveOnnx export, for the interop
suite): prints one JSON line per file, in order, with what the test checks (several files
in one process, as importing onnx takes seconds).

  checker        'ok' when onnx.checker.check_model(onnx.load(path), full_check=True) passes
                 (full_check also runs strict shape inference), else its message
  opsets         {domain: version} of opset_import ('' is the default domain)
  ir_version     the file's IR version
  inputs         [{name, shape}] of the graph's inputs that are not initializers; a dim is
                 its dim_value, or its dim_param (a string) for a symbolic one
  outputs        [{name, shape}] as the file declares them
  inferred       [{name, shape}] of the outputs after onnx.shape_inference.infer_shapes
                 (strict_mode, check_type): what the graph computes, not what it declares
  metadata       {key: value} of metadata_props
  ops            {op_type: count} of the graph's nodes
  initializers   how many, and their float values in all

Usage: /usr/bin/python3 onnx_check.py FILE.onnx...
"""
import json
import sys

import numpy
import onnx
from onnx import shape_inference


def dims(value_info):
    shape = value_info.type.tensor_type.shape
    return [d.dim_param if d.HasField('dim_param') else (d.dim_value if d.HasField('dim_value') else None) for d in shape.dim]


def check(path):
    model = onnx.load(path)
    try:
        onnx.checker.check_model(model, full_check=True)
        checker = 'ok'
    except Exception as e:  # the checker's ValidationError and inference's InferenceError both count
        checker = f'{type(e).__name__}: {e}'
    try:
        inferred_model = shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
        inferred = [{'name': o.name, 'shape': dims(o)} for o in inferred_model.graph.output]
    except Exception as e:
        inferred = f'{type(e).__name__}: {e}'
    g = model.graph
    init_names = {i.name for i in g.initializer}
    ops = {}
    for n in g.node:
        ops[n.op_type] = ops.get(n.op_type, 0) + 1
    return {
        'checker': checker,
        'opsets': {o.domain: o.version for o in model.opset_import},
        'ir_version': model.ir_version,
        'inputs': [{'name': i.name, 'shape': dims(i)} for i in g.input if i.name not in init_names],
        'outputs': [{'name': o.name, 'shape': dims(o)} for o in g.output],
        'inferred': inferred,
        'metadata': {p.key: p.value for p in model.metadata_props},
        'ops': ops,
        'initializers': len(g.initializer),
        'initializer_values': sum(int(numpy.prod(i.dims)) for i in g.initializer),
    }


def main(argv):
    if not argv:
        raise SystemExit(__doc__)
    for path in argv:
        print(json.dumps(check(path)), flush=True)


if __name__ == '__main__':
    main(sys.argv[1:])
