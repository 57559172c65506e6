"""Python side of tests/io/pth_test.cpp (PythonRoundTrip).

usage: pth_roundtrip.py OURS.pth REFERENCE.pth OUT_DIR

Checks that torch.load reads our export as exactly the reference state_dict and that
load_state_dict(strict=True) semantics hold (same keys, shapes, dtypes); then re-saves it as
an OrderedDict (like nn.Module.state_dict()) in the zip and the legacy formats for the C++ side.
"""
import collections
import sys

import torch


def main():
    ours_path, reference_path, out_dir = sys.argv[1:4]
    ours = torch.load(ours_path)
    reference = torch.load(reference_path)
    if set(ours) != set(reference):
        sys.exit(f"key sets differ: only ours {sorted(set(ours) - set(reference))[:5]}, "
                 f"only reference {sorted(set(reference) - set(ours))[:5]}")
    for key, value in reference.items():
        mine = ours[key]
        if mine.shape != value.shape or mine.dtype != value.dtype or not torch.equal(mine, value):
            sys.exit(f"{key}: differs ({mine.shape} {mine.dtype} vs {value.shape} {value.dtype})")
    if list(ours) != list(reference):
        sys.exit("keys are not in state_dict() order")
    state = collections.OrderedDict(ours)
    state._metadata = collections.OrderedDict({"": {"version": 1}})
    torch.save(state, f"{out_dir}/python_zip.pth")
    torch.save(state, f"{out_dir}/python_legacy.pth", _use_new_zipfile_serialization=False)
    print(f"ok: {len(ours)} tensors")


if __name__ == "__main__":
    main()
