#!/usr/bin/env bash
# make fuzz: every fuzz target, bounded, niced (the machine is shared).
#   FUZZ_RUNS   inputs per libFuzzer target (the Lua harnesses take a
#               tenth: each of their inputs forks a child or copies a file)
#   FUZZ_SEED   libFuzzer's -seed and the Lua harnesses' math.randomseed
#   FUZZ_DIR    the build-fuzz tree (binaries, working corpora, findings)
# libFuzzer writes the inputs it finds new into FUZZ_DIR/new/NAME and
# reads tests/fuzz/corpus/NAME without changing it. Prints one summary line
# per target; exits 1 when any target found something (its input is kept
# in FUZZ_DIR/findings).
set -uo pipefail
cd "$(dirname "$0")/../.."
runs=${FUZZ_RUNS:-10000}
seed=${FUZZ_SEED:-1}
dir=${FUZZ_DIR:-build-fuzz}
export TMPDIR=${TMPDIR:-/tmp}
mkdir -p "$dir/findings"
# leaks: the Lua-less core frees everything, but libFuzzer's leak check
# would count the vprobe model's one-time part tables; UBSan stops at once.
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
status=0
# fuzz_image saves every image it takes (write, fsync, rename): on tmpfs
# that costs no disk flush, which on a shared disk would bound it to a few
# dozen inputs a second.
shm=$TMPDIR
[ -d /dev/shm ] && [ -w /dev/shm ] && shm=/dev/shm
for t in image replies; do
  mkdir -p "$dir/new/$t"
  log="$dir/fuzz_$t.log"
  if TMPDIR=$shm nice -n 19 "$dir/fuzz_$t" -runs="$runs" -seed="$seed" -max_len=8192 -timeout=20 \
      -artifact_prefix="$dir/findings/$t-" "$dir/new/$t" "tests/fuzz/corpus/$t" >"$log" 2>&1; then
    echo "fuzz_$t: $(grep -E '^Done [0-9]+ runs' "$log" | tail -1) (corpus $(ls "$dir/new/$t" | wc -l) + $(ls "tests/fuzz/corpus/$t" | wc -l) seeds), no finding"
  else
    echo "fuzz_$t: FOUND something: see $log and $dir/findings/"
    tail -30 "$log"
    status=1
  fi
done
lua_runs=$((runs / 10))
nice -n 19 lua5.4 tests/fuzz/recipe_fuzz.lua "$lua_runs" "$seed" "$dir/findings" | tail -5 || status=1
nice -n 19 lua5.4 tests/fuzz/journal_fuzz.lua "$((lua_runs / 4))" "$seed" "$dir/findings" | tail -5 || status=1
exit $status
