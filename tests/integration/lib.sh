# Helpers for integration tests: check NAME COMMAND... counts a pass/fail and prints failures.
passed=0
failed=0
check() {
  local name="$1"; shift
  local out
  if out=$("$@" 2>&1); then
    passed=$((passed + 1)); echo "ok   $name${out:+ — $(echo "$out" | tail -1)}"
  else
    failed=$((failed + 1)); echo "FAIL $name"; echo "$out" | tail -20 | sed 's/^/     /'
  fi
}
skip() { echo "skip $1: $2"; }
