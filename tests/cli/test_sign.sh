# baohan sign / canon / verify against the worked examples of PROTOCOL.md §4.
. "$(dirname "$0")/lib.sh"

SECRET=s3cr3t-FI001
REQ=$DATA/cli/sign-example.json
SHORT=$DATA/cli/sign-example-short.json
SIG=3ac5b6f1173c414153af277acd6c912e4737e01f57c3b7a0dbaa98aea1fa9435
SIG_UPPER=3AC5B6F1173C414153AF277ACD6C912E4737E01F57C3B7A0DBAA98AEA1FA9435
SHORT_SIG=0e4a7c923701666d83e537945b34be773b4adee49f650b36f3c618a9c3bce97b
CANON='appkey=FI001&applyno=ZZBH202611280001&baohanno=BH-2026-000123&reason=项目终止，申请退保&timestamp=2026-11-28 10:00:00&appsecret=***'

# sign: flag, environment, FILE, standard input, "-".
run sign --appsecret "$SECRET" "$REQ"
expect_rc 0 "sign --appsecret FILE"
expect_out "$SIG" "sign of the §4 example (its sign field ignored)"
run sign --appsecret="$SECRET" <"$REQ"
expect_out "$SIG" "sign --appsecret=S, request on stdin"
run_env BAOHAN_APPSECRET=$SECRET -- sign - <"$REQ"
expect_rc 0 "sign with BAOHAN_APPSECRET"
expect_out "$SIG" "sign with the secret from the environment"
run_env BAOHAN_APPSECRET=wrong-secret -- sign --appsecret "$SECRET" "$REQ"
expect_out "$SIG" "--appsecret wins over BAOHAN_APPSECRET"
run sign --appsecret "$SECRET" "$SHORT"
expect_out "$SHORT_SIG" "sign of the three-field example"

# canon: the hashed string, secret masked, needs no secret.
run canon "$REQ"
expect_rc 0 "canon"
expect_out "$CANON" "canon of the §4 example"
run_env BAOHAN_APPSECRET=$SECRET -- canon <"$REQ"
expect_out "$CANON" "canon never shows the secret"

# verify.
sed "s/\"sign\":\"x\"/\"sign\":\"$SIG\"/" "$REQ" >"$T/good.json"
sed "s/\"sign\":\"x\"/\"sign\":\"$SIG_UPPER\"/" "$REQ" >"$T/upper.json"
sed "s/\"sign\":\"x\"/\"sign\":\"$SHORT_SIG\"/" "$REQ" >"$T/bad.json"
sed 's/,"sign":"x"//' "$REQ" >"$T/unsigned.json"
sed "s/项目终止/项目继续/; s/\"sign\":\"x\"/\"sign\":\"$SIG\"/" "$REQ" >"$T/tampered.json"

run verify --appsecret "$SECRET" "$T/good.json"
expect_rc 0 "verify with the right lower-case sign"
expect_out "signature OK" "verify says so"
run verify --appsecret "$SECRET" --quiet "$T/upper.json"
expect_rc 0 "verify with the right upper-case sign"
expect_no_out "verify --quiet prints nothing"
run_env BAOHAN_APPSECRET=$SECRET -- verify <"$T/good.json"
expect_rc 0 "verify with BAOHAN_APPSECRET, stdin"
run verify --appsecret "$SECRET" "$T/bad.json"
expect_rc 1 "verify with a wrong sign"
expect_err_line "sign: " "a wrong sign is reported on field sign"
run verify --appsecret "$SECRET" "$T/tampered.json"
expect_rc 1 "verify of a tampered request"
expect_err_line "sign: " "tampering is reported on field sign"
run verify --appsecret s3cr3t-FI002 "$T/good.json"
expect_rc 1 "verify with the wrong appsecret"
expect_no_leak s3cr3t-FI002 "verify with the wrong appsecret"
run verify --appsecret "$SECRET" "$T/unsigned.json"
expect_rc 1 "verify of a request without sign"
expect_err_line "sign: " "a missing sign is reported on field sign"

# Unusable input: exit 2.
input '{"appkey":"FI001",'
run verify --appsecret "$SECRET" <"$T/in"
expect_rc 2 "verify of malformed JSON"
input '{"appkey":"FI001","appkey":"FI002"}'
run verify --appsecret "$SECRET" <"$T/in"
expect_rc 2 "verify of a request with a duplicate key"
expect_err_has appkey "the duplicate key is named"
input '{"appkey":{"a":1}}'
run sign --appsecret "$SECRET" <"$T/in"
expect_rc 2 "sign of a nested request"
run verify --appsecret "$SECRET" "$T/no-such-file.json"
expect_rc 2 "verify of a missing file"
expect_err_has no-such-file.json "the missing file is named"
run canon "$T/no-such-file.json"
expect_rc 2 "canon of a missing file"

# Input over the request cap (BH_MSG_MAX_REQUEST, 1 MiB) is refused unread.
dd if=/dev/zero bs=1024 count=1100 2>/dev/null | tr '\0' ' ' >"$T/big.json"
run canon "$T/big.json"
expect_rc 2 "canon of 1.1 MiB of input"
expect_err_has "larger than" "the size limit is the reason"

# No secret: exit 2, both places named.
run sign "$REQ"
expect_rc 2 "sign without a secret"
expect_err_has BAOHAN_APPSECRET "the missing secret's variable is named"
expect_err_has --appsecret "the missing secret's option is named"
run verify "$T/good.json"
expect_rc 2 "verify without a secret"
run sign --appsecret "" "$REQ"
expect_rc 2 "sign with an empty secret"
run sign --appsecret
expect_rc 2 "--appsecret without a value"

finish
