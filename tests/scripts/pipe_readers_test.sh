#!/usr/bin/env bash
# Under `set -o pipefail`, a reader that stops early (`grep -q`, `grep -m`, `head`, awk's `exit`)
# makes a writer that is still writing die of SIGPIPE, and the whole pipeline fails at random:
# `printf '%s\n' list | grep -qx item` failed CI once because bash's printf writes each line
# separately. Scripts that set pipefail give early readers a file, a here-string or `< <(...)`.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"

# Lines (FILE:LINE: text) where a pipe feeds an early-exiting reader.
early_readers() {
  grep -nHE '(^|[^|])\|[[:space:]]*(head([^[:alnum:]_.-]|$)|grep[[:space:]][^|]*(-[a-zA-Z]*[qm]|--quiet|--silent|--max-count)|awk[[:space:]][^|]*[^a-z_]exit[^a-z_])' "$@" || true
}

# The check must be able to fail: it flags each line with a bad form and passes each safe one.
probe=$(mktemp)
trap 'rm -f "$probe"' EXIT
cat >"$probe" <<'SH'
printf '%s\n' "${a[@]}" | grep -qx "$f" || problem
x=$(slurmd -C | head -n 1)
ls -l | grep -Eq foo
cmd | grep --quiet foo
cmd | grep -m1 foo
cmd | awk '/x/ {print; exit}'
n=$(cmd | head); cmd | head
SH
found=$(early_readers "$probe" | wc -l)
[ "$found" -eq 7 ] || { echo "pipe_readers: the check found $found of the 7 bad forms"; early_readers "$probe"; exit 1; }
cat >"$probe" <<'SH'
grep -qx "$f" < <(printf '%s\n' "${a[@]}") || problem
a || grep -q foo file
x=$(slurmd -C | sed -n '1s/^N //p')
cmd | tail -1
cmd | header_of x
cmd | grep -v foo | sort
SH
[ -z "$(early_readers "$probe")" ] || { echo "pipe_readers: the check flags safe forms:"; early_readers "$probe"; exit 1; }

scripts=()
while IFS= read -r -d '' f; do
  [ "$f" -ef "$0" ] && continue  # its probes are bad on purpose
  grep -q 'pipefail' "$f" && scripts+=("$f")
done < <(find "$ROOT/.ci" "$ROOT/bench" "$ROOT/docker" "$ROOT/jobs" "$ROOT/scripts" "$ROOT/slurm" "$ROOT/tests" \
           -type f \( -name '*.sh' -o -name '*.sbatch' -o -name run \) -print0)
[ "${#scripts[@]}" -gt 20 ] || { echo "pipe_readers: only ${#scripts[@]} scripts set pipefail; is the search wrong?"; exit 1; }
bad=$(early_readers "${scripts[@]}" | sed "s|^$ROOT/||")
if [ -n "$bad" ]; then
  echo "pipe_readers: these pipes end in a reader that may stop early, so under pipefail they fail at random:"
  echo "$bad"
  exit 1
fi
echo "pipe_readers: ${#scripts[@]} pipefail scripts, no pipe into an early-exiting reader"
