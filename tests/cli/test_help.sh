# Every command has --help (exit 0, on stdout); `baohan --help` and
# `baohan help` list them; unknown commands and options give usage on stderr
# and exit 2; version.
. "$(dirname "$0")/lib.sh"

COMMANDS="sign verify canon encrypt decrypt seal open keygen interfaces selfcheck send conform admin version help"

for c in $COMMANDS; do
    run "$c" --help
    expect_rc 0 "baohan $c --help"
    checks=$((checks + 1))
    grep -q "^usage: baohan $c" "$T/out" || fail "baohan $c --help shows no usage line"
    run "$c" -h
    expect_rc 0 "baohan $c -h"
    run help "$c"
    expect_rc 0 "baohan help $c"
    checks=$((checks + 1))
    grep -q "^usage: baohan $c" "$T/out" || fail "baohan help $c shows no usage line"
done

for how in --help -h help; do
    run $how
    expect_rc 0 "baohan $how"
    for c in $COMMANDS; do
        checks=$((checks + 1))
        grep -q "^  $c " "$T/out" || fail "baohan $how does not list $c"
    done
done

# --help wins wherever it is, before anything is read or checked.
run seal baohanapply --key bad --help
expect_rc 0 "seal ... --help"

run
expect_rc 2 "baohan without a command"
expect_err_has "usage: baohan" "usage on stderr"
run frobnicate
expect_rc 2 "an unknown command"
expect_err_has "frobnicate" "the unknown command is named"
expect_err_has "usage: baohan" "usage on stderr for an unknown command"
run help frobnicate
expect_rc 2 "help for an unknown command"

for c in sign verify canon encrypt decrypt seal open keygen interfaces selfcheck send conform admin; do
    run "$c" --no-such-option
    expect_rc 2 "baohan $c --no-such-option"
    expect_err_has "--no-such-option" "the unknown option is named ($c)"
    expect_err_has "usage: baohan $c" "the usage is on stderr ($c)"
done
run sign -x
expect_rc 2 "an unknown short option"
# An unknown option's value is not echoed.
run sign --appsecert=hunter2
expect_rc 2 "a misspelt option"
expect_no_leak hunter2 "a misspelt option with a value"
run keygen --pretty
expect_rc 2 "an option of another command"
run seal baohanapply --pretty=yes
expect_rc 2 "a value given to a flag"

run version
expect_rc 0 "baohan version"
checks=$((checks + 1))
grep -q -x 'baohan [0-9][0-9]*\.[0-9][0-9]*\.[0-9][0-9]*' "$T/out" ||
    fail "baohan version prints 'baohan X.Y.Z', got '$(cat "$T/out")'"
cp "$T/out" "$T/v1"
run --version
expect_rc 0 "baohan --version"
checks=$((checks + 1))
cmp -s "$T/v1" "$T/out" || fail "baohan --version differs from baohan version"

finish
