#!/usr/bin/env bash
# Median wall time (process start to exit) of `address new` and `address inspect`.
# Usage: benches/cli_latency.sh [RUNS]   (default 50). Builds the release binary first.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-50}"
cargo build --release -q
bin="$PWD/target/release/liquid-otc"
home="$(mktemp -d)"
trap 'rm -rf "$home"' EXIT
export LIQUID_OTC_HOME="$home/data" NO_COLOR=1
printf 'bench passphrase\n' > "$home/pass"
"$bin" --network regtest wallet create --name bench --passphrase-file "$home/pass" \
    --mnemonic-out "$home/words" >/dev/null 2>&1
addr="$("$bin" --network regtest address new 2>/dev/null)"

median_ms() {
    local -a times=()
    for _ in $(seq "$runs"); do
        local start end
        start=$(date +%s%N)
        "$@" >/dev/null 2>&1
        end=$(date +%s%N)
        times+=($(( (end - start) / 1000 )))
    done
    printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.2f", m/1000}'
}

echo "runs: $runs"
echo "address new      median $(median_ms "$bin" --network regtest address new) ms"
echo "address inspect  median $(median_ms "$bin" address inspect "$addr") ms"
