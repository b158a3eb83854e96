#!/usr/bin/env bash
# Benchmark (not a test): gym eval throughput in process and with 1, 2, 3 local `./laconic worker`s, and the
# per-chunk overhead of the cluster. Local workers share this machine's cores with each other and with the trainer,
# so on one machine the figures measure the cluster's overhead, not its scaling.
#   throughput: the shipped long reasoner on PROBLEMS gym test problems (T 0.7, MAX tokens, --batch BATCH = one chunk);
#               each worker set is warmed up first (model loaded, JIT compiled) by one small eval, which is not timed.
#   overhead:   the same eval with --max-tokens 1 --batch 1 (one chunk per problem, one token each) on 64 and 128
#               problems, in process and on one warm worker; the slope difference is the cost per chunk
#               (JVM start and connection cancel out).
# Usage: tools/bench_cluster.sh [PROBLEMS_PER_LEVEL (8)] [MAX_TOKENS (200)] [BATCH (4)]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
laconic="$root/laconic"
per_level="${1:-8}"; max="${2:-200}"; batch="${3:-4}"
work="$(mktemp -d /tmp/laconic-bench-cluster.XXXXXX)"
cd "$work"
pids=()
stop_all() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done; pids=(); }
trap 'stop_all; rm -rf "$work"' EXIT
ports=(5711 5712 5713)

unzip -q -o "$root/app/target/laconic.jar" 'dev/laconic/compression/gym/models/long-reasoner/*' -d jar
mv jar/dev/laconic/compression/gym/models/long-reasoner long-reasoner && rm -rf jar
"$laconic" gym data --out gym --train 8 --dev-per-level 1 --test-per-level 32 2> /dev/null
python3 - "$per_level" <<'EOF'
import json, sys
per = int(sys.argv[1]); n = {}
with open("gym/test.jsonl") as f, open("bench.jsonl", "w") as b, open("many.jsonl", "w") as m:
    rows = [json.loads(l) for l in f]
    for r in rows:
        d = r["difficulty"]; n[d] = n.get(d, 0) + 1
        if n[d] <= per: b.write(json.dumps(r) + "\n")
    for r in rows: m.write(json.dumps(r) + "\n")   # 128 problems for the overhead runs
EOF

seconds() { local t0 t1; t0=$(date +%s.%N); "$@" > /dev/null 2>&1; t1=$(date +%s.%N); echo "$t1 - $t0" | bc -l; }
tokens() { python3 -c 'import json,sys; print(sum(json.loads(l)["tokens"] for l in open(sys.argv[1])))' "$1/samples.jsonl"; }
evalrun() { # OUT DATA MAX BATCH [--cluster ...]
  local out=$1 data=$2 m=$3 b=$4; shift 4
  rm -rf "$out"; seconds "$laconic" eval --model long-reasoner --data "$data" --format gym --max-tokens "$m" --batch "$b" --out "$out" "$@"
}
members() { local n=$1 s="" i; for ((i = 0; i < n; i++)); do s+="${s:+,}127.0.0.1:${ports[$i]}"; done; echo "$s"; }
workers() { # N: starts N workers, waits until they formed one cluster, warms them up
  local n=$1 all i; all=$(members "$n")
  for ((i = 0; i < n; i++)); do
    "$laconic" worker --port "${ports[$i]}" --cluster "$all" > "worker-${ports[$i]}.log" 2>&1 & pids+=($!)
  done
  for ((i = 0; i < n; i++)); do until grep -q 'waiting for chunks' "worker-${ports[$i]}.log"; do sleep 0.2; done; done
  until grep -Eq "\(?$n member" "worker-${ports[0]}.log" "worker-${ports[$((n - 1))]}.log"; do sleep 0.2; done
  evalrun warm bench.jsonl 50 1 --limit $((2 * n)) --cluster "$all" > /dev/null   # every worker loads the model and JITs
}

echo "tools/bench_cluster.sh $per_level $max $batch   ($(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load:$(uptime | sed 's/.*load average://'))"
problems=$(wc -l < bench.jsonl)
echo "throughput: $problems problems, max $max tokens, --batch $batch ($(( (problems + batch - 1) / batch )) chunks)"
evalrun warm bench.jsonl 50 1 --limit 2 > /dev/null                      # the in-process run's disk cache, same as the workers'
t=$(evalrun local bench.jsonl "$max" "$batch"); tok=$(tokens local)
printf "  %-12s %8.1f s  %6d tokens  %7.1f tok/s  ratio 1.00\n" "in process" "$t" "$tok" "$(echo "$tok / $t" | bc -l)"
base=$(echo "$tok / $t" | bc -l)
for n in 1 2 3; do
  workers "$n"
  t=$(evalrun "c$n" bench.jsonl "$max" "$batch" --cluster "$(members "$n")"); tok=$(tokens "c$n")
  cmp -s local/samples.jsonl "c$n/samples.jsonl" && same=same || same=DIFFERENT
  printf "  %-12s %8.1f s  %6d tokens  %7.1f tok/s  ratio %.2f  samples.jsonl %s\n" "$n worker(s)" "$t" "$tok" "$(echo "$tok / $t" | bc -l)" \
    "$(echo "$tok / $t / $base" | bc -l)" "$same"
  if [ "$n" -eq 1 ]; then
    echo "per-chunk overhead (--max-tokens 1 --batch 1: one chunk per problem):"
    l64=$(evalrun o1 many.jsonl 1 1 --limit 64); l128=$(evalrun o2 many.jsonl 1 1 --limit 128)
    c64=$(evalrun o3 many.jsonl 1 1 --limit 64 --cluster "$(members 1)"); c128=$(evalrun o4 many.jsonl 1 1 --limit 128 --cluster "$(members 1)")
    printf "  in process:   64 chunks %.2f s, 128 chunks %.2f s: %.1f ms per chunk\n" "$l64" "$l128" "$(echo "($l128 - $l64) / 64 * 1000" | bc -l)"
    printf "  one worker:   64 chunks %.2f s, 128 chunks %.2f s: %.1f ms per chunk\n" "$c64" "$c128" "$(echo "($c128 - $c64) / 64 * 1000" | bc -l)"
    printf "  overhead:     %.1f ms per chunk\n" "$(echo "(($c128 - $c64) - ($l128 - $l64)) / 64 * 1000" | bc -l)"
  fi
  stop_all
done
