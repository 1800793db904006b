#!/usr/bin/env bash
# Run HERE before using the GPU device: builds the two ignored folders a device call carries.
#   .carry/fer2013.ferpack.npz  Training + PublicTest as WebP q95 (~36 MB; PrivateTest stays behind)
#   .whl/                       Keras and what it lacks there (namex, optree), Pillow to decode the pack
# Then: run(command="bash gpu/device.sh train gpu/recipes/0*.json", carry=[".carry", ".whl"])
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
DATA=${FER_DATA:-../shared/data/fer2013.csv.gz}
mkdir -p .carry .whl
if [ ! -f .carry/fer2013.ferpack.npz ]; then
  "$PY" -m fer_core data pack "$DATA" .carry/fer2013.ferpack.npz
fi
KERAS=$("$PY" -c "import keras; print(keras.__version__)")
"$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
  --platform manylinux2014_x86_64 -d .whl "keras==$KERAS" namex==0.1.0 optree==0.20.0 pillow==13.0.0
du -sh .carry .whl
