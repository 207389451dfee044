# baohan admin platform against two real daemons: a platform baohand that
# sends to an institution baohand (started by start_baohand).
. "$(dirname "$0")/lib.sh"

start_baohand
inst_port=$port

# The platform, its institution "demo" being the daemon above.
PTOKEN=cli-test-platform-token-0123456789
mkdir -p "$T/p"
cat >"$T/p/baohand.ini" <<INI
[server]
role = platform
listen = 127.0.0.1:0
data_dir = $T/p/data
[admin]
listen = 127.0.0.1:0
token = $PTOKEN
[institution demo]
appkey = FI001
appsecret = s3cr3t-FI001
sm4_key = 0123456789abcdeffedcba9876543210
url = http://127.0.0.1:$inst_port
INI
chmod 600 "$T/p/baohand.ini"
"$BAOHAND" --config "$T/p/baohand.ini" >"$T/p/daemon.out" 2>"$T/p/daemon.err" &
pdaemon=$!
trap 'kill $daemon $pdaemon 2>/dev/null; wait $daemon $pdaemon 2>/dev/null; rm -rf "$T"' EXIT
i=0
while ! grep -q 'listening on' "$T/p/daemon.err" && [ $i -lt 200 ]; do
    sleep 0.05
    i=$((i + 1))
done
padmin=$(sed -n 's/.*admin on [^ ]* (port \([0-9]*\)).*/\1/p' "$T/p/daemon.err")
checks=$((checks + 1))
grep -q '^baohand: platform listening on' "$T/p/daemon.err" || fail "the platform did not start: $(cat "$T/p/daemon.err")"
export BAOHAN_ADMIN_URL="http://127.0.0.1:$padmin"

run_env BAOHAN_ADMIN_TOKEN=$PTOKEN -- admin platform apply --institution demo \
    --file "$DATA/examples/baohanapply.plain.json"
expect_rc 0 "platform apply"
checks=$((checks + 1))
grep -q '"state": "sent"' "$T/out" || fail "apply: the application is sent: $(cat "$T/out")"
checks=$((checks + 1))
grep -q '"payurl": "http://127.0.0.1:1/pay/' "$T/out" || fail "apply: the Payurl is kept: $(cat "$T/out")"

run_env BAOHAN_ADMIN_TOKEN=$PTOKEN -- admin platform list
expect_rc 0 "platform list"
checks=$((checks + 1))
grep -q '^1 *demo *sent *ZZBH2026112800017' "$T/out" || fail "the list shows it: $(cat "$T/out")"

run_env BAOHAN_ADMIN_TOKEN=$PTOKEN -- admin platform list --state issued
expect_rc 0 "platform list --state issued"
checks=$((checks + 1))
grep -q 'ZZBH2026112800017' "$T/out" && fail "the state filter keeps a sent application"

run_env BAOHAN_ADMIN_TOKEN=$PTOKEN -- admin platform getbaohaninfo 1
expect_rc 1 "getbaohaninfo before issue"
expect_err_line "state: application 1 has no guarantee number yet (state sent)" "getbaohaninfo before issue"

run_env BAOHAN_ADMIN_TOKEN=$PTOKEN -- admin platform quitapply 1
expect_rc 2 "quitapply without a reason"
expect_err_has "--reason" "quitapply without a reason"

run_env BAOHAN_ADMIN_TOKEN=$PTOKEN -- admin platform claims 1
expect_rc 2 "claims without a file"

run_env BAOHAN_ADMIN_TOKEN=$PTOKEN -- admin platform giveup 1
expect_rc 0 "platform giveup"
checks=$((checks + 1))
grep -q '"state": "given_up"' "$T/out" || fail "giveup: given up: $(cat "$T/out")"

# The institution agrees.
run_env BAOHAN_ADMIN_TOKEN=$TOKEN BAOHAN_ADMIN_URL="http://127.0.0.1:$admin_port" -- admin show 1
expect_rc 0 "institution show"
checks=$((checks + 1))
grep -q '"state": "given_up"' "$T/out" || fail "the institution has it given up: $(cat "$T/out")"

# Refusals: an unknown institution; the same applyno with other content.
run_env BAOHAN_ADMIN_TOKEN=$PTOKEN -- admin platform apply --institution nobody \
    --file "$DATA/examples/baohanapply.plain.json"
expect_rc 2 "apply to an unknown institution"
expect_err_line "institution: no " "unknown institution"
expect_err_has "nobody] in the configuration" "unknown institution"
sed 's/"200000.00"/"1.00"/' "$DATA/examples/baohanapply.plain.json" >"$T/changed.json"
run_env BAOHAN_ADMIN_TOKEN=$PTOKEN -- admin platform apply --institution demo --file "$T/changed.json"
expect_rc 1 "apply with changed content"
expect_err_line "applyno: ZZBH2026112800017 was already sent to demo with different content" "changed content"

# The institution gone: the URL and the cause, and the application waits in "sending".
kill $daemon
wait $daemon 2>/dev/null
sed 's/ZZBH2026112800017/ZZBH2026112800018/' "$DATA/examples/baohanapply.plain.json" >"$T/next.json"
run_env BAOHAN_ADMIN_TOKEN=$PTOKEN -- admin platform apply --institution demo --file "$T/next.json"
expect_rc 1 "apply with the institution down"
expect_err_line "url: baohanapply to http://127.0.0.1:$inst_port/baohanapply: " "institution down"
run_env BAOHAN_ADMIN_TOKEN=$PTOKEN -- admin platform show 2
expect_rc 0 "show after a failed send"
checks=$((checks + 1))
grep -q '"state": "sending"' "$T/out" || fail "a failed send leaves it sending: $(cat "$T/out")"

run_env BAOHAN_ADMIN_TOKEN=wrong-token-0123456789abcdef -- admin platform list
expect_rc 2 "a wrong token"

finish
