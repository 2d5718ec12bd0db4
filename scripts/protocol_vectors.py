#!/usr/bin/env python3
"""purse protocol test vectors (docs/protocol.md section 9).

Independent reference implementation of the packet crypto of docs/protocol.md:
CMAC (NIST SP 800-38B) computed over raw ECB (as the applet does), the SP 800-108
counter-mode KDF, packet seal/open (encrypt-then-MAC), Luhn, balance integrity MAC.
Needs only the `cryptography` package (Debian: python3-cryptography).

    python3 scripts/protocol_vectors.py            # prints the vectors as markdown
    python3 scripts/protocol_vectors.py --check    # self-checks against NIST CMAC examples

The Rust side (crates aes, des, cmac) must reproduce every hex string printed here.
"""
import sys

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives import cmac as _cmac_lib

try:  # cryptography >= 43 moved TDES to "decrepit"
    from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
except ImportError:  # pragma: no cover
    TripleDES = algorithms.TripleDES

SUITE_AES128 = 0x01
SUITE_TDES3 = 0x02
BLOCK = {SUITE_AES128: 16, SUITE_TDES3: 8}
KEYLEN = {SUITE_AES128: 16, SUITE_TDES3: 24}
RB = {16: 0x87, 8: 0x1B}


def _alg(suite, key):
    return algorithms.AES(key) if suite == SUITE_AES128 else TripleDES(key)


def ecb_encrypt(suite, key, data):
    e = Cipher(_alg(suite, key), modes.ECB()).encryptor()
    return e.update(data) + e.finalize()


def cbc_encrypt(suite, key, iv, data):
    e = Cipher(_alg(suite, key), modes.CBC(iv)).encryptor()
    return e.update(data) + e.finalize()


def cbc_decrypt(suite, key, iv, data):
    d = Cipher(_alg(suite, key), modes.CBC(iv)).decryptor()
    return d.update(data) + d.finalize()


def _dbl(block):
    n = len(block)
    v = int.from_bytes(block, "big") << 1
    if block[0] & 0x80:
        v ^= RB[n]
    return (v & ((1 << (8 * n)) - 1)).to_bytes(n, "big")


def cmac(suite, key, msg):
    """Full-length CMAC (SP 800-38B) built from ECB, exactly as the applet computes it."""
    b = BLOCK[suite]
    l = ecb_encrypt(suite, key, bytes(b))
    k1 = _dbl(l)
    k2 = _dbl(k1)
    if msg and len(msg) % b == 0:
        last = bytes(x ^ y for x, y in zip(msg[-b:], k1))
        head = msg[:-b]
    else:
        r = len(msg) % b
        tail = msg[len(msg) - r:] if msg else b""
        padded = tail + b"\x80" + bytes(b - r - 1)
        last = bytes(x ^ y for x, y in zip(padded, k2))
        head = msg[: len(msg) - r]
    x = bytes(b)
    for i in range(0, len(head), b):
        x = ecb_encrypt(suite, key, bytes(p ^ q for p, q in zip(x, head[i:i + b])))
    return ecb_encrypt(suite, key, bytes(p ^ q for p, q in zip(x, last)))


def mac8(suite, key, msg):
    return cmac(suite, key, msg)[:8]


def kdf(suite, ki, label, context, out_len):
    """SP 800-108 counter mode, PRF = CMAC(suite): K(i) = CMAC(KI, [i]1 || Label || 00 || Context || [L]2)."""
    assert len(label) == 8
    l_bits = (8 * out_len).to_bytes(2, "big")
    out = b""
    i = 1
    while len(out) < out_len:
        out += cmac(suite, ki, bytes([i]) + label + b"\x00" + context + l_bits)
        i += 1
    return out[:out_len]


def session_keys(suite, ki, label, context):
    n = KEYLEN[suite]
    k = kdf(suite, ki, label, context, 2 * n)
    return k[:n], k[n:]  # (K_ENC, K_MAC)


def pad_m2(data, b):
    data = data + b"\x80"
    return data + bytes((-len(data)) % b)


def unpad_m2(data):
    i = len(data) - 1
    while data[i] == 0:
        i -= 1
    assert data[i] == 0x80
    return data[:i]


def header(ptype, keynum, sid):
    assert len(sid) == 6
    return bytes([ptype, keynum]) + sid


def seal(suite, kenc, kmac, hdr, body):
    b = BLOCK[suite]
    iv = ecb_encrypt(suite, kenc, hdr + bytes(b - 8))
    c = cbc_encrypt(suite, kenc, iv, pad_m2(body, b))
    return hdr + c + mac8(suite, kmac, hdr + c)


def open_packet(suite, kenc, kmac, pkt):
    b = BLOCK[suite]
    hdr, c, t = pkt[:8], pkt[8:-8], pkt[-8:]
    assert mac8(suite, kmac, hdr + c) == t, "MAC"
    iv = ecb_encrypt(suite, kenc, hdr + bytes(b - 8))
    return hdr, unpad_m2(cbc_decrypt(suite, kenc, iv, c))


def luhn_digit(digits15):
    total = 0
    for i, ch in enumerate(reversed(digits15)):
        d = int(ch)
        if i % 2 == 0:  # rightmost of the 15 is doubled (it sits left of the check digit)
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def bcd(digits16):
    return bytes.fromhex(digits16)


H = lambda b: b.hex().upper()

# ---------------------------------------------------------------- fixed inputs
AK = {
    SUITE_AES128: [bytes.fromhex("000102030405060708090A0B0C0D0E0F"),
                   bytes.fromhex("101112131415161718191A1B1C1D1E1F")],
    SUITE_TDES3: [bytes.fromhex("0123456789ABCDEF23456789ABCDEF01456789ABCDEF0123"),
                  bytes.fromhex("FEDCBA9876543210EFCDAB8967452301DCFE98BA54761032")],
}
TK_DEV = {SUITE_AES128: b"purse-dev-transp", SUITE_TDES3: b"purse-dev-transport-3des"}
TID = bytes.fromhex("A1A2A3A4A5A6")
R1 = bytes.fromhex("1111111111111111")
R2 = bytes.fromhex("2222222222222222")
RP = bytes.fromhex("5252525252525252")  # payee's hello random (40), bound into K_A
RH = bytes.fromhex("4848484848484848")
RC = bytes.fromhex("4343434343434343")
APP = bytes.fromhex("5055525345415050")  # "PURSEAPP"
KEYNUM_AK0 = 0x33  # 51
PAYER_ACCT_15 = "100000000000001"
PAYEE_ACCT_15 = "100000000000002"


def main():
    # self checks against NIST SP 800-38B / cryptography's own CMAC
    k = bytes.fromhex("2B7E151628AED2A6ABF7158809CF4F3C")
    assert H(cmac(SUITE_AES128, k, b"")) == "BB1D6929E95937287FA37D129B756746"
    m = bytes.fromhex("6BC1BEE22E409F96E93D7E117393172A")
    assert H(cmac(SUITE_AES128, k, m)) == "070A16B46B4D4144F79BDD9DD04A287C"
    k3 = bytes.fromhex("8AA83BF8CBDA10620BC1BF19FBB6CD58BC313D4A371CA8B5")
    assert H(cmac(SUITE_TDES3, k3, b"")) == "B7A688E122FFAF95"
    for suite, key in ((SUITE_AES128, AK[1][0]), (SUITE_TDES3, AK[2][0])):
        for n in (0, 1, 7, 8, 15, 16, 17, 33):
            c = _cmac_lib.CMAC(_alg(suite, key))
            c.update(bytes(range(n)))
            assert c.finalize() == cmac(suite, key, bytes(range(n))), (suite, n)
    if "--check" in sys.argv:
        print("ok")
        return

    out = []
    p = out.append
    p("### 9.1 CMAC (own ECB-based implementation; checked against NIST and `cryptography`)\n")
    p("| suite | key | message | CMAC (full) | MAC8 |")
    p("|---|---|---|---|---|")
    for suite in (SUITE_AES128, SUITE_TDES3):
        for msg in (b"", bytes(range(20))):
            c = cmac(suite, AK[suite][0], msg)
            p(f"| {suite:02X} | {H(AK[suite][0])} | {H(msg) or '(empty)'} | {H(c)} | {H(c[:8])} |")

    p("\n### 9.2 Luhn / account numbers\n")
    p("| 15 digits | check | account (8 bytes BCD) |")
    p("|---|---|---|")
    for d in (PAYER_ACCT_15, PAYEE_ACCT_15, "100000000000000", "123456789012345"):
        p(f"| {d} | {luhn_digit(d)} | {d + luhn_digit(d)} |")
    payer_acct = bcd(PAYER_ACCT_15 + luhn_digit(PAYER_ACCT_15))
    payee_acct = bcd(PAYEE_ACCT_15 + luhn_digit(PAYEE_ACCT_15))

    for suite in (SUITE_AES128, SUITE_TDES3):
        name = "AES-128 (suite 01)" if suite == SUITE_AES128 else "3-key TDES (suite 02)"
        ak0, ak1 = AK[suite]
        p(f"\n### 9.{3 if suite == 1 else 4} {name}\n")
        p(f"AK0 (key number {KEYNUM_AK0:02X}) = `{H(ak0)}`  ")
        p(f"AK1 (key number {KEYNUM_AK0 + 1:02X}) = `{H(ak1)}`  ")
        p(f"TID = `{H(TID)}`, R1 = `{H(R1)}`, R2 = `{H(R2)}`, RP = `{H(RP)}`, APP_ID = `{H(APP)}`\n")
        hs_ctx = TID + bytes([KEYNUM_AK0]) + RP
        ke_a, km_a = session_keys(suite, ak0, b"PURSE HS", hs_ctx)
        tx_ctx = R1 + R2 + TID
        ke_s, km_s = session_keys(suite, ak1, b"PURSE TX", tx_ctx)
        p("| derivation | KI | label | context | K_ENC | K_MAC |")
        p("|---|---|---|---|---|---|")
        p(f"| handshake | AK0 | `PURSE HS` | {H(hs_ctx)} | {H(ke_a)} | {H(km_a)} |")
        p(f"| transfer | AK1 | `PURSE TX` | {H(tx_ctx)} | {H(ke_s)} | {H(km_s)} |")
        tk = TK_DEV[suite]
        tk_ctx = RH + RC
        ke_t, km_t = session_keys(suite, tk, b"PURSE TK", tk_ctx)
        p(f"| transport (dev TK `{tk.decode()}`) | TK | `PURSE TK` | {H(tk_ctx)} | {H(ke_t)} | {H(km_t)} |")
        cc = mac8(suite, km_t, b"\x01" + RH + RC)
        hc = mac8(suite, km_t, b"\x02" + RH + RC)
        p(f"\nTransport cryptograms: CC = `{H(cc)}`, HC = `{H(hc)}`\n")

        # P1: payer -> payee under handshake keys
        p1_body = (R1 + APP + b"ALICE   " + payer_acct + bytes([0x04, 0x00]) + bytes.fromhex("0978"))
        p1 = seal(suite, ke_a, km_a, header(0x41, KEYNUM_AK0, TID), p1_body)
        # P4: payer -> payee under transfer keys: R2 echo, APP, code CREDIT, amount 1234, payer acct, date
        p4_body = R2 + APP + b"\x02" + (1234).to_bytes(4, "big") + payer_acct + (9500).to_bytes(2, "big")
        p4 = seal(suite, ke_s, km_s, header(0x44, KEYNUM_AK0, TID), p4_body)
        for nm, body, pkt, ke, km in (("P1", p1_body, p1, ke_a, km_a), ("P4", p4_body, p4, ke_s, km_s)):
            assert open_packet(suite, ke, km, pkt)[1] == body
            p(f"{nm} plaintext body ({len(body)} bytes): `{H(body)}`  ")
            p(f"{nm} packet ({len(pkt)} bytes): `{H(pkt)}`\n")
        flipped = bytearray(p4)
        flipped[20] ^= 0x01
        try:
            open_packet(suite, ke_s, km_s, bytes(flipped))
            raise SystemExit("flipped packet accepted")
        except AssertionError:
            pass

        # balance integrity MAC
        kint = AK[suite][1]
        rec = ((1234).to_bytes(4, "big") + bytes.fromhex("0978") + b"\x02" + (9500).to_bytes(2, "big")
               + bytes(4) + (7).to_bytes(4, "big"))
        bi = mac8(suite, kint, rec + payer_acct)
        p(f"Balance integrity: K_INT = AK1 above, record fields `{H(rec)}`, account `{H(payer_acct)}` "
          f"-> CHECK = `{H(bi)}`")
    print("\n".join(out))


if __name__ == "__main__":
    main()
