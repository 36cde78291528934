#!/usr/bin/python3
"""Validates ONNX files with the reference `onnx` checker (full check with shape inference).

    /usr/bin/python3 scripts/check_onnx.py model.onnx [more.onnx ...]

An independent check that attnvision emits standard, well-formed ONNX (default domain only).
"""
import sys

import onnx

ok = True
for path in sys.argv[1:]:
    m = onnx.load(path)
    try:
        onnx.checker.check_model(m, full_check=True)
        domains = {n.domain for n in m.graph.node}
        assert domains <= {''}, f'non-default domains: {domains}'
        ops = sorted({n.op_type for n in m.graph.node})
        print(f'{path}: OK (opset {m.opset_import[0].version}, {len(m.graph.node)} nodes, ops: {", ".join(ops)})')
    except Exception as e:  # noqa: BLE001
        ok = False
        print(f'{path}: FAILED: {e}')
sys.exit(0 if ok else 1)
