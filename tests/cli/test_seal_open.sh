# baohan seal then open gives back the plaintext, for every example request
# in tests/data/examples (interface name = file name prefix).
. "$(dirname "$0")/lib.sh"

SECRET=s3cr3t-FI001
KEY=0123456789abcdeffedcba9876543210
TS='2026-11-28 10:00:00'
set -- "$DATA"/examples/*.plain.json
[ -f "$1" ] || { echo "no examples in $DATA/examples" >&2; exit 1; }

# value FIELD FILE: the string value of FIELD in a JSON file (the examples
# hold no escaped quotes in encrypted fields).
value()
{
    sed -n "s/.*\"$1\": *\"\\([^\"]*\\)\".*/\\1/p" "$2" | head -n 1
}

nexamples=0
for plain in "$@"; do
    name=$(basename "$plain" .plain.json)
    nexamples=$((nexamples + 1))

    run seal "$name" --appsecret "$SECRET" --key "$KEY" --appkey FI001 --timestamp "$TS" "$plain"
    expect_rc 0 "seal $name"
    cp "$T/out" "$T/$name.wire.json"

    # The wire request is signed with the secret and carries appkey and timestamp.
    run verify --appsecret "$SECRET" "$T/$name.wire.json"
    expect_rc 0 "the sealed $name verifies"
    checks=$((checks + 1))
    grep -q "\"appkey\": *\"FI001\"" "$T/$name.wire.json" &&
        grep -q "\"timestamp\": *\"$TS\"" "$T/$name.wire.json" ||
        fail "the sealed $name lacks appkey FI001 or timestamp $TS"

    # Each 密文 field (per the schema) travels as the SM4 ciphertext of its value.
    run interfaces "$name"
    sed -n '/^request:/,/^$/s/^  \([A-Za-z]*\)  *[a-z]*  *yes .*/\1/p' "$T/out" >"$T/encrypted"
    while read -r field; do
        want=$(value "$field" "$plain")
        [ -n "$want" ] || continue
        got=$(value "$field" "$T/$name.wire.json")
        checks=$((checks + 1))
        [ "$got" != "$want" ] || fail "$name: $field travels in plaintext"
        printf '%s\n' "$got" >"$T/cipher"
        run decrypt --key "$KEY" <"$T/cipher"
        expect_out "$want" "$name: $field decrypts to its plaintext"
    done <"$T/encrypted"

    # open gives the plaintext back: compare the signed strings (sorted keys,
    # exact values) of the opened request and of the plaintext plus appkey
    # and timestamp.
    run open "$name" --appsecret "$SECRET" --key "$KEY" "$T/$name.wire.json"
    expect_rc 0 "open $name"
    cp "$T/out" "$T/$name.opened.json"
    sed "1s/{/{\"appkey\":\"FI001\",\"timestamp\":\"$TS\",/" "$plain" >"$T/$name.expected.json"
    run canon "$T/$name.expected.json"
    expect_rc 0 "canon of the expected $name"
    cp "$T/out" "$T/expected.canon"
    run canon "$T/$name.opened.json"
    expect_rc 0 "canon of the opened $name"
    checks=$((checks + 1))
    cmp -s "$T/expected.canon" "$T/out" ||
        fail "open $name: got $(cat "$T/out"), expected $(cat "$T/expected.canon")"

    # Pretty output is the same request; secrets from the environment work.
    run_env BAOHAN_APPSECRET=$SECRET BAOHAN_SM4_KEY=$KEY -- \
        open "$name" --pretty "$T/$name.wire.json"
    expect_rc 0 "open $name --pretty with secrets from the environment"
    cp "$T/out" "$T/pretty.json"
    run canon "$T/pretty.json"
    checks=$((checks + 1))
    cmp -s "$T/expected.canon" "$T/out" || fail "open $name --pretty gives another request"
done

# All seven examples ran, and the 密文 field list is the one of PROTOCOL.md §7.1.
checks=$((checks + 1))
[ "$nexamples" -ge 7 ] || fail "expected the seven example requests, found $nexamples"
run interfaces baohanapply
n=$(sed -n '/^request:/,/^$/s/^  \([A-Za-z]*\)  *[a-z]*  *yes .*/\1/p' "$T/out" | wc -l)
checks=$((checks + 1))
[ "$n" -eq 17 ] || fail "baohanapply has 17 密文 request fields, the table shows $n"

# Without --timestamp the current time is used, and it passes a 300 s window.
run seal quitapply --appsecret "$SECRET" --key "$KEY" --appkey FI001 \
    "$DATA/examples/quitapply.plain.json"
expect_rc 0 "seal without --timestamp"
cp "$T/out" "$T/now.json"
checks=$((checks + 1))
grep -q '"timestamp":"20[0-9][0-9]-[01][0-9]-[0-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-5][0-9]"' \
    "$T/now.json" || fail "seal without --timestamp: no current timestamp in $(cat "$T/now.json")"
run open quitapply --appsecret "$SECRET" --key "$KEY" --window 300 "$T/now.json"
expect_rc 0 "open --window 300 of a fresh request"

# --timestamp replaces the request's own timestamp; without it the request's own is kept.
sed '1s/{/{"timestamp":"2026-01-02 03:04:05",/' "$DATA/examples/quitapply.plain.json" >"$T/ts.json"
run seal quitapply --appsecret "$SECRET" --key "$KEY" --appkey FI001 --timestamp "$TS" "$T/ts.json"
expect_rc 0 "seal --timestamp of a request with its own timestamp"
checks=$((checks + 1))
grep -q "\"timestamp\":\"$TS\"" "$T/out" || fail "--timestamp does not win: $(cat "$T/out")"
run seal quitapply --appsecret "$SECRET" --key "$KEY" --appkey FI001 "$T/ts.json"
checks=$((checks + 1))
grep -q '"timestamp":"2026-01-02 03:04:05"' "$T/out" ||
    fail "the request's own timestamp is not kept: $(cat "$T/out")"

# The appkey comes from BAOHAN_APPKEY too, and open can insist on it.
run_env BAOHAN_APPKEY=FI009 -- seal giveupnotice --appsecret "$SECRET" --key "$KEY" \
    "$DATA/examples/giveupnotice.plain.json"
expect_rc 0 "seal with BAOHAN_APPKEY"
cp "$T/out" "$T/fi009.json"
checks=$((checks + 1))
grep -q '"appkey":"FI009"' "$T/fi009.json" || fail "BAOHAN_APPKEY not used: $(cat "$T/fi009.json")"
run open giveupnotice --appsecret "$SECRET" --key "$KEY" --appkey FI009 "$T/fi009.json"
expect_rc 0 "open --appkey with the request's appkey"
run open giveupnotice --appsecret "$SECRET" --key "$KEY" --appkey FI001 "$T/fi009.json"
expect_rc 1 "open --appkey with another appkey"
expect_err_line "appkey: " "the appkey mismatch names appkey"

finish
