#!/usr/bin/env bash
# Packs what a GPU machine with no Java and no network needs to run tools/gpu/gpu-check.sh, in two parts
# that each fit one device call's 64 MiB of carried files (a carried path stays while the machine is warm):
#   gpu/part1.tar.xz   a jlinked Java 25 runtime (jre/)
#   gpu/part2.tar.xz   the trimmed TornadoVM SDK (sdk/), laconic.jar built with -Ptornado, the tornado module's
#                      tests (tests/: test classes, the tensor test jar, JUnit's console launcher, the golden models)
# gpu/ is git-ignored. Needs JAVA_HOME (a JDK 25) and TORNADOVM_HOME (an SDK built with the PTX backend:
# tornado/README.md, "A TornadoVM SDK for a GPU machine"). Takes ~5 minutes on 2 cores.
#   TORNADOVM_HOME=... tools/gpu/pack.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd); cd "$root"
: "${JAVA_HOME:?set JAVA_HOME to a JDK 25}"; : "${TORNADOVM_HOME:?set TORNADOVM_HOME to a TornadoVM SDK built with the PTX backend}"
sdk=$(cd "$TORNADOVM_HOME" && pwd)
ls "$sdk"/share/java/tornado/tornado-drivers-ptx-[0-9]*.jar >/dev/null 2>&1 \
  || { echo "error: $sdk has no PTX backend (share/java/tornado/tornado-drivers-ptx-*.jar); build it with make BACKEND=opencl,ptx" >&2; exit 2; }
api=$(ls "$sdk"/share/java/tornado/tornado-api-*.jar | head -n1); version=${api##*/tornado-api-}; version=${version%.jar}
junit=${JUNIT_CONSOLE:-$HOME/.m2/repository/org/junit/platform/junit-platform-console-standalone/1.14.4/junit-platform-console-standalone-1.14.4.jar}
[ -f "$junit" ] || ./mvnw -B -q dependency:get -Dartifact=org.junit.platform:junit-platform-console-standalone:1.14.4
stage=gpu/stage; rm -rf "$stage" gpu/part*.tar.xz; mkdir -p "$stage"/{p1,p2/tests}

# 1. the runtime: the modules laconic and TornadoVM use (JVMCI for Graal; java.xml and jdk.zipfs for JUnit's reports and class scan), no debug symbols, no man pages
"$JAVA_HOME"/bin/jlink --add-modules java.base,java.logging,java.management,jdk.management,jdk.unsupported,jdk.incubator.vector,jdk.internal.vm.ci,jdk.jfr,jdk.httpserver,java.net.http,java.xml,jdk.zipfs \
  --strip-debug --no-header-files --no-man-pages --compress zip-9 --output "$stage/p1/jre"

# 2. the product jar with the tornado backend, and the tornado module's tests
./mvnw -B -q -Ptornado -Dtornado.version="$version" -DskipTests package
./mvnw -B -q -Ptornado -Dtornado.version="$version" -pl tornado test-compile
cp app/target/laconic.jar "$stage/p2/"
cp -r tornado/target/test-classes "$stage/p2/tests/classes"
cp tensor/target/laconic-tensor-*-tests.jar "$stage/p2/tests/laconic-tensor-tests.jar"
cp "$junit" "$stage/p2/tests/junit-console.jar"
cp -r transformer/src/test/resources/golden "$stage/p2/tests/golden"

# 3. the SDK without what a run never loads (tests, benchmarks, examples, the CUDA-library bindings,
#    JUnit/JMH/Lucene/EJML, Truffle's API); snmp4j (tornado.runtime) and truffle-compiler (jdk.graal.compiler) stay
mkdir -p "$stage/p2/sdk/share/java"
cp -r "$sdk"/{bin,etc,lib,tornado-argfile.template} "$stage/p2/sdk/"
cp -r "$sdk/share/java/graalJars" "$sdk/share/java/tornado" "$stage/p2/sdk/share/java/"
( cd "$stage/p2/sdk/share/java" && rm -f graalJars/truffle-api-*.jar \
    tornado/tornado-{unittests,benchmarks,examples,fuzz,matrices,cublas,cudnn,cufft,cusparse,cutlass}-*.jar \
    tornado/{junit,hamcrest,lucene,ejml,jmh,jopt-simple}-*.jar )

tar -C "$stage/p1" -cf - . | xz -9 -T2 > gpu/part1.tar.xz
tar -C "$stage/p2" -cf - . | xz -9 -T2 > gpu/part2.tar.xz
rm -rf "$stage"
ls -l gpu/part*.tar.xz
for p in gpu/part*.tar.xz; do
  [ "$(stat -c %s "$p")" -le $((62 << 20)) ] || { echo "error: $p is over 62 MiB: one device call carries at most 64 MiB" >&2; exit 1; }
done
