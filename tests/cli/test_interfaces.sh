# baohan interfaces: the list and the field tables come from the schema.
. "$(dirname "$0")/lib.sh"

run interfaces
expect_rc 0 "baohan interfaces"
checks=$((checks + 1))
[ "$(wc -l <"$T/out")" -eq 7 ] || fail "seven interfaces listed, got: $(cat "$T/out")"
for i in baohanapply:institution baohannotice:platform getbaohaninfo:institution \
    giveupnotice:institution quitapply:institution quitnotice:platform \
    claimsnotice:institution; do
    checks=$((checks + 1))
    grep -q "^${i%%:*}  *${i#*:} " "$T/out" || fail "interface ${i%%:*} served by ${i#*:} not listed"
done

run interfaces baohanapply
expect_rc 0 "baohan interfaces baohanapply"
row()
{
    checks=$((checks + 1))
    grep -q "^  $1 *$2 *$3 *$4 " "$T/out" ||
        fail "baohanapply row '$1 $2 $3 $4' not found in: $(cat "$T/out")"
}
row appkey required - 'text([0-9]*)'
row timestamp required - datetime
row sign required - 'text([0-9]*)'
row biaoduanno required yes 'text([0-9]*)'
row zbrorgnum optional yes creditcode
row bzjamount required - money
row kaibiaotime required yes datetime
row citycode required - division
row tendernoticeurl optional yes 'url([0-9]*)'
row Payurl 'if code=1' - 'url([0-9]*)'
checks=$((checks + 1))
grep -q '业务流水号' "$T/out" || fail "the label of applyno is shown"

run interfaces getbaohaninfo
expect_rc 0 "baohan interfaces getbaohaninfo"
checks=$((checks + 1))
grep -q '^  guaranteemd5  *required  *-  *md5 ' "$T/out" || fail "getbaohaninfo data table lacks guaranteemd5"

run interfaces --markdown claimsnotice
expect_rc 0 "interfaces --markdown"
checks=$((checks + 1))
grep -q '^| Reason | optional | - | text([0-9]*) | ' "$T/out" || fail "Markdown row for Reason"

run interfaces nosuch
expect_rc 2 "interfaces of an unknown name"
expect_err_has claimsnotice "the valid names are listed"

finish
