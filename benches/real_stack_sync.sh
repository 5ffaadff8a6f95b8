#!/usr/bin/env bash
# Sync benchmark on real electrs (and the sandbox beside it): starts elementsd + electrs from
# ../shared/real-stack/ on free loopback ports in a temporary folder, then runs
# `wallet-core/examples/sync_real.rs` through ../shared/bench/latency-proxy.py.
# usage: benches/real_stack_sync.sh [--sizes 65,1000] [--concurrency N] [--runs N]
set -euo pipefail
cd "$(dirname "$0")/.."
stack_dir="$(mktemp -d)"
cleanup() { ../shared/real-stack/stop-stack.sh "$stack_dir/stack" >/dev/null 2>&1 || true; rm -rf "$stack_dir"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
RPC_PORT=$(free_port) HTTP_PORT=$(free_port) ELECTRUM_PORT=$(free_port) MONITORING_PORT=$(free_port) \
    ../shared/real-stack/start-stack.sh "$stack_dir/stack" >&2
# shellcheck disable=SC1090
CLI=$(sed -n 's/^CLI=//p' "$stack_dir/stack/stack.env")
ESPLORA_URL=$(sed -n 's/^ESPLORA_URL=//p' "$stack_dir/stack/stack.env")
ELECTRUM_ADDR=$(sed -n 's/^ELECTRUM_ADDR=//p' "$stack_dir/stack/stack.env")
# start-stack.sh rescans before mining: rescan again so that the node's wallet owns the free coins.
$CLI rescanblockchain >/dev/null
cargo run -q -p wallet-core --release --example sync_real -- \
    --cli "$CLI" --esplora "$ESPLORA_URL" --electrum "$ELECTRUM_ADDR" \
    --proxy ../shared/bench/latency-proxy.py "$@"
