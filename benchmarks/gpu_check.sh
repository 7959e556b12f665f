#!/usr/bin/env bash
# The GPU proof in one command (issue: CuPy and torch-CUDA never ran on a GPU).
#
#   bash benchmarks/gpu_check.sh                 on a CUDA machine: CuPy, torch+CUDA, JAX+CUDA
#   bash benchmarks/gpu_check.sh --dry-run       the same steps on the CPU (torch CPU, NumPy in
#                                                place of CuPy, small sizes): nox -s gpu-check-dry-run
#   bash benchmarks/gpu_check.sh --fetch-wheels  here, before: the pure-Python wheels the GPU
#                                                machine lacks, into .whl/ (git-ignored; carry it)
#
# Steps: (1) the conformance suite on CuPy, on torch with --device cuda, and the portable-stream
# tests against JAX on the GPU; (2)-(3) benchmarks/gpu_check.py: on-device generation (1 GiB,
# no host array, no host-to-device copy, the int32 kernel's peak) and timings against
# torch.nn.init, CuPy's RNG and jax.nn.initializers; (4) a one-screen summary. Everything it
# writes goes under $OUT (a temporary folder if unset). Exit status 1 if any step failed.
set -uo pipefail
cd "$(dirname "$0")/.."

mode=gpu
case "${1:-}" in
  "") ;;
  --dry-run) mode=dry ;;
  --fetch-wheels) mode=fetch ;;
  *) echo "usage: bash benchmarks/gpu_check.sh [--dry-run | --fetch-wheels]" >&2; exit 2 ;;
esac
PY=${PYTHON:-python3}
# What the conformance suite needs beyond the GPU image's packages (pure Python wheels).
WHEELS=(array-api-compat==1.16.0 array-api-strict==2.6.1)

if [ "$mode" = fetch ]; then
  grep -qx "/.whl/" .git/info/exclude 2>/dev/null || echo "/.whl/" >> .git/info/exclude
  exec "$PY" -m pip download --no-deps --only-binary=:all: --python-version 3.12 -d .whl "${WHEELS[@]}"
fi

OUT=${OUT:-$(mktemp -d)}
mkdir -p "$OUT"
# JAX would otherwise take 75 % of the GPU's memory at import, starving torch and CuPy.
export XLA_PYTHON_CLIENT_PREALLOCATE=false PYTHONUNBUFFERED=1
failed=()
passed=()

step() {  # step NAME SECONDS COMMAND...: run with a time limit, log to $OUT/NAME.log
  local name=$1 limit=$2
  shift 2
  local start=$SECONDS
  echo "== $name: $*"
  timeout "$limit" "$@" > "$OUT/$name.log" 2>&1
  local rc=$?
  local took=$((SECONDS - start))
  if [ $rc -eq 0 ]; then
    passed+=("$name (${took}s)")
    tail -n 1 "$OUT/$name.log"
  else
    [ $rc -eq 124 ] && echo "   timed out after ${limit}s" >> "$OUT/$name.log"
    failed+=("$name (exit $rc, ${took}s)")
    tail -n 25 "$OUT/$name.log"
  fi
}

# Carried wheels (see --fetch-wheels) go first on the path.
if compgen -G ".whl/*.whl" > /dev/null; then
  "$PY" -m pip install -q --no-index --no-deps --no-compile --upgrade --target /tmp/anyinit-site \
    .whl/*.whl && export PYTHONPATH=/tmp/anyinit-site${PYTHONPATH:+:$PYTHONPATH}
fi
# The checkout, with its C kernel built there; where it cannot be, the source tree (NumPy kernel).
if "$PY" -m pip install -q --no-deps --no-build-isolation -e . > "$OUT/install.log" 2>&1; then
  echo "== installed the checkout (pip install -e .)"
else
  export PYTHONPATH=$PWD/src${PYTHONPATH:+:$PYTHONPATH}
  echo "== pip install -e . failed (see install.log): using src/ without the C kernel"
fi

pytest_run=("$PY" -m pytest -q -p no:cacheprovider)
if [ "$mode" = gpu ]; then
  step tests-cupy 210 "${pytest_run[@]}" --backend=cupy tests
  step tests-torch-cuda 210 "${pytest_run[@]}" --backend=torch --device=cuda tests
  step tests-jax-gpu 90 "${pytest_run[@]}" --backend=jax --device=gpu tests/test_portable.py
  step measure 240 "$PY" benchmarks/gpu_check.py --out "$OUT"
else
  # The same commands on the CPU, on a part of the suite that exercises every backend path.
  subset=(tests/test_random.py tests/test_golden.py)
  step tests-numpy-for-cupy 300 "${pytest_run[@]}" --backend=numpy "${subset[@]}"
  step tests-torch-cpu 300 "${pytest_run[@]}" --backend=torch --device=cpu "${subset[@]}"
  step tests-jax-cpu 300 "${pytest_run[@]}" --backend=jax --device=cpu tests/test_portable.py
  step measure 300 "$PY" benchmarks/gpu_check.py --dry-run --out "$OUT"
fi

echo
echo "=================== GPU check ($mode) summary ==================="
[ -f "$OUT/gpu_check.md" ] && grep -E "^\| .*(FAIL|NO) \|" "$OUT/gpu_check.md"
for p in "${passed[@]}"; do echo "passed: $p"; done
for f in "${failed[@]}"; do echo "FAILED: $f"; done
echo "logs and tables: $OUT"
[ ${#failed[@]} -eq 0 ]
