#!/usr/bin/env bash
# The "Done when" of the cluster issue, by hand from the CLI, on this machine (127.0.0.1):
#   two `./laconic worker` processes; `./laconic eval` with and without --cluster gives the same samples.jsonl, also
#   when one worker is killed (kill -9) midway; `./laconic compress rl` (LoRA) with and without --cluster gives the
#   same metrics.jsonl and eval.jsonl (apart from their wall-clock `time` field) and the same adapter bytes.
# Model: the shipped gym long reasoner; data: a small `./laconic gym data` set. Every worker this script starts is
# stopped by its own process id when it ends (also on failure or Ctrl-C).
# Usage: tools/cluster_done_when.sh [WORK_DIR]   (default: a fresh temporary directory)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
laconic="$root/laconic"
work="${1:-$(mktemp -d /tmp/laconic-cluster.XXXXXX)}"
mkdir -p "$work"
cd "$work"
pids=()
stop_all() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done; }
trap stop_all EXIT
members=127.0.0.1:5701,127.0.0.1:5702

worker() { # PORT: starts a worker in the background, logs to worker-PORT.log, waits until it takes chunks
  "$laconic" worker --port "$1" --cluster "$members" > "worker-$1.log" 2>&1 &
  pids+=($!); eval "pid_$1=$!"
  until grep -q 'waiting for chunks' "worker-$1.log"; do sleep 0.2; done
}
same() { # LABEL A B
  if cmp "$2" "$3"; then echo "SAME  $1"; else echo "DIFFERENT  $1"; exit 1; fi; }
notime() { sed -E 's/"time":[0-9.eE+-]+,?//' "$1"; }

[ -d long-reasoner ] || unzip -q -o "$root/app/target/laconic.jar" 'dev/laconic/compression/gym/models/long-reasoner/*' -d jar \
  && mv jar/dev/laconic/compression/gym/models/long-reasoner long-reasoner && rm -rf jar
[ -f gym/test.jsonl ] || "$laconic" gym data --out gym --train 40 --dev-per-level 2 --test-per-level 9 2> gym.log
echo "== load: $(uptime)"
worker 5701; worker 5702
until grep -q '127.0.0.1:5702 joined' worker-5701.log; do sleep 0.2; done
eval_args=(eval --model long-reasoner --data gym/test.jsonl --format gym --max-tokens 300 --batch 4)

echo "== eval, in process (D0)"
rm -rf D0 D1 D2; time "$laconic" "${eval_args[@]}" --out D0 2> D0.log
echo "== eval, --cluster $members (D1)"
time "$laconic" "${eval_args[@]}" --out D1 --cluster "$members" 2> D1.log
grep '^cluster:' D1.log
same "D0/samples.jsonl D1/samples.jsonl" D0/samples.jsonl D1/samples.jsonl; same "D0/summary.json D1/summary.json" D0/summary.json D1/summary.json

echo "== eval, --cluster, the worker on 5702 killed (kill -9) after its first chunk (D2)"
before=$(grep -c ' done in ' worker-5702.log || true)
"$laconic" "${eval_args[@]}" --out D2 --cluster "$members" 2> D2.log & trainer=$!
until [ "$(grep -c ' done in ' worker-5702.log || true)" -gt "$before" ]; do sleep 0.1; done
kill -9 "$pid_5702"; echo "killed worker 5702 (pid $pid_5702) after: $(grep ' done in ' worker-5702.log | tail -n1)"
wait "$trainer"
grep '^cluster:' D2.log
same "D0/samples.jsonl D2/samples.jsonl" D0/samples.jsonl D2/samples.jsonl

echo "== compress rl (LoRA rank 2), in process (R0) and --cluster (R1); the worker on 5702 started again"
worker 5702
until grep -q '127.0.0.1:5702 joined' worker-5701.log; do sleep 0.2; done
rl_args=(compress rl --model long-reasoner --data gym/train.jsonl --format gym --alpha 0.4 --prompts-per-rollout 2 --samples 2
         --max-tokens 400 --lr 1e-3 --minibatch 4 --rollouts 2 --gen-batch 2 --eval gym/dev.jsonl --eval-every 1 --eval-limit 2 --lora-rank 2)
rm -rf R0 R1
time "$laconic" "${rl_args[@]}" --out R0 2> R0.log
time "$laconic" "${rl_args[@]}" --out R1 --cluster "$members" 2> R1.log
grep '^cluster:' R1.log
grep 'policy version' worker-570*.log
same "R0/metrics.jsonl R1/metrics.jsonl (without time)" <(notime R0/metrics.jsonl) <(notime R1/metrics.jsonl)
same "R0/eval.jsonl R1/eval.jsonl (without time)" <(notime R0/eval.jsonl) <(notime R1/eval.jsonl)
same "R0/final/adapter_model.safetensors R1/final/adapter_model.safetensors" R0/final/adapter_model.safetensors R1/final/adapter_model.safetensors

echo "== warnings in any log (none expected):"
grep -i 'warn' ./*.log || echo "none"
echo "== all the same; logs in $work"
