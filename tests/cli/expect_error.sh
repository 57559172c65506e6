#!/usr/bin/env bash
# Runs a command that must fail, and checks both how: its exit status and its message.
#   expect_error.sh STATUS REGEX COMMAND [ARGS...]
# STATUS: the exact exit status expected. REGEX: an extended regex that stdout+stderr must match.
set -uo pipefail
want=$1 regex=$2
shift 2
output=$("$@" 2>&1)
status=$?
if [[ $status != "$want" ]]; then
  printf 'expected exit status %s, got %s from: %s\n%s\n' "$want" "$status" "$*" "$output"
  exit 1
fi
if ! grep -Eq -- "$regex" <<<"$output"; then
  printf 'exit status %s as expected, but the message does not match /%s/:\n%s\n' "$status" "$regex" "$output"
  exit 1
fi
echo "exit $status with: $(grep -Em1 -- "$regex" <<<"$output")"
