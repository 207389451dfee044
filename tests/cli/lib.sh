# Helpers shared by the command-line tests (tests/cli/test_*.sh source this).
# ctest runs each test as `sh tests/cli/test_X.sh` with BAOHAN (the built
# binary) and DATA (tests/data) in the environment. POSIX sh only: no bash,
# python or jq on the target machine.

: "${BAOHAN:?BAOHAN must name the baohan binary}"
: "${DATA:?DATA must name the tests/data directory}"

T=$(mktemp -d "${TMPDIR:-/tmp}/baohan-cli.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
trap 'exit 1' HUP INT TERM

# Secrets from the caller's environment must not leak into the tests.
unset BAOHAN_APPSECRET BAOHAN_SM4_KEY BAOHAN_APPKEY

failures=0
checks=0

fail()
{
    printf 'FAIL: %s\n' "$*" >&2
    failures=$((failures + 1))
}

# run ARGS...: runs baohan; stdout in $T/out, stderr in $T/err, status in $rc.
# Give input with a redirection (`run sign <file`), never a pipe: a function
# at the end of a pipe may run in a subshell and lose $rc.
run()
{
    rc=0
    "$BAOHAN" "$@" >"$T/out" 2>"$T/err" || rc=$?
}

# run_env NAME=VALUE... -- ARGS...: run with variables added to baohan's
# environment (a prefix assignment to a shell function is not portable).
run_env()
{
    n=$#
    seen=0
    while [ "$n" -gt 0 ]; do
        a=$1
        shift
        if [ "$seen" -eq 0 ] && [ "$a" = "--" ]; then
            seen=1
            set -- "$@" "$BAOHAN"
        else
            set -- "$@" "$a"
        fi
        n=$((n - 1))
    done
    rc=0
    env "$@" >"$T/out" 2>"$T/err" || rc=$?
}

# input TEXT: writes TEXT (no newline added) to $T/in.
input()
{
    printf '%s' "$1" >"$T/in"
}

# expect_rc STATUS WHAT
expect_rc()
{
    checks=$((checks + 1))
    [ "$rc" -eq "$1" ] ||
        fail "$2: expected exit status $1, got $rc; stderr: $(cat "$T/err")"
}

# expect_out TEXT WHAT: stdout is exactly TEXT and one newline.
expect_out()
{
    checks=$((checks + 1))
    printf '%s\n' "$1" >"$T/want"
    cmp -s "$T/want" "$T/out" ||
        fail "$2: expected stdout '$1' and a newline, got '$(cat "$T/out")'"
}

# expect_no_out WHAT: stdout is empty.
expect_no_out()
{
    checks=$((checks + 1))
    [ ! -s "$T/out" ] || fail "$1: expected no output, got '$(cat "$T/out")'"
}

# expect_err_has TEXT WHAT: stderr contains TEXT.
expect_err_has()
{
    checks=$((checks + 1))
    grep -F -q -e "$1" "$T/err" ||
        fail "$2: expected stderr to contain '$1', got '$(cat "$T/err")'"
}

# expect_err_line TEXT WHAT: some stderr line starts with TEXT.
expect_err_line()
{
    checks=$((checks + 1))
    grep -q -e "^$1" "$T/err" ||
        fail "$2: expected a stderr line starting '$1', got '$(cat "$T/err")'"
}

# expect_no_leak TEXT WHAT: neither stdout nor stderr contains TEXT.
expect_no_leak()
{
    checks=$((checks + 1))
    if grep -F -q -e "$1" "$T/err" "$T/out"; then
        fail "$2: the secret appears in the output"
    fi
}

finish()
{
    if [ "$failures" -ne 0 ]; then
        printf '%s: %d of %d checks failed\n' "$0" "$failures" "$checks" >&2
        exit 1
    fi
    if [ "$checks" -eq 0 ]; then
        printf '%s: no checks ran\n' "$0" >&2
        exit 1
    fi
    printf '%s: all %d checks passed\n' "$0" "$checks"
    exit 0
}
