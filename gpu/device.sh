#!/usr/bin/env bash
# Run ON THE GPU DEVICE (Keras 3 on JAX; TensorFlow is not there). Runs live in .gpu_runs/, an ignored folder
# that survives between calls while the machine stays warm (it is never carried, so never overwritten).
#   bash gpu/device.sh train RECIPE...   train within BUDGET seconds (default 540); call again to resume
#   bash gpu/device.sh status            what is finished / cut off
#   bash gpu/device.sh export [FIRST]    bundle finished runs into 15 MiB parts, copy 4 of them (from FIRST) to $OUT
# Back here: python -m fer_core runs unbundle <files_at of each export call>  (then evaluate on the exact CSV)
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-python3}  # PY and SKIP_WHEELS=1 let the script be rehearsed on any machine with Keras and JAX
if [ -z "${SKIP_WHEELS:-}" ]; then
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site
fi
export KERAS_BACKEND=jax PYTHONUNBUFFERED=1 FER_MODELS_DIR=$PWD/.gpu_runs
export XLA_PYTHON_CLIENT_MEM_FRACTION=0.9 TF_CPP_MIN_LOG_LEVEL=2
mkdir -p .gpu_runs "${OUT:-/tmp/out}"
case "${1:-}" in
  train)
    shift
    nvidia-smi --query-gpu=name,memory.used,memory.total --format=csv,noheader 2>/dev/null || echo "no GPU visible"
    "$PY" -m fer_core train-batch "$@" --budget "${BUDGET:-540}" | tee "${OUT:-/tmp/out}/batch.txt"
    ;;
  status)
    for d in .gpu_runs/*/; do
      echo "$(basename "$d") $("$PY" -c "import json,sys; r=json.load(open(sys.argv[1])); print(r['status'], r['epochs_run'], r['timings_s'])" "$d/run.json" 2>/dev/null \
        || cat "$d/checkpoints/state.json" 2>/dev/null | "$PY" -c "import json,sys; print('cut off after epoch', json.load(sys.stdin)['epochs_done'])")"
    done
    ;;
  export)
    first=${2:-0}
    if [ ! -f /tmp/fer_bundle/bundle.json ]; then
      "$PY" -m fer_core runs bundle $(ls -d .gpu_runs/*/ | grep -v '\.partial/$') --out /tmp/fer_bundle --json >/dev/null || exit 1
    fi
    cp /tmp/fer_bundle/bundle.json "$OUT/"
    "$PY" - "$first" <<'PY'
import json, os, shutil, sys
first = int(sys.argv[1])
parts = json.load(open("/tmp/fer_bundle/bundle.json"))["parts"]
for p in parts[first:first + 4]:
    shutil.copy(f"/tmp/fer_bundle/{p['file']}", os.environ["OUT"])
print(f"copied parts {first}..{min(first + 4, len(parts)) - 1} of {len(parts)}")
PY
    ;;
  *) echo "usage: bash gpu/device.sh train RECIPE... | status | export [FIRST]"; exit 2 ;;
esac
