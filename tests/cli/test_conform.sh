# baohan conform: the conformance suite passes against our institution
# daemon, and it can fail: with a wrong appsecret or a wrong SM4 key the
# checks that need a request the server can open fail, the refusals still
# pass. --json has the same counts.
# With the admin API the suite issues guarantees itself and every check on
# them passes; with --wait and nobody to approve they are SKIPPED (exit 1).
. "$(dirname "$0")/lib.sh"
start_baohand
# The bidder's page and the files of getbaohaninfo are at public_url: restart
# baohand with it pointing at the protocol listener, on the ports it got.
kill "$daemon"
wait "$daemon" 2>/dev/null || true
sed -e "/^\[server\]/,/^\[admin\]/s|^listen = .*|listen = 127.0.0.1:$port|" \
    -e "/^\[admin\]/,/^\[institution\]/s|^listen = .*|listen = 127.0.0.1:$admin_port|" \
    -e "s|^public_url = .*|public_url = http://127.0.0.1:$port|" "$T/baohand.ini" >"$T/ini.new"
mv "$T/ini.new" "$T/baohand.ini"
first_port=$port
launch_baohand "$T/baohand.ini"
checks=$((checks + 1))
[ "$port" = "$first_port" ] ||
    fail "baohand did not restart on port $first_port: $(cat "$T/daemon.err")"
URL="http://127.0.0.1:$port"
ADMIN="http://127.0.0.1:$admin_port"
SECRET=s3cr3t-FI001
KEY=0123456789abcdeffedcba9876543210

# count PATTERN FILE: how many lines of FILE match PATTERN (0 when none).
count()
{
    grep -c -e "$1" "$2" || true
}

# expect_line RESULT NAME WHAT: the table has the line "RESULT  NAME".
expect_line()
{
    checks=$((checks + 1))
    grep -q -x -F -e "$1  $2" "$T/out" || fail "$3: expected the line '$1  $2'"
}

# Against our daemon, with its admin API: every check passes.
run conform --role institution --url "$URL" --appkey FI001 --appsecret $SECRET --key $KEY \
    --admin-url "$ADMIN" --admin-token "$TOKEN"
expect_rc 0 "conform against baohand"
total=$(count '^PASS  ' "$T/out")
checks=$((checks + 1))
[ "$total" -ge 50 ] || fail "expected at least 50 checks, got $total: $(cat "$T/out")"
checks=$((checks + 1))
[ "$(grep -c -v '^PASS  ' "$T/out")" -eq 1 ] ||
    fail "every line but the summary is PASS: $(grep -v '^PASS  ' "$T/out")"
checks=$((checks + 1))
tail -n 1 "$T/out" | grep -q -x "$total passed, 0 failed, 0 skipped" ||
    fail "the summary says $total passed, 0 failed, 0 skipped: $(tail -n 1 "$T/out")"
expect_line PASS "baohanapply: happy path" "the happy path"
expect_line PASS "quitapply: rejected application refused (admin API)" "the admin check"
# The checks on issued guarantees (the suite issues two through the admin API).
ISSUED='getbaohaninfo: issued guarantee, code 1 and a valid data object
getbaohaninfo: baohanurl downloads, its MD5 is guaranteemd5
getbaohaninfo: orderurl downloads, its MD5 is ordermd5
getbaohaninfo: qualficationfileurl downloads, its MD5 is qualficationfilemd5
getbaohaninfo: businesslicenseurl downloads, its MD5 is businesslicensemd5
getbaohaninfo: guaranteexmlurl downloads, its MD5 is guaranteexmlmd5
getbaohaninfo: payfileurl downloads
getbaohaninfo: baohanfile is the file at baohanurl
getbaohaninfo: wrong baohanno refused
giveupnotice: issued guarantee refused
claimsnotice: issued accepted, repeat accepted
claimsnotice: a different claim refused
quitapply: claimed guarantee refused
quitapply: issued accepted, repeat accepted'
nissued=$(printf '%s\n' "$ISSUED" | wc -l)
printf '%s\n' "$ISSUED" >"$T/issued"
while IFS= read -r name; do
    expect_line PASS "$name" "an issued-guarantee check"
done <"$T/issued"
expect_line PASS "baohanapply: without tenderfileurl" "a missing field"
expect_no_leak $SECRET "conform"
expect_no_leak $TOKEN "conform with the admin API"

# Without the admin API, credentials from the environment; --json: the same counts.
run_env BAOHAN_APPSECRET=$SECRET BAOHAN_SM4_KEY=$KEY BAOHAN_APPKEY=FI001 -- \
    conform --role institution --url "$URL/" --json
expect_rc 0 "conform --json"
n=$((total - 1 - nissued))
checks=$((checks + 1))
grep -q "^{\"role\":\"institution\",\"url\":\"$URL\",\"passed\":$n,\"failed\":0,\"skipped\":0,\"checks\":\[" \
    "$T/out" || fail "--json counts $n passed, 0 failed, 0 skipped: $(head -c 300 "$T/out")"
checks=$((checks + 1))
[ "$(grep -o '"result":"PASS"' "$T/out" | wc -l)" -eq "$n" ] ||
    fail "--json lists $n passing checks"
checks=$((checks + 1))
[ "$(wc -l <"$T/out")" -eq 1 ] || fail "--json is one line"
checks=$((checks + 1))
! grep -q 'getbaohaninfo: issued guarantee' "$T/out" ||
    fail "without the admin API or --wait, the issued-guarantee checks do not run"

# --wait without the admin API and nobody to approve: the issued-guarantee
# checks are SKIPPED with the reason, the operator was told what to do, exit 1.
run conform --role institution --url "$URL" --appkey FI001 --appsecret $SECRET --key $KEY \
    --wait 1 </dev/null
expect_rc 1 "conform --wait 1 without an operator"
while IFS= read -r name; do
    expect_line SKIPPED "$name" "--wait 1"
done <"$T/issued"
checks=$((checks + 1))
[ "$(count '^SKIPPED  ' "$T/out")" -eq "$nissued" ] || fail "--wait 1 skips $nissued checks"
checks=$((checks + 1))
grep -A1 -x -F 'SKIPPED  claimsnotice: issued accepted, repeat accepted' "$T/out" |
    grep -q '^      why:    application CF.* was not issued within --wait 1 s$' ||
    fail "a skipped check says why: $(cat "$T/out")"
checks=$((checks + 1))
tail -n 1 "$T/out" | grep -q -x "$n passed, 0 failed, $nissued skipped" ||
    fail "the summary says $n passed, 0 failed, $nissued skipped: $(tail -n 1 "$T/out")"
expect_err_has "complete the bidder's page at $URL/pay/" "--wait tells the operator"
expect_err_has "record the premium, and approve application CF" "--wait tells the operator"
run conform --role institution --url "$URL" --appkey FI001 --appsecret $SECRET --key $KEY \
    --wait 1 --json </dev/null
expect_rc 1 "conform --wait 1 --json"
checks=$((checks + 1))
grep -q "\"passed\":$n,\"failed\":0,\"skipped\":$nissued," "$T/out" &&
    [ "$(grep -o '"result":"SKIPPED"' "$T/out" | wc -l)" -eq "$nissued" ] ||
    fail "--json counts $nissued skipped: $(head -c 300 "$T/out")"

# A wrong appsecret: what needs a valid signature fails, the refusals pass.
run conform --role institution --url "$URL" --appkey FI001 --appsecret not-the-secret --key $KEY
expect_rc 1 "conform with a wrong appsecret"
expect_line FAIL "baohanapply: happy path" "wrong appsecret"
expect_line FAIL "signature: upper-case hex accepted" "wrong appsecret"
expect_line FAIL "baohanapply: requestData form body accepted" "wrong appsecret"
expect_line FAIL "baohanapply: without biddername" "wrong appsecret (the field is not named)"
expect_line FAIL "giveupnotice: applied accepted, repeat accepted" "wrong appsecret"
expect_line PASS "signature: wrong signature refused" "wrong appsecret"
expect_line PASS "baohanapply: without sign" "wrong appsecret"
expect_line PASS "appkey: unknown appkey refused" "wrong appsecret"
expect_line PASS "timestamp: stale (now - 1 hour) refused" "wrong appsecret"
expect_line PASS "transport: malformed JSON refused" "wrong appsecret"
expect_line PASS "transport: 2 MiB body refused" "wrong appsecret"
expect_line PASS "giveupnotice: never applied refused" "wrong appsecret"
# Refused, but for the signature: a check on a field's value passes only
# when the refusal names that field.
expect_line FAIL "baohanapply: bzjamount \"12.345\" refused" "wrong appsecret (refused, not for bzjamount)"
expect_line FAIL "baohanapply: applyno of 65 characters refused" "wrong appsecret (refused, not for applyno)"
# A failure says which rule, what was sent and what came back.
checks=$((checks + 1))
grep -A4 -x -F 'FAIL  baohanapply: happy path' "$T/out" >"$T/block"
grep -q '^      rule:   PROTOCOL.md §7.1' "$T/block" &&
    grep -q '^      sent:   {"appkey":"FI001"' "$T/block" &&
    grep -q '^      answer: HTTP 200 {"code":0,"message":"sign: ' "$T/block" ||
    fail "a failure shows the rule, the request and the answer: $(cat "$T/block")"
checks=$((checks + 1))
tail -n 1 "$T/out" | grep -q -x "[0-9]* passed, [1-9][0-9]* failed, 0 skipped" ||
    fail "the summary counts the failures: $(tail -n 1 "$T/out")"
expect_no_leak not-the-secret "a wrong appsecret"
run conform --role institution --url "$URL" --appkey FI001 --appsecret not-the-secret --key $KEY \
    --json
expect_rc 1 "conform --json with a wrong appsecret"
checks=$((checks + 1))
grep -q '"failed":[1-9]' "$T/out" || fail "--json counts the failures"

# A wrong SM4 key: signatures are right, so the signature checks pass, but the
# happy path fails and the answer names the undecryptable fields.
run conform --role institution --url "$URL" --appkey FI001 --appsecret $SECRET \
    --key 00112233445566778899aabbccddeeff
expect_rc 1 "conform with a wrong SM4 key"
expect_line FAIL "baohanapply: happy path" "wrong key"
expect_line FAIL "baohanapply: unknown field platformcode accepted" "wrong key"
expect_line PASS "signature: wrong signature refused" "wrong key"
expect_line PASS "giveupnotice: never applied refused" "wrong key"
checks=$((checks + 1))
grep -A4 -x -F 'FAIL  baohanapply: happy path' "$T/out" | grep '^      answer: ' |
    grep -q 'biaoduanno: ' || fail "the answer names a field that did not decrypt: $(cat "$T/out")"

# Nobody listening: every check fails, no crash.
run conform --role institution --url http://127.0.0.1:1 --appkey FI001 --appsecret $SECRET \
    --key $KEY
expect_rc 1 "conform with nobody listening"
checks=$((checks + 1))
grep -q '^      answer: no answer: ' "$T/out" || fail "a failure says no answer came"

# Usage.
run conform --role platform --url "$URL" --appkey FI001 --appsecret $SECRET --key $KEY
expect_rc 2 "--role platform without --listen"
expect_err_has "--role platform needs --listen ADDR" "--role platform without --listen"
run conform --role platform --url "$URL" --listen 127.0.0.1:0 --appkey FI001 --appsecret $SECRET \
    --key $KEY --admin-url "$ADMIN" --admin-token "$TOKEN"
expect_rc 2 "--role platform with --admin-url but no --institution"
run conform --role institution --url "$URL" --listen 127.0.0.1:0 --appkey FI001 \
    --appsecret $SECRET --key $KEY
expect_rc 2 "--listen with --role institution"
run conform --role bank --url "$URL"
expect_rc 2 "an unknown role"
run conform --url "$URL" --appkey FI001 --appsecret $SECRET --key $KEY
expect_rc 2 "no role"
run conform --role institution --appkey FI001 --appsecret $SECRET --key $KEY
expect_rc 2 "no URL"
run conform --role institution --url "$URL" --appsecret $SECRET --key $KEY
expect_rc 2 "no appkey"
run conform --role institution --url "$URL" --appkey FI001 --appsecret $SECRET --key $KEY \
    --admin-url "$ADMIN"
expect_rc 2 "--admin-url without --admin-token"
run conform --role institution --url "$URL" --appkey FI001 --appsecret $SECRET --key $KEY \
    --wait soon
expect_rc 2 "--wait without a number"
run conform --help
expect_rc 0 "conform --help"
checks=$((checks + 1))
grep -q '^usage: baohan conform' "$T/out" || fail "conform --help shows the usage"

finish
