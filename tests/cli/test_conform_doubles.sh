# baohan conform can fail: against deliberately wrong test doubles
# (tests/doubles/) it reports exactly the checks each double breaks, by name
# from --json, and passes every other check.
#   - double_inst_casefold: an institution (a proxy in front of our baohand)
#     that verifies signatures with keys sorted case-insensitively;
#   - double_platform_jsonsign: a platform that signs the JSON text of what
#     it sends instead of the sorted key=value string.
. "$(dirname "$0")/lib.sh"
: "${DOUBLE_INST:?DOUBLE_INST must name the double_inst_casefold binary}"
: "${DOUBLE_PLATFORM:?DOUBLE_PLATFORM must name the double_platform_jsonsign binary}"
SECRET=s3cr3t-FI001
KEY=0123456789abcdeffedcba9876543210
start_baohand
pids=$daemon
trap 'kill $pids 2>/dev/null; wait $pids 2>/dev/null; rm -rf "$T"' EXIT

# start_double NAME BINARY ARGS...: starts a double on a free port; sets $dport.
start_double()
{
    name=$1
    shift
    rm -f "$T/$name.err" # not to read an earlier double's port
    "$@" >"$T/$name.out" 2>"$T/$name.err" &
    pids="$pids $!"
    i=0
    while ! grep -q 'listening on port' "$T/$name.err" 2>/dev/null && [ $i -lt 200 ]; do
        sleep 0.05
        i=$((i + 1))
    done
    dport=$(sed -n 's/.*listening on port \([0-9]*\).*/\1/p' "$T/$name.err")
    checks=$((checks + 1))
    [ -n "$dport" ] || fail "$name did not start: $(cat "$T/$name.err")"
}

# failed_checks: the names of the checks --json (in $T/out) reports as not
# PASS, one a line, sorted.
failed_checks()
{
    tr '{' '\n' <"$T/out" | grep '"result":"\(FAIL\|SKIPPED\)"' |
        sed -n 's/^"name":"\([^"]*\)".*/\1/p' | sort
}

# expect_failed WHAT NAME...: exactly these checks failed, the rest passed.
expect_failed()
{
    what=$1
    shift
    : >"$T/want"
    [ $# -eq 0 ] || printf '%s\n' "$@" | sort >"$T/want"
    failed_checks >"$T/got"
    checks=$((checks + 1))
    cmp -s "$T/want" "$T/got" ||
        fail "$what: expected exactly these checks to fail: $(cat "$T/want"); got: $(cat "$T/got")"
    checks=$((checks + 1))
    total=$(grep -o '"result":"PASS"' "$T/out" | wc -l)
    [ "$total" -ge 40 ] || fail "$what: expected at least 40 passing checks, got $total"
}

# The institution that sorts keys case-insensitively: only the request with a
# key whose two orders differ (Zextra) is refused.
start_double inst "$DOUBLE_INST" --listen 127.0.0.1:0 --upstream "http://127.0.0.1:$port" \
    --appsecret $SECRET
run conform --role institution --url "http://127.0.0.1:$dport" --appkey FI001 \
    --appsecret $SECRET --key $KEY --json
expect_rc 1 "conform against the case-insensitive institution"
expect_failed "the case-insensitive institution" "baohanapply: unknown field Zextra accepted"
# The same suite against baohand itself passes that check (it can pass).
run conform --role institution --url "http://127.0.0.1:$port" --appkey FI001 \
    --appsecret $SECRET --key $KEY --json
expect_rc 0 "conform against baohand directly"
expect_failed "baohand directly"

# The platform that signs the JSON text: the suite plays the institution on
# a port the double must know beforehand, so try a few until one is free.
n=0
while :; do
    lport=$((20000 + ($$ + n * 7919) % 40000))
    start_double platform "$DOUBLE_PLATFORM" --listen 127.0.0.1:0 \
        --institution-url "http://127.0.0.1:$lport" --name fi --appkey FI001 \
        --appsecret $SECRET --key $KEY --token "$TOKEN"
    run conform --role platform --url "http://127.0.0.1:$dport" --listen "127.0.0.1:$lport" \
        --appkey FI001 --appsecret $SECRET --key $KEY \
        --admin-url "http://127.0.0.1:$dport" --admin-token "$TOKEN" --institution fi --json
    [ "$rc" -eq 2 ] && grep -q 'cannot listen' "$T/err" && [ $n -lt 5 ] || break
    n=$((n + 1))
done
expect_rc 1 "conform against the JSON-signing platform"
expect_failed "the JSON-signing platform" \
    "baohanapply sent: signature verifies (SM3 over the byte-sorted string)" \
    "getbaohaninfo sent: signature verifies (SM3 over the byte-sorted string)" \
    "quitapply sent: signature verifies (SM3 over the byte-sorted string)" \
    "giveupnotice sent: signature verifies (SM3 over the byte-sorted string)" \
    "claimsnotice sent: signature verifies (SM3 over the byte-sorted string)"
expect_no_leak $SECRET "conform --role platform"
expect_no_leak "$TOKEN" "conform --role platform"
# The table names the rule and shows what the platform sent.
run conform --role platform --url "http://127.0.0.1:$dport" --listen "127.0.0.1:$lport" \
    --appkey FI001 --appsecret $SECRET --key $KEY \
    --admin-url "http://127.0.0.1:$dport" --admin-token "$TOKEN" --institution fi
expect_rc 1 "conform --role platform, the table"
checks=$((checks + 1))
grep -A4 -x -F 'FAIL  baohanapply sent: signature verifies (SM3 over the byte-sorted string)' \
    "$T/out" >"$T/block"
grep -q '^      rule:   PROTOCOL.md §4: ' "$T/block" &&
    grep -q '^      sent:   {"appkey":"FI001"' "$T/block" &&
    grep -q '^      answer: HTTP 200 {"code":1,"message":"成功","Payurl":"http://127.0.0.1:' \
        "$T/block" || fail "a failure shows the rule, the request and the answer: $(cat "$T/block")"
expect_err_has "playing the institution at http://127.0.0.1:$lport" "the suite says where it listens"


# --wait without an admin API and nobody to act: the suite says what the
# operator must do, the checks that need an application are SKIPPED, exit 1.
run conform --role platform --url "http://127.0.0.1:$dport" --listen "127.0.0.1:$lport" \
    --appkey FI001 --appsecret $SECRET --key $KEY --wait 1 --json
expect_rc 1 "conform --role platform --wait 1 with nobody to act"
expect_err_has "make the platform send a new baohanapply (application 1 of this run) to http://127.0.0.1:$lport/baohanapply" \
    "--wait tells the operator what to do"
checks=$((checks + 1))
grep -q '"passed":3,"failed":0,"skipped":[1-9][0-9]*,' "$T/out" ||
    fail "--wait 1: 3 checks pass (never-sent, malformed, oversized), the rest are skipped: $(head -c 300 "$T/out")"
checks=$((checks + 1))
grep -q '"name":"baohannotice: happy path (applystatus 1 with baohanno)","result":"SKIPPED","rule":"[^"]*","why":"no baohanapply reached http://127.0.0.1:'"$lport"' within --wait 1 s"' \
    "$T/out" || fail "a skipped check says why: $(head -c 600 "$T/out")"
# Without the admin API or --wait nothing can make an application: skipped, exit 1.
run conform --role platform --url "http://127.0.0.1:$dport" --listen "127.0.0.1:$lport" \
    --appkey FI001 --appsecret $SECRET --key $KEY
expect_rc 1 "conform --role platform without --admin-url or --wait"
checks=$((checks + 1))
grep -A1 -x -F 'SKIPPED  baohannotice: rejection (applystatus 0) accepted' "$T/out" |
    grep -q 'needs the platform to send baohanapply: give --admin-url or --wait' ||
    fail "a skipped check says what it needs: $(cat "$T/out")"
# A --listen address the suite cannot bind: usage error naming it.
run conform --role platform --url "http://127.0.0.1:$dport" --listen "127.0.0.1:$dport" \
    --appkey FI001 --appsecret $SECRET --key $KEY --wait 1
expect_rc 2 "--listen on a port in use"
expect_err_has "cannot listen on 127.0.0.1:$dport" "--listen on a port in use"

finish
