#!/usr/bin/env bash
# The GPU check: on a machine with a GPU, no Java and no network, from the parts tools/gpu/pack.sh made
# (gpu/part1.tar.xz, gpu/part2.tar.xz, carried there). It unpacks them once (into gpu/run), then
#   1. nvidia-smi and TornadoVM's device list
#   2. the tornado module's tests on the device: every decode kernel and GEMM against ReferenceOps, greedy ids
#      equal to the CPU backend's and transformers' on the tiny golden models (JUnit's console launcher)
#   3. bench decode --backend tornado on the R1-Distill-Qwen-1.5B shape (random BF16 weights made there):
#      tg128 (at batch 1, 8, 32 where the build has --batch) and pp512, against the device's own probes
#      (copy bandwidth, F32 FMA peak)
#   4. bench train --backend tornado: a LoRA step at T 1024 with the device's GEMMs, against its FMA peak
#   5. bench decode --backend cpu on the same machine, for the GPU/CPU ratio
# Every step writes its log (and JSON) to $OUT (or gpu/out); a step that would start past the time budget
# is skipped and says so. Exit status: 0 when the device was found and the tests passed.
#   tools/gpu/gpu-check.sh                      on the GPU machine (PTX when libcuda.so.1 is there, else OpenCL)
#   GPU_CHECK_CONFIG=c.json GPU_CHECK_PROMPT=32 GPU_CHECK_GEN=32 GPU_CHECK_SEQ=128 GPU_CHECK_BUDGET_S=900 \
#     tools/gpu/gpu-check.sh                    a rehearsal on PoCL with a small model (tornado/README.md)
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd); cd "$root"
out=${OUT:-$root/gpu/out}; run=$root/gpu/run
config=${GPU_CHECK_CONFIG:-tools/gpu/r1-distill-qwen-1.5b.config.json}
prompt=${GPU_CHECK_PROMPT:-512}; gen=${GPU_CHECK_GEN:-128}; seq=${GPU_CHECK_SEQ:-1024}
budget=${GPU_CHECK_BUDGET_S:-450}        # the device call's limit is 8 minutes: leave room to come back
backends=${GPU_CHECK_BACKENDS:-}
start=$SECONDS
mkdir -p "$out" "$run"
say() { echo "gpu-check [$((SECONDS - start)) s] $*" | tee -a "$out/summary.txt"; }

# 0. unpack each part once (a part carried in an earlier call of a warm machine stays unpacked)
for p in gpu/part*.tar.xz; do
  [ -f "$p" ] || continue
  mark="$run/.${p##*/}.$(stat -c %s "$p")"
  [ -f "$mark" ] || { xz -dc -T0 "$p" | tar -C "$run" -xf - && touch "$mark"; } || { say "error: cannot unpack $p"; exit 2; }
done
java=$run/jre/bin/java; sdk=$run/sdk; jar=$run/laconic.jar
for f in "$java" "$sdk/tornado-argfile.template" "$jar" "$run/tests/junit-console.jar"; do
  [ -e "$f" ] || { say "error: $f missing: carry gpu/part1.tar.xz and gpu/part2.tar.xz (tools/gpu/pack.sh makes them)"; exit 2; }
done

# the backend: PTX where NVIDIA's driver library is, else OpenCL (PoCL on a CPU)
if [ -z "$backends" ]; then
  if ldconfig -p 2>/dev/null | grep -q 'libcuda\.so\.1' || ls /usr/lib/x86_64-linux-gnu/libcuda.so.1 /usr/lib64/libcuda.so.1 >/dev/null 2>&1; then backends=ptx; else backends=opencl; fi
fi
args=$run/tornado-argfile-$backends
tools/gpu/argfile.sh "$sdk" "$backends" "$args" >/dev/null || exit 2
cores=$(nproc)
jvm=("$java" "@$args" --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx32g -XX:+UseParallelGC)
say "backends $backends, $cores cores, config $config, budget $budget s, java $("$java" -version 2>&1 | head -n1)"

# step NAME LIMIT_S CMD...: runs CMD with its output in $OUT/NAME.log unless the budget is spent
step() {
  local name=$1 limit=$2; shift 2
  local left=$((budget - (SECONDS - start)))
  if [ "$left" -lt 20 ]; then say "$name: skipped (budget spent)"; return 99; fi
  [ "$limit" -le "$left" ] || limit=$left
  local t0=$SECONDS
  timeout --kill-after=10 "$limit" "$@" > "$out/$name.log" 2>&1; local rc=$?
  say "$name: rc $rc in $((SECONDS - t0)) s (limit $limit s)$([ $rc -eq 124 ] && echo ', timed out')"
  return $rc
}

# 1. the machine and the device
command -v nvidia-smi >/dev/null && nvidia-smi > "$out/nvidia-smi.txt" 2>&1 && nvidia-smi -q > "$out/nvidia-smi-q.txt" 2>&1
step devices 60 "${jvm[@]}" -m tornado.drivers.common/uk.ac.manchester.tornado.drivers.TornadoDeviceQuery
devices=$?; grep -a -i 'device=' "$out/devices.log" | tee -a "$out/summary.txt"
[ $devices -eq 0 ] || { say "error: TornadoVM lists no device (devices.log)"; exit 3; }

# 2. the parity tests (recover.bailout=false: a kernel that does not compile fails instead of running as Java)
#    on the JVM's own class path: TornadoVM reads a kernel's class file through the system class loader,
#    which would not see classes that JUnit's --class-path loads
cp="$run/tests/junit-console.jar:$run/tests/classes:$jar:$run/tests/laconic-tensor-tests.jar"
step tests "${GPU_CHECK_TESTS_S:-150}" "${jvm[@]}" -Dtornado.recover.bailout=false -Dlaconic.golden="$run/tests/golden" \
  -cp "$cp" org.junit.platform.console.ConsoleLauncher execute --select-package dev.laconic.tornado \
  --details=tree --disable-banner --reports-dir "$out/junit"
tests=$?; grep -a -E 'tests (successful|failed|skipped|aborted)' "$out/tests.log" | tee -a "$out/summary.txt"

# 3. decode on the device; 4. a LoRA training step; 5. decode on this machine's CPUs
batch=(); "${jvm[@]}" -jar "$jar" bench decode --help 2>/dev/null | grep -q -- '--batch' && batch=(--batch 1,8,32)
step decode-tornado 200 "${jvm[@]}" -jar "$jar" bench decode --backend tornado --random-config "$config" \
  --threads "$cores" --prompt-tokens "$prompt" --gen-tokens "$gen" --reps 3 "${batch[@]}" --json
sed -n '/^{/,$p' "$out/decode-tornado.log" > "$out/decode-tornado.json"
step train-tornado 150 "${jvm[@]}" -jar "$jar" bench train --backend tornado --random-config "$config" \
  --threads "$cores" --skip-peer --skip-full --seq "$seq" --json-out "$out/train-tornado.json"
step decode-cpu 120 "${jvm[@]}" -jar "$jar" bench decode --backend cpu --random-config "$config" \
  --threads "$cores" --prompt-tokens "$prompt" --gen-tokens "$gen" --reps 3 --json
sed -n '/^{/,$p' "$out/decode-cpu.log" > "$out/decode-cpu.json"
say "done in $((SECONDS - start)) s; tests rc $tests"
exit $((tests == 0 ? 0 : 1))
