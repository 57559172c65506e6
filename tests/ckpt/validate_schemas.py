"""Validates a checkpoints folder against checkpoints-schema/*.schema.json.

usage: validate_schemas.py SCHEMA_DIR CHECKPOINTS_DIR   (exit 1 on the first violation)"""
import json
import pathlib
import sys

import jsonschema

schemas, root = map(pathlib.Path, sys.argv[1:3])
load = lambda p: json.loads(p.read_text())
checked = 0
jsonschema.validate(load(root / "index.json"), load(schemas / "index.schema.json"))
for ckpt in sorted(root.glob("itr*")):
    jsonschema.validate(load(ckpt / "state.json"), load(schemas / "state.schema.json"))
    jsonschema.validate(load(ckpt / "manifest.json"), load(schemas / "manifest.schema.json"))
    checked += 1
if not checked:
    sys.exit(f"no checkpoints in {root}")
print(f"{checked} checkpoint(s) valid")
