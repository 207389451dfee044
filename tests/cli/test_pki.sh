# baohan pki init: test material marked as such, keys owner-only, never
# overwritten (--if-missing keeps a complete set); baohan verify-pdf: usage
# and unreadable input exit 2, a file without a signature exits 1. baohand:
# refuses to start without a signing identity unless allow_unsigned = yes,
# refuses a key others can read and a key that is not the certificate's.
# (Signed guarantees are checked end to end in tests/daemon/test_e2e_signed.)
. "$(dirname "$0")/lib.sh"

out_has()
{
    checks=$((checks + 1))
    grep -F -q -e "$1" "$T/out" || fail "$2: expected stdout to contain '$1', got '$(cat "$T/out")'"
}

for alg in rsa ec sm2; do
    run pki init "$T/$alg/pki" --alg $alg --name 测试担保有限公司
    expect_rc 0 "pki init --alg $alg (parents created)"
    out_has "NOT FOR PRODUCTION" "pki init --alg $alg says it is test material"
    for f in ca.pem ca.key institution.pem institution.key chain.pem; do
        checks=$((checks + 1))
        [ -s "$T/$alg/pki/$f" ] || fail "pki init --alg $alg wrote no $f"
    done
    for f in ca.key institution.key; do
        checks=$((checks + 1))
        [ "$(stat -c %a "$T/$alg/pki/$f")" = 600 ] || fail "$alg $f is not mode 600"
    done
    checks=$((checks + 1))
    openssl x509 -in "$T/$alg/pki/ca.pem" -noout -subject -nameopt utf8 |
        grep -q "测试担保有限公司 TEST CA — NOT FOR PRODUCTION" ||
        fail "$alg: the CA's subject does not say TEST CA — NOT FOR PRODUCTION"
    checks=$((checks + 1))
    openssl verify -CAfile "$T/$alg/pki/ca.pem" "$T/$alg/pki/institution.pem" >/dev/null 2>&1 ||
        fail "$alg: the institution certificate does not verify against the test CA"
done
checks=$((checks + 1))
openssl x509 -in "$T/rsa/pki/institution.pem" -noout -text | grep -q "Public-Key: (2048 bit)" ||
    fail "rsa: not a 2048-bit key"
checks=$((checks + 1))
openssl x509 -in "$T/ec/pki/institution.pem" -noout -text | grep -q "NIST CURVE: P-256" ||
    fail "ec: not a P-256 key"
checks=$((checks + 1))
openssl x509 -in "$T/sm2/pki/institution.pem" -noout -text | grep -q "SM2" ||
    fail "sm2: not an SM2 key"

cp "$T/ec/pki/ca.pem" "$T/ca-before.pem"
run pki init "$T/ec/pki"
expect_rc 2 "pki init into existing material"
expect_err_has "never overwritten" "pki init into existing material"
checks=$((checks + 1))
cmp -s "$T/ca-before.pem" "$T/ec/pki/ca.pem" || fail "pki init overwrote the CA"
run pki init "$T/ec/pki" --if-missing
expect_rc 0 "pki init --if-missing with complete material"
out_has "kept" "pki init --if-missing"
rm "$T/ec/pki/chain.pem"
run pki init "$T/ec/pki" --if-missing
expect_rc 2 "pki init --if-missing with incomplete material"
run pki init "$T/x" --alg dsa
expect_rc 2 "pki init --alg dsa"
run pki create "$T/x"
expect_rc 2 "pki create"

run verify-pdf
expect_rc 2 "verify-pdf without a file"
run verify-pdf "$T/nonexistent.pdf"
expect_rc 2 "verify-pdf of a missing file"
printf '%%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%%%EOF\n' >"$T/plain.pdf"
run verify-pdf "$T/plain.pdf"
expect_rc 1 "verify-pdf of an unsigned PDF"
out_has "no signature" "verify-pdf of an unsigned PDF"
out_has "result:        INVALID" "verify-pdf of an unsigned PDF"
run verify-pdf "$T/plain.pdf" --ca "$T/nonexistent.pem"
expect_rc 1 "verify-pdf of an unsigned PDF with a missing CA file"

# baohand and its signing identity.
: "${BAOHAND:?BAOHAND must name the baohand binary}"
write_ini()
{
    baohand_ini "$T/d.ini" "$1"
}
check_daemon()
{
    rc=0
    "$BAOHAND" --config "$T/d.ini" --check >"$T/out" 2>"$T/err" || rc=$?
}
write_ini ""
check_daemon
expect_rc 2 "baohand without [signing]"
expect_err_has "guarantees must be signed" "baohand without [signing]"
write_ini "[signing]
allow_unsigned = yes"
check_daemon
expect_rc 0 "baohand with allow_unsigned = yes"
write_ini "[signing]
cert = sm2/pki/institution.pem
key = sm2/pki/institution.key
chain = sm2/pki/chain.pem"
check_daemon
expect_rc 0 "baohand with SM2 material (paths relative to the configuration)"
chmod 640 "$T/sm2/pki/institution.key"
check_daemon
expect_rc 2 "baohand with a group-readable key"
expect_err_has "chmod 600" "baohand with a group-readable key"
chmod 600 "$T/sm2/pki/institution.key"
write_ini "[signing]
cert = sm2/pki/institution.pem
key = rsa/pki/institution.key"
check_daemon
expect_rc 2 "baohand with another certificate's key"
expect_err_has "is not the key of the certificate" "baohand with another certificate's key"
write_ini "[signing]
cert = sm2/pki/institution.pem"
check_daemon
expect_rc 2 "baohand with a certificate and no key"
expect_err_has "signing.key is required" "baohand with a certificate and no key"
finish
