# baohan admin against a real baohand: list, show, reject, refusals, outbox.
. "$(dirname "$0")/lib.sh"

start_baohand
export BAOHAN_ADMIN_URL="http://127.0.0.1:$admin_port"

# An application arrives from the platform.
run seal baohanapply --appsecret s3cr3t-FI001 --key 0123456789abcdeffedcba9876543210 \
    --appkey FI001 "$DATA/examples/baohanapply.plain.json"
expect_rc 0 "seal"
cp "$T/out" "$T/wire.json"
curl -s -H 'Content-Type: application/json' --data-binary @"$T/wire.json" \
    "http://127.0.0.1:$port/baohanapply" >"$T/answer"
checks=$((checks + 1))
grep -q '"code":1' "$T/answer" || fail "baohanapply was not accepted: $(cat "$T/answer")"

run_env BAOHAN_ADMIN_TOKEN=$TOKEN -- admin list
expect_rc 0 "admin list"
checks=$((checks + 1))
grep -q '^1 .*applied .*ZZBH2026112800017' "$T/out" || fail "the list shows the application: $(cat "$T/out")"

run_env BAOHAN_ADMIN_TOKEN=$TOKEN -- admin list --state issued
expect_rc 0 "admin list --state issued"
checks=$((checks + 1))
grep -q 'ZZBH2026112800017' "$T/out" && fail "the state filter keeps an applied application"

run_env BAOHAN_ADMIN_TOKEN=$TOKEN -- admin show 1
expect_rc 0 "admin show"
checks=$((checks + 1))
grep -q '"state": "applied"' "$T/out" || fail "show gives the state: $(cat "$T/out")"
checks=$((checks + 1))
grep -q '漳州市芗城区九龙江西岸道路提升工程' "$T/out" || fail "show gives the decrypted request"

run_env BAOHAN_ADMIN_TOKEN=$TOKEN -- admin reject 1
expect_rc 2 "reject without a reason"
expect_err_line "reason: " "reject without a reason"

run_env BAOHAN_ADMIN_TOKEN=$TOKEN -- admin reject 1 --reason 资信不符
expect_rc 0 "reject"
checks=$((checks + 1))
grep -q '"state": "rejected"' "$T/out" || fail "reject moves to rejected: $(cat "$T/out")"

run_env BAOHAN_ADMIN_TOKEN=$TOKEN -- admin approve 1
expect_rc 1 "approve a rejected application"
expect_err_line "state: " "approve a rejected application"

run_env BAOHAN_ADMIN_TOKEN=$TOKEN -- admin show 99
expect_rc 1 "show an unknown id"
expect_err_line "id: " "show an unknown id"

run_env BAOHAN_ADMIN_TOKEN=$TOKEN -- admin outbox
expect_rc 0 "admin outbox"
checks=$((checks + 1))
grep -q '"baohannotice"' "$T/out" || fail "the rejection notice is in the outbox: $(cat "$T/out")"

run_env BAOHAN_ADMIN_TOKEN=wrong-token-0123456789 -- admin list
expect_rc 2 "a wrong token"
expect_err_line "Authorization: " "a wrong token"
expect_no_leak "wrong-token-0123456789" "a wrong token"

run admin list
expect_rc 2 "no token"

run admin --help
expect_rc 0 "admin --help"

finish
