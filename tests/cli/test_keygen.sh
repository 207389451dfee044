# baohan keygen: three lines of the right shapes, fresh on every run, and
# the credentials it prints work.
. "$(dirname "$0")/lib.sh"

run keygen
expect_rc 0 "keygen"
cp "$T/out" "$T/k1"
run keygen
expect_rc 0 "keygen, second run"
cp "$T/out" "$T/k2"

checks=$((checks + 1))
[ "$(wc -l <"$T/k1")" -eq 3 ] || fail "keygen prints three lines, got: $(cat "$T/k1")"
checks=$((checks + 1))
sed -n 1p "$T/k1" | grep -q -x 'appkey=[0-9a-f]\{16\}' ||
    fail "line 1 is appkey= and 16 lower-case hex characters: $(sed -n 1p "$T/k1")"
checks=$((checks + 1))
sed -n 2p "$T/k1" | grep -q -x 'appsecret=[0-9a-f]\{64\}' ||
    fail "line 2 is appsecret= and 64 lower-case hex characters"
checks=$((checks + 1))
sed -n 3p "$T/k1" | grep -q -x 'sm4key=[0-9a-f]\{32\}' ||
    fail "line 3 is sm4key= and 32 lower-case hex characters"

for line in 1 2 3; do
    checks=$((checks + 1))
    [ "$(sed -n ${line}p "$T/k1")" != "$(sed -n ${line}p "$T/k2")" ] ||
        fail "keygen line $line is the same on two runs"
done

# The generated credentials are usable.
appkey=$(sed -n 's/^appkey=//p' "$T/k1")
secret=$(sed -n 's/^appsecret=//p' "$T/k1")
key=$(sed -n 's/^sm4key=//p' "$T/k1")
run seal quitapply --appkey "$appkey" --appsecret "$secret" --key "$key" \
    "$DATA/examples/quitapply.plain.json"
expect_rc 0 "seal with generated credentials"
cp "$T/out" "$T/wire.json"
run open quitapply --appkey "$appkey" --appsecret "$secret" --key "$key" "$T/wire.json"
expect_rc 0 "open with generated credentials"

run keygen extra
expect_rc 2 "keygen with an argument"

finish
