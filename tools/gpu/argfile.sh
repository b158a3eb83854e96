#!/usr/bin/env bash
# Writes a TornadoVM argfile for the SDK in $1 with only the backends in $2 ("opencl", "ptx" or "opencl,ptx"),
# to $3. TornadoVM loads every driver module on its module path and stops if one cannot start (the PTX
# driver without libcuda.so.1, the OpenCL one without libOpenCL.so.1), so a machine with only one of the two
# needs a view of the SDK without the other: the template's lines for the missing driver are dropped and the
# module path points at a folder of links to the SDK's jars without that driver's.
#   tools/gpu/argfile.sh "$TORNADOVM_HOME" opencl /tmp/argfile-opencl
set -euo pipefail
sdk=$(cd "$1" && pwd); backends=$2; out=$3
[ -f "$sdk/tornado-argfile.template" ] || { echo "error: $sdk/tornado-argfile.template not found (not a TornadoVM SDK)" >&2; exit 2; }
drop=()
case ",$backends," in *,opencl,*) ;; *) drop+=(opencl) ;; esac
case ",$backends," in *,ptx,*) ;; *) drop+=(ptx) ;; esac
[ ${#drop[@]} -lt 2 ] || { echo "error: backends '$backends': name opencl, ptx or opencl,ptx" >&2; exit 2; }

mods="$sdk/share/java/tornado"
if [ ${#drop[@]} -eq 1 ]; then
  mods="$sdk/share/java/tornado-${backends//,/-}"     # e.g. share/java/tornado-opencl: the jars minus the other driver's
  rm -rf "$mods"; mkdir -p "$mods"
  for j in "$sdk"/share/java/tornado/*.jar; do
    case "${j##*/}" in tornado-drivers-"${drop[0]}"*) ;; *) ln -s "$j" "$mods/" ;; esac
  done
fi
sed -e "s#\${TORNADOVM_HOME}/share/java/tornado\$#$mods#" -e "s#\${TORNADOVM_HOME}#$sdk#g" "$sdk/tornado-argfile.template" |
  if [ ${#drop[@]} -eq 1 ]; then
    d=${drop[0]}
    grep -v "=tornado\.drivers\.$d\$\|/.*=tornado\.drivers\.$d\$\|^--add-reads=tornado\.drivers\.$d=" |
      sed -e "s/,tornado\.drivers\.$d\b//g" -e "s/=tornado\.drivers\.$d,/=/"
  else cat; fi > "$out"
echo "$out: TornadoVM argfile for $sdk with backends $backends"
