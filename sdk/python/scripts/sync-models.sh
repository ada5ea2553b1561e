#!/usr/bin/env bash
# Copies the models generated from the spec (gen/python/models.py, made by
# `make generate`) into the package. Run it before building or testing the
# package; tests/test_models.py checks that the copy is the generated file.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cp "$here/../../gen/python/models.py" "$here/memoryd/models.py"
