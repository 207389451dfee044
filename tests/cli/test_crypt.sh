# baohan encrypt / decrypt against the examples of PROTOCOL.md §5.
. "$(dirname "$0")/lib.sh"

KEY=0123456789abcdeffedcba9876543210
KEY_B64=ASNFZ4mrze/+3LqYdlQyEA== # the same 16 bytes in Base64

# pair PLAINTEXT CIPHERTEXT: both directions, both key forms.
pair()
{
    printf '%s\n' "$1" >"$T/plain"
    printf '%s\n' "$2" >"$T/cipher"
    run encrypt --key "$KEY" <"$T/plain"
    expect_rc 0 "encrypt '$1' (hex key)"
    expect_out "$2" "encrypt '$1' (hex key)"
    run encrypt --key "$KEY_B64" <"$T/plain"
    expect_out "$2" "encrypt '$1' (Base64 key)"
    run decrypt --key "$KEY" <"$T/cipher"
    expect_rc 0 "decrypt to '$1' (hex key)"
    expect_out "$1" "decrypt to '$1' (hex key)"
    run decrypt --key="$KEY_B64" <"$T/cipher"
    expect_out "$1" "decrypt to '$1' (Base64 key)"
}

pair 'ZZ-2026-0001-01' 'AgpubKMdybsuh8jfX3SkCg=='
pair '漳州市某某道路工程施工' 'Lknn0cPQCzgcm6ayMrx3blw9agwx8hYfF8LvpsA8LEu7+4ljIe/NCxRU0tcU+2vr'
pair '2026-12-20 09:30:00' 'jcNZwoss8F1I0/vB1FaDxkecALPK4FySCpzhkGOq21c='

# The key from the environment; the flag wins over it.
input 'ZZ-2026-0001-01'
run_env BAOHAN_SM4_KEY=$KEY -- encrypt <"$T/in"
expect_out 'AgpubKMdybsuh8jfX3SkCg==' "encrypt with BAOHAN_SM4_KEY (no trailing newline in input)"
run_env BAOHAN_SM4_KEY=00000000000000000000000000000000 -- encrypt --key "$KEY" <"$T/in"
expect_out 'AgpubKMdybsuh8jfX3SkCg==' "--key wins over BAOHAN_SM4_KEY"

# Exactly one trailing newline (LF or CRLF) is removed.
printf 'ZZ-2026-0001-01\r\n' >"$T/in"
run encrypt --key "$KEY" <"$T/in"
expect_out 'AgpubKMdybsuh8jfX3SkCg==' "a trailing CRLF is removed"
printf 'ZZ-2026-0001-01\n\n' >"$T/in"
run encrypt --key "$KEY" <"$T/in"
expect_rc 0 "encrypt a value ending in a newline"
cp "$T/out" "$T/c2"
run decrypt --key "$KEY" <"$T/c2"
printf 'ZZ-2026-0001-01\n\n' >"$T/want"
checks=$((checks + 1))
cmp -s "$T/want" "$T/out" || fail "only one of two trailing newlines is removed"

# Bad keys: exit 2, and the key text never appears.
for bad in 0123456789abcdef 0123456789abcdeffedcba987654321g 'not-a-key-at-all' \
    'ASNFZ4mrze/+3LqYdlQy' 0123456789abcdeffedcba9876543210ff; do
    input 'x'
    run encrypt --key "$bad" <"$T/in"
    expect_rc 2 "encrypt with malformed key"
    expect_err_has "--key" "the malformed key's source is named"
    expect_no_leak "$bad" "encrypt with a malformed key"
    run_env BAOHAN_SM4_KEY="$bad" -- decrypt <"$T/in"
    expect_rc 2 "decrypt with malformed BAOHAN_SM4_KEY"
    expect_err_has BAOHAN_SM4_KEY "the malformed key's source is named"
    expect_no_leak "$bad" "decrypt with a malformed key"
done
input 'x'
run encrypt <"$T/in"
expect_rc 2 "encrypt without a key"
expect_err_has BAOHAN_SM4_KEY "the missing key's variable is named"

# Undecryptable input: exit 1 with the reason.
input 'not base64!'
run decrypt --key "$KEY" <"$T/in"
expect_rc 1 "decrypt of text that is not Base64"
expect_err_has Base64 "the reason is given"
input 'AAAA'
run decrypt --key "$KEY" <"$T/in"
expect_rc 1 "decrypt of 3 bytes"
input 'AgpubKMdybsuh8jfX3SkCg=='
run decrypt --key 00112233445566778899aabbccddeeff <"$T/in"
expect_rc 1 "decrypt with the wrong key"
expect_no_out "decrypt with the wrong key prints no plaintext"

# Invalid UTF-8 is refused rather than encrypted into something no receiver accepts.
printf '\377\376\n' >"$T/in"
run encrypt --key "$KEY" <"$T/in"
expect_rc 2 "encrypt of invalid UTF-8"

# No positional arguments (a misplaced key must not be echoed).
input 'x'
run encrypt "$KEY" <"$T/in"
expect_rc 2 "encrypt with a stray argument"
expect_no_leak "$KEY" "encrypt with a stray argument"

finish
