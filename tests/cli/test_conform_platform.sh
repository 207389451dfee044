# baohan conform --role platform passes against our platform role: a baohand
# started with role = platform, whose [institution fi] URL is the suite's
# --listen address. Every check passes, none is skipped.
#
# ctest runs it (tests/CMakeLists.txt takes every tests/cli/test_*.sh); by hand:
#   BAOHAN=build/bin/baohan BAOHAND=build/bin/baohand DATA=tests/data \
#       sh tests/cli/test_conform_platform.sh
. "$(dirname "$0")/lib.sh"
: "${BAOHAND:?BAOHAND must name the baohand binary}"
SECRET=s3cr3t-FI001
KEY=0123456789abcdeffedcba9876543210
TOKEN=cli-test-admin-token-0123456789

# start_platform LISTEN_PORT: baohand as the platform, the institution at
# 127.0.0.1:LISTEN_PORT; sets $port and $admin_port.
start_platform()
{
    cat >"$T/platform.ini" <<INI
[server]
role = platform
listen = 127.0.0.1:0
data_dir = $T/data-$1
[admin]
listen = 127.0.0.1:0
token = $TOKEN
[institution fi]
appkey = FI001
appsecret = $SECRET
sm4_key = $KEY
url = http://127.0.0.1:$1
INI
    launch_baohand "$T/platform.ini"
}

# The platform must know the suite's address before the suite starts: try a
# few ports until the suite can listen on one.
n=0
while :; do
    lport=$((20000 + ($$ + n * 7919) % 40000))
    start_platform $lport
    run conform --role platform --url "http://127.0.0.1:$port" --listen "127.0.0.1:$lport" \
        --appkey FI001 --appsecret $SECRET --key $KEY \
        --admin-url "http://127.0.0.1:$admin_port" --admin-token "$TOKEN" --institution fi
    [ "$rc" -eq 2 ] && grep -q 'cannot listen' "$T/err" && [ $n -lt 5 ] || break
    kill $daemon
    wait $daemon 2>/dev/null
    n=$((n + 1))
done
expect_rc 0 "conform --role platform against baohand (role = platform)"
total=$(grep -c '^PASS  ' "$T/out" || true)
checks=$((checks + 1))
[ "$total" -ge 70 ] || fail "expected at least 70 checks, got $total: $(cat "$T/out")"
checks=$((checks + 1))
[ "$(grep -c -v '^PASS  ' "$T/out")" -eq 1 ] ||
    fail "every line but the summary is PASS: $(grep -v '^PASS  ' "$T/out")"
checks=$((checks + 1))
tail -n 1 "$T/out" | grep -q -x "$total passed, 0 failed, 0 skipped" ||
    fail "the summary says $total passed, 0 failed, 0 skipped: $(tail -n 1 "$T/out")"
for name in "baohanapply sent: signature verifies (SM3 over the byte-sorted string)" \
    "baohanapply sent: the fields given to the admin API" \
    "baohanapply: the platform keeps the Payurl (admin API)" \
    "baohannotice: happy path (applystatus 1 with baohanno)" \
    "baohannotice: retry with an unknown field added accepted" \
    "quitapply sent: signature verifies (SM3 over the byte-sorted string)" \
    "quitnotice: after quitapply accepted, repeat accepted" \
    "getbaohaninfo: the platform downloads every file URL" \
    "getbaohaninfo: every file checked and found to match (admin API)" \
    "getbaohaninfo: a file whose MD5 differs recorded as a mismatch (admin API)" \
    "claimsnotice sent: signature verifies (SM3 over the byte-sorted string)" \
    "claimsnotice sent: the fields given to the admin API" \
    "giveupnotice sent: required fields present and valid" \
    "baohannotice: unknown field Zextra accepted"; do
    checks=$((checks + 1))
    grep -q -x -F "PASS  $name" "$T/out" || fail "expected the line 'PASS  $name'"
done
expect_no_leak $SECRET "conform --role platform"
expect_no_leak "$TOKEN" "conform --role platform"

# --json: the same checks, one line.
run conform --role platform --url "http://127.0.0.1:$port" --listen "127.0.0.1:$lport" \
    --appkey FI001 --appsecret $SECRET --key $KEY \
    --admin-url "http://127.0.0.1:$admin_port" --admin-token "$TOKEN" --institution fi --json
expect_rc 0 "conform --role platform --json"
checks=$((checks + 1))
grep -q "^{\"role\":\"platform\",\"url\":\"http://127.0.0.1:$port\",\"passed\":$total,\"failed\":0,\"skipped\":0," \
    "$T/out" || fail "--json counts $total passed: $(head -c 300 "$T/out")"

finish
