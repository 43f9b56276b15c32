#!/usr/bin/env bash
# ab.sh OLD NEW PORT REPS ARGS...
#
# Interleaved before/after runs of two cqlmux-bench binaries (say, the build
# of the previous commit and of this one) against one server: for each of
# REPS repetitions, OLD then NEW, each with `--port PORT --no-progress --json
# ARGS...`. Prints every run, then the median of each build and the ratio
# NEW / OLD of the medians. Interleaving matters on a shared machine: both
# builds see the same load, so their ratio means something when the
# absolute figures drift (doc/performance.md, Method).
#
#   tools/bench/ab.sh /tmp/old/cqlmux-bench build/tools/cqlmux-bench 9042 3 -c 1 -p 4 -d 4
set -euo pipefail
if (($# < 4)); then
  echo "usage: $0 OLD_BENCH NEW_BENCH PORT REPS [cqlmux-bench ARGS...]" >&2
  exit 2
fi
old=$1 new=$2 port=$3 reps=$4
shift 4
command -v python3 >/dev/null || { echo "ab.sh: python3 is needed to read the JSON" >&2; exit 2; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for ((r = 1; r <= reps; r++)); do
  for build in old new; do
    bin=${!build}
    line=$("$bin" --port "$port" --no-progress --json "$@" 2>/dev/null | tail -n 1) || true
    [[ $line == \{* ]] || { echo "ab.sh: $build run $r failed" >&2; continue; }
    echo "$build $line" >>"$out"
  done
done
python3 - "$out" <<'EOF'
import json, statistics, sys
keys = ["throughput_rps", "cpu_us_per_req", "syscalls_per_req", "voluntary_switches_per_req", "p50_us"]
runs = {"old": [], "new": []}
for line in open(sys.argv[1]):
    build, _, text = line.partition(" ")
    runs[build].append(json.loads(text))
def show(values):
    return "%.2f" % values if isinstance(values, float) else str(values)
for build in ("old", "new"):
    for d in runs[build]:
        print(build, " ".join("%s=%s" % (k, show(d[k])) for k in keys if d.get(k) is not None))
print()
for k in keys:
    med = {}
    for build in ("old", "new"):
        vals = [d[k] for d in runs[build] if d.get(k) is not None]
        med[build] = statistics.median(vals) if vals else None
    if med["old"] is None or med["new"] is None:
        continue
    ratio = med["new"] / med["old"] if med["old"] else float("nan")
    print("%-28s old %10.2f   new %10.2f   new/old %.3f" % (k, med["old"], med["new"], ratio))
EOF
