# baohan send: one signed request to a real baohand, from a file or
# field=value arguments, credentials from flags, the environment or a
# configuration section; --dry-run sends nothing.
. "$(dirname "$0")/lib.sh"
start_baohand
URL="http://127.0.0.1:$port"
SECRET=s3cr3t-FI001
KEY=0123456789abcdeffedcba9876543210

# A file, credentials from flags: the institution answers code 1 and a Payurl.
run send baohanapply --url "$URL" --appsecret $SECRET --key $KEY --appkey FI001 \
    "$DATA/examples/baohanapply.plain.json"
expect_rc 0 "send baohanapply"
checks=$((checks + 1))
grep -q '"Payurl":"http://127.0.0.1:1/pay/' "$T/out" || fail "the answer carries Payurl: $(cat "$T/out")"

# field=value arguments, credentials from the environment.
run_env BAOHAN_APPSECRET=$SECRET BAOHAN_SM4_KEY=$KEY BAOHAN_APPKEY=FI001 -- \
    send giveupnotice --url "$URL" applyno=ZZBH2026112800017
expect_rc 0 "send giveupnotice with field=value"
checks=$((checks + 1))
grep -q '"code":1' "$T/out" || fail "giveupnotice accepted: $(cat "$T/out")"

# Credentials and URL from the [platform zz] section of a configuration.
cat >"$T/peer.ini" <<INI
[platform zz]
appkey = FI001
appsecret = $SECRET
sm4_key = $KEY
url = $URL
INI
run send giveupnotice --config "$T/peer.ini" --peer zz applyno=ZZBH2026112800017
expect_rc 0 "send with --config --peer"
run send giveupnotice --config "$T/peer.ini" --peer nobody applyno=X
expect_rc 2 "an unknown peer"
expect_err_has "no [platform nobody]" "an unknown peer"

# Refusals: code 0 exits 1 and says so; a wrong secret is named by the server.
run send getbaohaninfo --url "$URL" --appsecret $SECRET --key $KEY --appkey FI001 \
    applyno=NOPE baohanno=NOPE
expect_rc 1 "getbaohaninfo for an unknown application"
expect_err_has "code 0" "getbaohaninfo for an unknown application"
run send giveupnotice --url "$URL" --appsecret wrong-secret --key $KEY --appkey FI001 applyno=X
expect_rc 1 "a wrong appsecret"
checks=$((checks + 1))
grep -q 'sign' "$T/out" || fail "the server names the signature: $(cat "$T/out")"
expect_no_leak wrong-secret "a wrong appsecret"

# No answer at all: exit 1, the reason named.
run send giveupnotice --url http://127.0.0.1:1 --appsecret $SECRET --key $KEY --appkey FI001 applyno=X
expect_rc 1 "nobody listening"
expect_err_line "url: " "nobody listening"

# --dry-run: the wire request and the string to sign (PROTOCOL.md §4's example), nothing sent.
run send quitapply --dry-run --appsecret $SECRET --key $KEY --appkey FI001 \
    --timestamp "2026-11-28 10:00:00" applyno=ZZBH202611280001 baohanno=BH-2026-000123 \
    reason=项目终止，申请退保
expect_rc 0 "--dry-run"
checks=$((checks + 1))
grep -q '"sign": "3ac5b6f1173c414153af277acd6c912e4737e01f57c3b7a0dbaa98aea1fa9435"' "$T/out" ||
    fail "--dry-run signs as PROTOCOL.md §4: $(cat "$T/out")"
checks=$((checks + 1))
grep -q -x 'appkey=FI001&applyno=ZZBH202611280001&baohanno=BH-2026-000123&reason=项目终止，申请退保&timestamp=2026-11-28 10:00:00&appsecret=\*\*\*' "$T/out" ||
    fail "--dry-run prints the masked string to sign: $(cat "$T/out")"
expect_no_leak $SECRET "--dry-run"

# Usage errors.
run send giveupnotice --appsecret $SECRET --key $KEY --appkey FI001 applyno=X
expect_rc 2 "no URL"
run send nosuchinterface --url "$URL" applyno=X
expect_rc 2 "an unknown interface"
run send giveupnotice --url "$URL" --appsecret $SECRET --key $KEY --appkey FI001 =x
expect_rc 2 "a field without a name"
run send --help
expect_rc 0 "send --help"

finish
