# baohan selfcheck: the known-answer tests pass and say so.
. "$(dirname "$0")/lib.sh"

run selfcheck
expect_rc 0 "baohan selfcheck"
for name in sm3 sm4 sm4-million sm4-key sign encrypt seal-open; do
    checks=$((checks + 1))
    grep -q "^ok  *$name " "$T/out" || fail "selfcheck reports no passing check '$name'"
done
checks=$((checks + 1))
grep -q '^FAIL' "$T/out" && fail "selfcheck reports a failure: $(cat "$T/out")"
n=$(grep -c '^ok ' "$T/out")
checks=$((checks + 1))
tail -n 1 "$T/out" | grep -q -x "selfcheck: all $n checks passed" ||
    fail "the last line is 'selfcheck: all $n checks passed', got '$(tail -n 1 "$T/out")'"
run selfcheck now
expect_rc 2 "selfcheck with an argument"

finish
