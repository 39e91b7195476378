#!/usr/bin/env bash
# Makes a second held-out set in the demo corpus's voice, for judging a demo checkpoint on sentences it never saw
# (docs/demo.md): sentences from tools/demo_sentences.py with another seed, minus every sentence of the demo corpus
# (training and validation), spoken and trimmed exactly as tools/make-demo-corpus.sh does.
#
# Needs (Debian/Ubuntu):  apt-get install -y espeak-ng sox python3
# Usage:  tools/make-heldout-set.sh [OUT_DIR] [COUNT] [SEED]     (default samples/heldout-2, 30, 7031; OUT_DIR replaced)
# Output: OUT_DIR/metadata.csv, OUT_DIR/wavs/<id>.wav, OUT_DIR/validation.txt (every id: the whole set is held out),
#         OUT_DIR/README.md. Use it with: Get-AttentionDiagnostics -Checkpoint <ckpt> -Dataset OUT_DIR -Count COUNT
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$(realpath -m "${1:-$here/../samples/heldout-2}")"
count="${2:-30}"
seed="${3:-7031}"
corpus="$here/../samples/demo-corpus/metadata.csv"
min_seconds=1.0
max_seconds=3.0
voice=en-us
speed=205
pitch=50

for tool in espeak-ng sox soxi python3; do
    command -v "$tool" >/dev/null || { echo "make-heldout-set: '$tool' not found (apt-get install -y espeak-ng sox python3)" >&2; exit 1; }
done

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
rm -rf "$out"
mkdir -p "$out/wavs"

# 10× the count as candidates; drop any sentence the demo corpus has (its normalized text, column 3).
python3 "$here/demo_sentences.py" sentences "$((count * 10))" "$seed" > "$tmp/candidates.txt"
cut -d'|' -f3 "$corpus" | sort -u > "$tmp/known.txt"
awk -F'|' 'NR == FNR { known[$0] = 1; next } !($2 in known)' "$tmp/known.txt" "$tmp/candidates.txt" > "$tmp/sentences.txt"

: > "$out/metadata.csv"
kept=0 spoken=0 dropped=0
while IFS='|' read -r text normalized && [ "$kept" -lt "$count" ]; do
    spoken=$((spoken + 1))
    espeak-ng -v "$voice" -s "$speed" -p "$pitch" -w "$tmp/raw.wav" "$normalized"
    sox "$tmp/raw.wav" -r 22050 -b 16 -c 1 -e signed-integer "$tmp/trim.wav" \
        silence 1 0.01 0.5% reverse silence 1 0.01 0.5% reverse
    dur="$(soxi -D "$tmp/trim.wav")"
    if awk -v d="$dur" -v lo="$min_seconds" -v hi="$max_seconds" 'BEGIN { exit !(d < lo || d > hi) }'; then dropped=$((dropped + 1)); continue; fi
    kept=$((kept + 1))
    id="$(printf 'HELD-%04d' "$kept")"
    mv "$tmp/trim.wav" "$out/wavs/$id.wav"
    printf '%s|%s|%s\n' "$id" "$text" "$normalized" >> "$out/metadata.csv"
done < "$tmp/sentences.txt"

cut -d'|' -f1 "$out/metadata.csv" > "$out/validation.txt"
printf '%s\n' '# written by Get-AttentionDiagnostics (mel cache), never committed' '.melcache/' > "$out/.gitignore"
espeak_version="$(espeak-ng --version | head -n 1 | sed "s/ *Data at.*//")"
total="$(for f in "$out"/wavs/*.wav; do soxi -D "$f"; done | awk '{ s += $1 } END { printf "%.1f", s }')"
shown="$(realpath -m --relative-to="$here/.." "$out")"
cat > "$out/README.md" <<EOR
# Second held-out set

$kept sentences in the demo corpus's voice that are not in the demo corpus (neither its training nor its validation
rows), made by \`tools/make-heldout-set.sh $shown $count $seed\` — \`tools/demo_sentences.py sentences $((count * 10)) $seed\`,
spoken by \`espeak-ng -v $voice -s $speed -p $pitch\` ($espeak_version), trimmed with sox like the demo corpus,
clips outside $min_seconds-$max_seconds s dropped ($dropped of $spoken). $total s of audio.
\`validation.txt\` lists every id, so the whole set is the held-out split:

    Get-AttentionDiagnostics -Checkpoint runs/demo/checkpoints/<newest>.ckpt -Dataset $shown -Count $count
EOR
echo "make-heldout-set: $kept clips, $total s in $out ($dropped of $spoken dropped)"
