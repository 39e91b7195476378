#!/bin/sh
# Runs each measurement in a fresh process. Usage: tools/RunsBench/bench.sh [artifacts-path]
set -e
ART=${1:-/tmp/art-runsbench}
DIR=$(dirname "$0")
dotnet build -c Release "$DIR" --artifacts-path "$ART" -v q -clp:ErrorsOnly >/dev/null
DLL="$ART/bin/RunsBench/release/RunsBench.dll"
F=${TMPDIR:-/tmp}/runs-bench-metrics.jsonl
for m in write read read last since; do dotnet "$DLL" $m "$F"; done
rm -f "$F"
