#!/usr/bin/env bash
# run-matrix.sh: the fixed benchmark matrix of doc/performance.md (`make bench`).
#
#   run-matrix.sh --bench BENCH --mock MOCK --doc DOCDIR [--seconds S]
#   run-matrix.sh --bench BENCH --doc DOCDIR --cassandra [--seconds S]
#
# Mock matrix: starts the mock server's null mode as its own process
# (cqlmux-mock --null, 2 threads, an OS-chosen port), then runs cqlmux-bench
# over concurrency 1, 128, 4096 x I/O threads 1, 2 (one connection per I/O
# thread) x protocol v4, v5 x LZ4 off, on, in driver mode (1 callback thread)
# and in raw mode, plus the inline-callback and insert/query variants the
# targets need. It writes the Markdown table and the target checks between
# the matrix markers of DOCDIR/performance.md, the plot DOCDIR/performance.png
# (gnuplot) and the raw JSON lines to DOCDIR/performance-matrix.jsonl.
#
# --cassandra: starts a real Cassandra with tools/cassandra-local on its own
# port and state directory (so it never meets another one on this machine),
# runs the select workload against it, writes the cassandra section of
# performance.md, and stops it.
#
# Each run measures S seconds (default 2 against the mock, 5 against
# Cassandra, or $CQLMUX_BENCH_SECONDS) after a 0.5 s warm-up: the mock
# matrix takes about 3 minutes, the Cassandra runs about 2.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bench= mock= doc= cassandra=0
seconds=${CQLMUX_BENCH_SECONDS:-}
warmup=0.5

while (($#)); do
  case $1 in
    --bench) bench=$2; shift 2 ;;
    --mock) mock=$2; shift 2 ;;
    --doc) doc=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --cassandra) cassandra=1; shift ;;
    *) echo "usage: $0 --bench BENCH (--mock MOCK | --cassandra) --doc DOCDIR [--seconds S]" >&2
       exit 2 ;;
  esac
done
[[ -x $bench && -d $doc ]] || { echo "run-matrix: --bench and --doc are required" >&2; exit 2; }
((cassandra)) || [[ -x $mock ]] || { echo "run-matrix: --mock is required" >&2; exit 2; }
# The real server is slower and noisier: longer runs by default.
[[ -n $seconds ]] || { ((cassandra)) && seconds=5 || seconds=2; }

work=$(mktemp -d)
server_pid=
cassandra_started=0
cleanup() {
  [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  if ((cassandra_started)); then "$root/tools/cassandra-local" stop >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# field JSON NAME: the value of a top-level number or string field.
field() { sed -E "s/.*\"$2\":\"?([^,\"}]*).*/\1/" <<<"$1"; }

# run LABEL ARGS...: one cqlmux-bench run, its JSON line tagged and kept.
run() {
  local label=$1 out
  shift
  printf '  %-44s' "$label" >&2
  local ticks0 ticks1 server_us
  ticks0=$(server_ticks)
  if ! out=$("$bench" --host "$host" --port "$port" --no-progress --json -d "$seconds" \
      --warmup "$warmup" "$@" 2>"$work/err"); then
    echo " FAILED: $(tail -n 3 "$work/err" | tr '\n' ' ')" >&2
    return 0
  fi
  ticks1=$(server_ticks)
  # The server's CPU per request over the whole run (warm-up included, so
  # divided by the requests of the warm-up too, at the measured rate).
  server_us=$(awk -v t0="$ticks0" -v t1="$ticks1" -v hz="$(getconf CLK_TCK)" \
    -v rps="$(field "$out" throughput_rps)" -v s="$seconds" -v w="$warmup" \
    'BEGIN{n = rps * (s + w); if (t0 == "" || t1 == "" || n <= 0) print -1;
           else printf "%.4f", (t1 - t0) / hz * 1e6 / n}')
  printf ' %10.0f req/s  p99 %6s us  cpu %6s us/req  server %s us/req\n' \
    "$(field "$out" throughput_rps)" "$(field "$out" p99_us)" "$(field "$out" cpu_us_per_req)" \
    "$server_us" >&2
  echo "{\"label\":\"$label\",\"server_cpu_us_per_req\":$server_us,${out#\{}" >>"$results"
}

# server_ticks: user+system clock ticks of the mock server so far ("" when
# the server is not ours: the Cassandra runs).
server_ticks() {
  [[ -n $server_pid && -r /proc/$server_pid/stat ]] || return 0
  awk '{sub(/^.*\) /, ""); print $12 + $13}' "/proc/$server_pid/stat"
}

# lookup LABEL NAME: a field of the run called LABEL ("" when it failed).
lookup() {
  local line
  line=$(grep -F "\"label\":\"$1\"," "$results" | head -n 1) || true
  [[ -n $line ]] && field "$line" "$2"
}

# A field the bench could not measure is JSON null (system calls without
# tracefs): n/a, like a missing one.
fmt() { [[ -n $1 && $1 != null ]] && printf "$2" "$1" || printf 'n/a'; }
ratio() { [[ -n $1 && -n $2 ]] && awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a/b}' || printf 'n/a'; }

# replace_section FILE NAME CONTENT-FILE: swaps what lies between
# <!-- NAME:begin --> and <!-- NAME:end --> (appended when absent).
replace_section() {
  local file=$1 name=$2 content=$3
  [[ -f $file ]] || : >"$file"
  if ! grep -q "<!-- $name:begin -->" "$file"; then
    printf '\n<!-- %s:begin -->\n<!-- %s:end -->\n' "$name" "$name" >>"$file"
  fi
  awk -v name="$name" -v content="$content" '
    $0 == "<!-- " name ":begin -->" { print; while ((getline line < content) > 0) print line; skip = 1; next }
    $0 == "<!-- " name ":end -->" { skip = 0 }
    !skip { print }' "$file" >"$file.tmp" && mv "$file.tmp" "$file"
}

machine() {
  printf '%s, %s CPU(s) (%s), load average %s before the run; %s.\n' "$(uname -sr)" "$(nproc)" \
    "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)" \
    "$(cut -d' ' -f1-3 /proc/loadavg)" "$(date -u '+%Y-%m-%d %H:%M UTC')"
}

start_mock() {
  "$mock" --null --threads 2 --port 0 >"$work/mock.out" 2>&1 </dev/null &
  server_pid=$!
  for _ in $(seq 100); do grep -q '^ready' "$work/mock.out" && break; sleep 0.1; done
  grep -q '^ready' "$work/mock.out" || { echo "run-matrix: the mock did not start" >&2; exit 1; }
  local addr
  addr=$(sed -n 's/^node 0 //p' "$work/mock.out")
  host=${addr%:*} port=${addr##*:}
}

# ------------------------------------------------------------------ mock matrix

mock_matrix() {
  start_mock
  echo "mock null server pid $server_pid on $host:$port; $seconds s per run" >&2
  local c io v lz4 lz flags
  for v in 4 5; do
    for lz4 in off on; do
      flags=(-p "$v")
      [[ $lz4 == on ]] && flags+=(--lz4)
      for io in 1 2; do
        for c in 1 128 4096; do
          lz="v$v lz4-$lz4 io$io c$c"
          run "raw $lz" --raw -c "$c" --io-threads "$io" --connections "$io" "${flags[@]}"
          run "driver $lz" -c "$c" --io-threads "$io" --connections "$io" "${flags[@]}"
        done
      done
    done
  done
  for v in 4 5; do
    for c in 1 4096; do
      run "inline v$v lz4-off io1 c$c" -c "$c" --callback-threads 0 -p "$v"
    done
  done
  for w in insert query; do
    run "raw $w v5 lz4-off io1 c4096" --raw -c 4096 -p 5 "$w"
    run "driver $w v5 lz4-off io1 c4096" -c 4096 -p 5 "$w"
  done
  # The targets' runs again, three times, interleaved: their medians are what
  # the target table checks (one run on a shared machine can be far off).
  local rep
  for rep in 1 2 3; do
    for v in 4 5; do
      run "target$rep raw v$v c1" --raw -c 1 -p "$v"
      run "target$rep driver v$v c1" -c 1 -p "$v"
      run "target$rep inline v$v c1" -c 1 -p "$v" --callback-threads 0
      run "target$rep driver v$v c4096" -c 4096 -p "$v"
      run "target$rep raw v$v c4096" --raw -c 4096 -p "$v"
    done
  done
  # Memory: idle connections (1 against 8), and 32768 in flight on one.
  run "memory v5 io1 c1 conn1" -c 1 -p 5
  run "memory v5 io1 c8 conn8" -c 8 -p 5 --connections 8
  run "driver v5 lz4-off io1 c32768" -c 32768 -p 5
}

# Instructions per request, v4 against v5 (callgrind: deterministic where
# the timed CPU figures move by +-20 % on a shared machine). Two runs per
# version, N and 2N requests, so that setup cancels out: (I(2N) - I(N)) / N.
# Inline callbacks, 512 in flight, against the same null server.
callgrind_runs() {
  command -v valgrind >/dev/null || { echo "run-matrix: no valgrind: no instruction counts" >&2; return 0; }
  local v n total
  for v in 4 5; do
    for n in 20000 40000; do
      printf '  %-44s' "callgrind v$v n$n" >&2
      valgrind --tool=callgrind --callgrind-out-file="$work/cg.$v.$n" "$bench" --host "$host" \
        --port "$port" --no-progress --json -n "$n" --warmup 0 -c 512 --callback-threads 0 \
        -p "$v" >/dev/null 2>"$work/cg.err" || { echo " FAILED" >&2; continue; }
      total=$(sed -n 's/^summary: //p' "$work/cg.$v.$n")
      echo " $total instructions" >&2
      echo "{\"label\":\"callgrind v$v n$n\",\"instructions\":$total}" >>"$results"
    done
  done
}

# instructions_per_request V: from the two callgrind runs of version V.
instructions_per_request() {
  local a b
  a=$(lookup "callgrind v$1 n20000" instructions) b=$(lookup "callgrind v$1 n40000" instructions)
  [[ -n $a && -n $b ]] && awk -v a="$a" -v b="$b" 'BEGIN{printf "%.0f", (b-a)/20000}'
}

matrix_table() {
  echo "Measured on: $(machine)"
  echo
  echo "Command: \`make bench\` (tools/bench/run-matrix.sh; ${seconds} s per run after a ${warmup} s" \
    "warm-up; select workload unless said otherwise; driver runs use 1 callback thread)."
  echo
  echo "| proto | LZ4 | I/O thr | in flight | driver req/s | raw req/s | driver/raw | driver p50 / p99 us | raw p50 / p99 us | driver CPU us/req | raw CPU us/req | allocs/req | driver RSS KiB |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  local v lz4 io c d r
  for v in 4 5; do
    for lz4 in off on; do
      for io in 1 2; do
        for c in 1 128 4096; do
          d="driver v$v lz4-$lz4 io$io c$c" r="raw v$v lz4-$lz4 io$io c$c"
          printf '| v%s | %s | %s | %s | %s | %s | %s | %s / %s | %s / %s | %s | %s | %s | %s |\n' \
            "$v" "$lz4" "$io" "$c" "$(fmt "$(lookup "$d" throughput_rps)" '%.0f')" \
            "$(fmt "$(lookup "$r" throughput_rps)" '%.0f')" \
            "$(ratio "$(lookup "$d" throughput_rps)" "$(lookup "$r" throughput_rps)")" \
            "$(lookup "$d" p50_us)" "$(lookup "$d" p99_us)" "$(lookup "$r" p50_us)" \
            "$(lookup "$r" p99_us)" "$(fmt "$(lookup "$d" cpu_us_per_req)" '%.2f')" \
            "$(fmt "$(lookup "$r" cpu_us_per_req)" '%.2f')" \
            "$(fmt "$(lookup "$d" allocs_per_req)" '%.3f')" "$(lookup "$d" max_rss_kb)"
        done
      done
    done
  done
  echo
  echo "Other variants (v5, LZ4 off, 1 I/O thread):"
  echo
  echo "| run | req/s | p50 / p99 us | CPU us/req | allocs/req | bytes out / in per req |"
  echo "|---|---|---|---|---|---|"
  local label
  for label in "inline v4 lz4-off io1 c1" "inline v5 lz4-off io1 c1" "inline v4 lz4-off io1 c4096" \
      "inline v5 lz4-off io1 c4096" "raw insert v5 lz4-off io1 c4096" \
      "driver insert v5 lz4-off io1 c4096" "raw query v5 lz4-off io1 c4096" \
      "driver query v5 lz4-off io1 c4096" "driver v5 lz4-off io1 c32768"; do
    printf '| %s | %s | %s / %s | %s | %s | %s / %s |\n' "$label" \
      "$(fmt "$(lookup "$label" throughput_rps)" '%.0f')" "$(lookup "$label" p50_us)" \
      "$(lookup "$label" p99_us)" "$(fmt "$(lookup "$label" cpu_us_per_req)" '%.2f')" \
      "$(fmt "$(lookup "$label" allocs_per_req)" '%.3f')" \
      "$(fmt "$(lookup "$label" bytes_out_per_req)" '%.0f')" \
      "$(fmt "$(lookup "$label" bytes_in_per_req)" '%.0f')"
  done
}

# verdict OK-EXPRESSION(awk) VALUES...: "holds" / "does not hold".
verdict() { awk "BEGIN{exit !($1)}" && echo holds || echo "**does not hold**"; }

# median LABEL-SUFFIX FIELD: the median over the three target runs.
median() {
  local rep
  for rep in 1 2 3; do lookup "target$rep $1" "$2"; echo; done |
    grep -v '^$' | sort -g | awk '{v[NR]=$1} END{if (NR) print v[int((NR+1)/2)]}'
}

matrix_targets() {
  local cpu4 cpu5 ratio4 ratio5 p50 rp50 ip50 maxalloc v lz4 io c a
  echo "Each target is checked on the median of three interleaved runs of its configuration (select, 1 connection, 1 I/O thread, LZ4 off; 1 callback thread unless inline); the full matrix above is one run each."
  echo
  echo "| target | measured (median of 3 runs) | verdict |"
  echo "|---|---|---|"
  cpu5=$(median "driver v5 c4096" cpu_us_per_req)
  cpu4=$(median "driver v4 c4096" cpu_us_per_req)
  echo "| CPU per request <= 1.5 us at 4096 in flight, 1 I/O + 1 callback thread | v5 $(fmt "$cpu5" '%.2f') us, v4 $(fmt "$cpu4" '%.2f') us | v5 $(verdict "${cpu5:-99} <= 1.5"), v4 $(verdict "${cpu4:-99} <= 1.5") |"
  ratio5=$(ratio "$(median "driver v5 c4096" throughput_rps)" "$(median "raw v5 c4096" throughput_rps)")
  ratio4=$(ratio "$(median "driver v4 c4096" throughput_rps)" "$(median "raw v4 c4096" throughput_rps)")
  echo "| throughput >= 0.7 x raw (4096 in flight) | v5 $ratio5 ($(fmt "$(median "driver v5 c4096" throughput_rps)" '%.0f') / $(fmt "$(median "raw v5 c4096" throughput_rps)" '%.0f') req/s), v4 $ratio4 | v5 $(verdict "${ratio5/n\/a/0} >= 0.7"), v4 $(verdict "${ratio4/n\/a/0} >= 0.7") |"
  # Why: client and server share the machine's cores, so a run's rate is at
  # most cores / (client + server CPU per request).
  local dc ds rc rs
  dc=$(median "driver v5 c4096" cpu_us_per_req) ds=$(median "driver v5 c4096" server_cpu_us_per_req)
  rc=$(median "raw v5 c4096" cpu_us_per_req) rs=$(median "raw v5 c4096" server_cpu_us_per_req)
  echo "| (the same, as CPU: v5, 4096 in flight, $(nproc) cores shared by client and server) | CPU us per request, client + server: driver $(fmt "$dc" '%.2f') + $(fmt "$ds" '%.2f'), raw $(fmt "$rc" '%.2f') + $(fmt "$rs" '%.2f'); ceiling $(nproc) cores / total: driver $(awk -v n="$(nproc)" -v a="${dc:-0}" -v b="${ds:-0}" 'BEGIN{if (a + b > 0) printf "%.0f", n * 1e6 / (a + b); else print "n/a"}') req/s, raw $(awk -v n="$(nproc)" -v a="${rc:-0}" -v b="${rs:-0}" 'BEGIN{if (a + b > 0) printf "%.0f", n * 1e6 / (a + b); else print "n/a"}') req/s | 0.7 x raw needs the client under $(awk -v r="${rc:-0}" -v s="${rs:-0}" 'BEGIN{if (r + s > 0) printf "%.2f", (r + s) / 0.7 - s; else print "n/a"}') us per request |"
  for v in 4 5; do
    p50=$(median "driver v$v c1" p50_us)
    ip50=$(median "inline v$v c1" p50_us)
    rp50=$(median "raw v$v c1" p50_us)
    echo "| v$v concurrency 1: p50 <= raw + 20 us (callback thread), + 10 us (inline) | raw ${rp50:-n/a}, callback thread ${p50:-n/a}, inline ${ip50:-n/a} us | callback $(verdict "${p50:-999} <= ${rp50:-0} + 20"), inline $(verdict "${ip50:-999} <= ${rp50:-0} + 10") |"
  done
  maxalloc=0
  for v in 4 5; do for lz4 in off on; do for io in 1 2; do for c in 1 128 4096; do
    a=$(lookup "driver v$v lz4-$lz4 io$io c$c" allocs_per_req)
    [[ -n $a ]] && maxalloc=$(awk -v a="$a" -v m="$maxalloc" 'BEGIN{print (a > m ? a : m)}')
  done; done; done; done
  echo "| 0 heap allocations per request in steady state | highest over the 24 driver runs of the matrix: $maxalloc | $(verdict "$maxalloc < 0.001") |"
  echo "| v5 framing costs <= 10 % more CPU per request than v4 (4096 in flight) | v5/v4 = $(ratio "${cpu5:-}" "${cpu4:-}") | $(verdict "${cpu5:-99} <= 1.10 * ${cpu4:-0}") |"
  local i4 i5
  i4=$(instructions_per_request 4) i5=$(instructions_per_request 5)
  echo "| the same, in instructions (callgrind, inline callbacks, 512 in flight: deterministic) | v4 ${i4:-n/a}, v5 ${i5:-n/a} per request: v5/v4 = $(ratio "${i5:-}" "${i4:-}") | $(verdict "${i5:-99} <= 1.10 * ${i4:-0}") |"
  local idle1 idle8 per_conn idle busy per_req done32k err32k
  idle1=$(lookup "memory v5 io1 c1 conn1" heap_idle_kb)
  idle8=$(lookup "memory v5 io1 c8 conn8" heap_idle_kb)
  per_conn=$(awk -v a="${idle8:-0}" -v b="${idle1:-0}" 'BEGIN{printf "%.0f", (a-b)/7}')
  echo "| <= 160 KiB per idle connection (heap through the allocator hook, 8 connections against 1) | $per_conn KiB per connection (a session with 1 connection: ${idle1:-n/a} KiB) | $(verdict "$per_conn <= 160") |"
  idle=$(lookup "driver v5 lz4-off io1 c4096" heap_idle_kb)
  busy=$(lookup "driver v5 lz4-off io1 c4096" heap_busy_kb)
  per_req=$(awk -v a="${busy:-0}" -v b="${idle:-0}" 'BEGIN{printf "%.0f", (a-b)*1024/4096}')
  echo "| <= 1 KiB per in-flight request beyond its frame bytes (4096 in flight; frames ~65 B out, ~78 B in) | $per_req bytes per request in flight, heap through the allocator hook | $(verdict "$per_req - 143 <= 1024") |"
  done32k=$(lookup "driver v5 lz4-off io1 c32768" requests)
  err32k=$(lookup "driver v5 lz4-off io1 c32768" errors)
  echo "| 32,768 in flight on one connection completes | ${done32k:-0} requests in ${seconds} s, ${err32k:-?} errors | $(verdict "${done32k:-0} > 0 && ${err32k:-1} == 0") |"
}

plot() {
  local dat=$work/plot.dat c
  echo "# concurrency driver_v4 driver_v5 raw_v4 raw_v5 driver_v5_io2 | p99: same order" >"$dat"
  for c in 1 128 4096; do
    printf '%s' "$c" >>"$dat"
    for n in throughput_rps p99_us; do
      for l in "driver v4 lz4-off io1" "driver v5 lz4-off io1" "raw v4 lz4-off io1" \
          "raw v5 lz4-off io1" "driver v5 lz4-off io2"; do
        printf ' %s' "$(lookup "$l c$c" "$n" || true)" >>"$dat"
      done
    done
    echo >>"$dat"
  done
  if command -v gnuplot >/dev/null; then
    gnuplot -e "datafile='$dat'; outfile='$doc/performance.png'" "$here/plot.gp"
  else
    echo "run-matrix: gnuplot not found; no plot" >&2
  fi
}

# ------------------------------------------------------------------ real Cassandra

cassandra_runs() {
  export CQLMUX_CASSANDRA_STATE=${CQLMUX_CASSANDRA_STATE:-/tmp/cqlmux-bench-cassandra-state}
  export CASSANDRA_PORT=${CASSANDRA_PORT:-9142} CASSANDRA_STORAGE_PORT=${CASSANDRA_STORAGE_PORT:-7100}
  # One already running with this state (an earlier start) is used and
  # left running; otherwise this run starts one and stops it at the end.
  if "$root/tools/cassandra-local" status >"$work/cassandra.out" 2>/dev/null &&
      grep -q '^STATUS=running' "$work/cassandra.out"; then
    echo "using the Cassandra already running (state $CQLMUX_CASSANDRA_STATE)" >&2
  else
    "$root/tools/cassandra-local" start >"$work/cassandra.out"
    cassandra_started=1
  fi
  host=127.0.0.1 port=$(sed -n 's/^PORT=//p' "$work/cassandra.out" | head -n 1)
  echo "real Cassandra on $host:$port; $seconds s per run" >&2
  # A first pass warms the server's JIT and caches; only what follows is kept.
  run "warm-up driver v5 c128" -c 128 -p 5 -d 10
  # The idle session first (nothing else runs then): CPU and wake-ups.
  run "cassandra idle v5" -c 1 -p 5 -d 1 --idle 10
  # Three interleaved repetitions of the whole matrix: the medians are
  # compared within the run (the machine is shared and noisy).
  local rep v c
  for rep in 1 2 3; do
    for v in 4 5; do
      for c in $cassandra_depths; do
        run "cassandra$rep raw v$v c$c" --raw -c "$c" -p "$v"
        run "cassandra$rep driver v$v c$c" -c "$c" -p "$v"
        run "cassandra$rep inline v$v c$c" -c "$c" -p "$v" --callback-threads 0
      done
    done
  done
}

cassandra_depths="1 16 256 4096"

# cmedian LABEL-SUFFIX FIELD: the median over the three Cassandra passes.
cmedian() {
  local rep
  for rep in 1 2 3; do lookup "cassandra$rep $1" "$2"; echo; done |
    grep -v '^$' | sort -g | awk '{v[NR]=$1} END{if (NR) print v[int((NR+1)/2)]}'
}

# One table line: mode (driver, inline or raw) at version v, depth c.
cassandra_line() {
  local mode=$1 v=$2 c=$3 l="$1 v$2 c$3" raw="raw v$2 c$3"
  printf '| v%s | %s | %s | %s | %s | %s / %s | %s | %s | %s | %s | %s |\n' "$v" "$c" "$mode" \
    "$(fmt "$(cmedian "$l" throughput_rps)" '%.0f')" \
    "$(ratio "$(cmedian "$l" throughput_rps)" "$(cmedian "$raw" throughput_rps)")" \
    "$(cmedian "$l" p50_us)" "$(cmedian "$l" p99_us)" \
    "$(fmt "$(cmedian "$l" cpu_us_per_req)" '%.2f')" \
    "$(for rep in 1 2 3; do fmt "$(lookup "cassandra$rep $l" cpu_us_per_req)" '%.2f'; echo; done |
       paste -sd' ')" \
    "$(fmt "$(cmedian "$l" syscalls_per_req)" '%.2f')" \
    "$(fmt "$(cmedian "$l" voluntary_switches_per_req)" '%.2f')" \
    "$( [[ $mode == raw ]] && echo - || fmt "$(cmedian "$l" loop_wakeups_per_req)" '%.2f')"
}

cassandra_table() {
  echo "Measured on: $(machine) Server: Cassandra ${CASSANDRA_VERSION:-5.0.8} from tools/cassandra-local (one node), on the same 2 cores as the client."
  echo
  echo "Command: \`make bench-cassandra\` (tools/bench/run-matrix.sh --cassandra; select workload, ${seconds} s per run after a warm-up, 1 I/O thread, 1 connection; driver: 1 callback thread; inline: callbacks on the I/O thread; raw: pre-encoded requests on a plain socket). Three interleaved passes; each figure is the median of the three, CPU per request also shows the three runs."
  echo
  echo "| proto | in flight | mode | req/s | / raw | p50 / p99 us | client CPU us/req | (runs) | syscalls/req | vol. switches/req | loop wake-ups/req |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|"
  local v c mode
  for v in 4 5; do
    for c in $cassandra_depths; do
      for mode in driver inline raw; do cassandra_line "$mode" "$v" "$c"; done
    done
  done
  echo
  echo "Idle: a connected session (v5, 1 I/O + 1 callback thread) doing nothing for 10 s used $(fmt "$(lookup "cassandra idle v5" idle_cpu_ms_per_10s)" '%.2f') ms of CPU per 10 s, with $(fmt "$(lookup "cassandra idle v5" idle_loop_wakeups_per_s)" '%.2f') I/O-loop wake-ups per second (target: under 5 ms per 10 s)."
}

# ------------------------------------------------------------------ main

if ((cassandra)); then
  results=$doc/performance-cassandra.jsonl
  : >"$results"
  cassandra_runs
  cassandra_table >"$work/section"
  replace_section "$doc/performance.md" cassandra "$work/section"
else
  results=$doc/performance-matrix.jsonl
  : >"$results"
  start=$(date +%s)
  mock_matrix
  callgrind_runs
  matrix_table >"$work/section"
  replace_section "$doc/performance.md" matrix "$work/section"
  matrix_targets >"$work/targets"
  replace_section "$doc/performance.md" targets "$work/targets"
  plot
  echo "matrix done in $(($(date +%s) - start)) s: $doc/performance.md, $doc/performance.png" >&2
fi
