#!/usr/bin/env bash
# The adapter's overhead per step (docs/scale-out.md): train_reference.py with and without the adapter, 1 and 2 ranks
# (torchrun, gloo, CPU), on mels written by the engine's mels verb. Prints each run's timing line.
# usage: tools/reference/measure_adapter_overhead.sh MELS_FILELIST [HPARAMS=tiny] [ITERATIONS=40]
set -euo pipefail
filelist=$1; hparams=${2:-tiny}; iterations=${3:-40}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python=${TACOTRON_PYTHON:-/usr/bin/python3}
common=(--filelist "$filelist" --hparams "$hparams" --iterations "$iterations" --iters-per-checkpoint 0 --attention-every 100 --timing)
for ranks in 1 2; do
  for mode in adapter no-adapter; do
    extra=(--run "$work/run-$ranks-$mode"); [ "$mode" = no-adapter ] && extra=(--no-adapter)
    if [ "$ranks" = 1 ]; then launch=("$python"); else
      launch=(torchrun --nproc_per_node 2 --master_addr 127.0.0.1 --master_port $((29600 + RANDOM % 300)) --redirects 1 --tee 1 --log_dir "$work/logs-$mode")
    fi
    printf '%s ranks=%s %s: ' "$hparams" "$ranks" "$mode"
    OMP_NUM_THREADS=1 "${launch[@]}" "$here/train_reference.py" "${common[@]}" -o "$work/out-$ranks-$mode" "${extra[@]}" 2>&1 \
      | grep -o 'timing: .*'
  done
done
