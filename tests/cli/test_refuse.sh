# seal and open refuse bad requests, naming the field: tampered ciphertext,
# tampered fields, missing required fields, stale timestamps, bad input.
. "$(dirname "$0")/lib.sh"

SECRET=s3cr3t-FI001
KEY=0123456789abcdeffedcba9876543210
APPLY=$DATA/examples/baohanapply.plain.json

seal_apply()
{
    run seal baohanapply --appsecret "$SECRET" --key "$KEY" --appkey FI001 \
        --timestamp '2026-11-28 10:00:00' "$1"
}
open_apply()
{
    run open baohanapply --appsecret "$SECRET" --key "$KEY" "$@"
}
# resign FILE: replaces FILE's sign with a correct one (as a sender who holds
# the secret would), so open gets past the signature to the field checks.
resign()
{
    run sign --appsecret "$SECRET" "$1"
    expect_rc 0 "re-sign $1"
    sig=$(cat "$T/out")
    sed "s/\"sign\":\"[0-9a-f]*\"/\"sign\":\"$sig\"/" "$1" >"$T/resigned"
    mv "$T/resigned" "$1"
}

seal_apply "$APPLY"
expect_rc 0 "seal baohanapply"
cp "$T/out" "$T/wire.json"
open_apply "$T/wire.json"
expect_rc 0 "the untouched request opens"

# A ciphertext changed in transit: the signature no longer matches, nothing
# else is looked at.
sed 's/"biaoduanno":"[^"]*"/"biaoduanno":"AgpubKMdybsuh8jfX3SkCg=="/' "$T/wire.json" >"$T/t1.json"
checks=$((checks + 1))
cmp -s "$T/wire.json" "$T/t1.json" && fail "the tamper did not change the request"
open_apply "$T/t1.json"
expect_rc 1 "open of a request with a substituted ciphertext"
expect_err_line "sign: " "the substituted ciphertext breaks the signature"
expect_no_out "a refused request prints nothing"

# A plain field changed in transit.
sed 's/"bzjamount":"200000.00"/"bzjamount":"2000000.00"/' "$T/wire.json" >"$T/t2.json"
open_apply "$T/t2.json"
expect_rc 1 "open of a request with a changed amount"
expect_err_line "sign: " "the changed amount breaks the signature"

# Ciphertext that does not decrypt, under a valid signature: the field is named.
sed 's/"biaoduanname":"[^"]*"/"biaoduanname":"AAAA"/' "$T/wire.json" >"$T/t3.json"
resign "$T/t3.json"
open_apply "$T/t3.json"
expect_rc 1 "open of a request with an undecryptable field"
expect_err_line "biaoduanname: " "the undecryptable field is named"
expect_no_out "nothing is printed for a refused request"

# Two bad ciphertexts and a bad plain field: every problem, one a line.
sed 's/"zbr":"[^"]*"/"zbr":"not base64!"/; s/"projectno":"[^"]*"/"projectno":"AgpubKMdybsuh8jfX3SkCg="/' \
    "$T/wire.json" >"$T/t4.json"
resign "$T/t4.json"
open_apply "$T/t4.json"
expect_rc 1 "open of a request with two undecryptable fields"
expect_err_line "zbr: " "the first undecryptable field is named"
expect_err_line "projectno: " "the second undecryptable field is named"

# A wrong SM4 key: the signature is fine but the fields do not decrypt.
run open baohanapply --appsecret "$SECRET" --key 00112233445566778899aabbccddeeff "$T/wire.json"
expect_rc 1 "open with the wrong key"
expect_err_line "biaoduanno: " "a field that does not decrypt with the key is named"

# Wrong appsecret.
run open baohanapply --appsecret s3cr3t-FI002 --key "$KEY" "$T/wire.json"
expect_rc 1 "open with the wrong appsecret"
expect_err_line "sign: " "a wrong appsecret is a signature problem"
expect_no_leak s3cr3t-FI002 "open with the wrong appsecret"

# A stale timestamp with --window; both problems are listed.
open_apply --window 300 "$T/wire.json"
expect_rc 1 "open --window 300 of a request sealed at a fixed past time"
expect_err_line "timestamp: " "the stale timestamp is named"
open_apply --window 300 "$T/t3.json"
expect_rc 1 "open --window of a stale request with a bad field"
expect_err_line "timestamp: " "the stale timestamp is listed"
expect_err_line "biaoduanname: " "and the bad field too"

# A plaintext missing required fields: seal names each one.
grep -v -e '"applyno"' -e '"zbr"' "$APPLY" >"$T/missing.json"
seal_apply "$T/missing.json"
expect_rc 1 "seal of a plaintext without applyno and zbr"
expect_err_line "applyno: " "the missing applyno is named"
expect_err_line "zbr: " "the missing zbr is named"
expect_no_out "nothing is printed for a refused plaintext"

# A plaintext with malformed values.
sed 's/"bzjamount": "200000.00"/"bzjamount": "200000.005"/; s/"kaibiaotime": "[^"]*"/"kaibiaotime": "2026-02-30 09:00:00"/' \
    "$APPLY" >"$T/badvalues.json"
seal_apply "$T/badvalues.json"
expect_rc 1 "seal of a plaintext with malformed values"
expect_err_line "bzjamount: " "the malformed amount is named"
expect_err_line "kaibiaotime: " "the impossible date is named"

# The request's appkey differs from --appkey.
sed '1s/{/{"appkey":"FI002",/' "$APPLY" >"$T/fi002.json"
seal_apply "$T/fi002.json"
expect_rc 1 "seal of a request whose appkey differs from --appkey"
expect_err_line "appkey: " "the appkey conflict is named"

# No appkey anywhere.
run seal quitapply --appsecret "$SECRET" --key "$KEY" "$DATA/examples/quitapply.plain.json"
expect_rc 1 "seal without any appkey"
expect_err_line "appkey: " "the missing appkey is named"

# A malformed --timestamp is a usage error.
run seal quitapply --appsecret "$SECRET" --key "$KEY" --appkey FI001 \
    --timestamp '2026-11-28T10:00:00' "$DATA/examples/quitapply.plain.json"
expect_rc 2 "seal --timestamp in the wrong shape"
run open quitapply --appsecret "$SECRET" --key "$KEY" --window -5 "$T/wire.json"
expect_rc 2 "open --window -5"
run open quitapply --appsecret "$SECRET" --key "$KEY" --window soon "$T/wire.json"
expect_rc 2 "open --window soon"

# Unknown interface: exit 2 listing the valid names.
seal_run_unknown()
{
    run "$1" baohanapplyy --appsecret "$SECRET" --key "$KEY" "$APPLY"
    expect_rc 2 "$1 with an unknown interface"
    for iface in baohanapply baohannotice getbaohaninfo giveupnotice quitapply quitnotice \
        claimsnotice; do
        expect_err_has "$iface" "$1 lists interface $iface"
    done
}
seal_run_unknown seal
seal_run_unknown open
run seal --appsecret "$SECRET" --key "$KEY" <"$APPLY"
expect_rc 2 "seal without INTERFACE"

# Unreadable or unparseable input: exit 2.
input '{"applyno": "ZZBH2026112800017", '
run open quitapply --appsecret "$SECRET" --key "$KEY" <"$T/in"
expect_rc 2 "open of truncated JSON"
run seal quitapply --appsecret "$SECRET" --key "$KEY" --appkey FI001 <"$T/in"
expect_rc 2 "seal of truncated JSON"
input '["not", "an", "object"]'
run open quitapply --appsecret "$SECRET" --key "$KEY" <"$T/in"
expect_rc 2 "open of a JSON array"
run open quitapply --appsecret "$SECRET" --key "$KEY" "$T/does-not-exist.json"
expect_rc 2 "open of a missing file"

# Missing secrets: exit 2, never a secret in the message.
run seal baohanapply --key "$KEY" --appkey FI001 "$APPLY"
expect_rc 2 "seal without an appsecret"
expect_err_has BAOHAN_APPSECRET "the missing appsecret's variable is named"
run open baohanapply --appsecret "$SECRET" "$T/wire.json"
expect_rc 2 "open without a key"
expect_err_has BAOHAN_SM4_KEY "the missing key's variable is named"
expect_no_leak "$SECRET" "open without a key"
run seal baohanapply --appsecret "$SECRET" --key "secret-key-text" --appkey FI001 "$APPLY"
expect_rc 2 "seal with a malformed key"
expect_no_leak "secret-key-text" "seal with a malformed key"

finish
