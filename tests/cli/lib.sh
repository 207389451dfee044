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

# baohand_ini FILE EXTRA: writes a complete baohand configuration (mode 600)
# with data in $T/data, listeners on free loopback ports, the admin token
# $TOKEN, and EXTRA (e.g. a [signing] section) at the end.
baohand_ini()
{
    TOKEN=cli-test-admin-token-0123456789
    cat >"$1" <<INI
[server]
listen = 127.0.0.1:0
public_url = http://127.0.0.1:1
data_dir = $T/data
[admin]
listen = 127.0.0.1:0
token = $TOKEN
[institution]
name = 测试保险股份有限公司
bank = 测试银行
account_name = 测试保险股份有限公司
account_no = 1234567890123
premium_rate = 0.0015
min_premium = 300
[platform zz]
appkey = FI001
appsecret = s3cr3t-FI001
sm4_key = 0123456789abcdeffedcba9876543210
url = http://127.0.0.1:1
$2
INI
    chmod 600 "$1"
}

# start_baohand: writes a configuration to $T and starts baohand on free
# loopback ports; sets $port, $admin_port and $TOKEN, and stops it on exit.
# Guarantees are signed with fresh ECDSA test material in $T/pki.
# Needs BAOHAND (the built daemon) and BAOHAN in the environment.
start_baohand()
{
    : "${BAOHAND:?BAOHAND must name the baohand binary}"
    baohand_ini "$T/baohand.ini" "[signing]
cert = pki/institution.pem
key = pki/institution.key
chain = pki/chain.pem"
    "${BAOHAN:?BAOHAN must name the baohan binary}" pki init "$T/pki" --alg ec \
        --name 测试保险股份有限公司 >/dev/null
    launch_baohand "$T/baohand.ini"
}

# launch_baohand CONFIG: starts baohand with CONFIG (mode 600), waits for both
# listeners, sets $daemon, $port and $admin_port, and stops it on exit; a
# daemon that does not start is a failure and ends the test.
launch_baohand()
{
    chmod 600 "$1"
    # A log left by an earlier daemon must not be read as this one's: the
    # shell truncates it only once the new process runs.
    rm -f "$T/daemon.err"
    "$BAOHAND" --config "$1" >"$T/daemon.out" 2>"$T/daemon.err" &
    daemon=$!
    trap 'kill $daemon 2>/dev/null; wait $daemon 2>/dev/null; rm -rf "$T"' EXIT
    i=0
    while ! grep -q 'admin on' "$T/daemon.err" 2>/dev/null && [ $i -lt 200 ]; do
        sleep 0.05
        i=$((i + 1))
    done
    port=$(sed -n 's/.*listening on [^ ]* (port \([0-9]*\)).*/\1/p' "$T/daemon.err")
    admin_port=$(sed -n 's/.*admin on [^ ]* (port \([0-9]*\)).*/\1/p' "$T/daemon.err")
    checks=$((checks + 1))
    if [ -z "$port" ] || [ -z "$admin_port" ]; then
        fail "baohand did not start: $(cat "$T/daemon.err")"
        finish
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
