#!/usr/bin/env python3
"""purse protocol test vectors: the reference that writes and checks tests/vectors/protocol.json.

Independent reference implementation of the packet crypto of docs/protocol.md:
CMAC (NIST SP 800-38B) computed over raw ECB (as the applet does), the session key set (one
CBC pass over D = tag | SID | k | RP), the SP 800-108 counter-mode KDF of the transport keys,
packet seal/open (SIV: MAC over the plaintext, then OFB under it, the keystream block by block
over ECB), Luhn, the fixed-length CBC-MAC of K_INT (balance integrity).
Needs only the `cryptography` package (Debian: python3-cryptography).

The vectors are one data file, tests/vectors/protocol.json, read by the Rust tests
(tests/proto_vectors.rs) and the applet's JUnit CryptoSuiteTest; the tables of
docs/protocol.md section 9 are rendered from the same data.

    python3 scripts/protocol_vectors.py            # check: NIST examples, the data file and the doc agree with this code
    python3 scripts/protocol_vectors.py --write    # regenerate the data file and the doc's section 9 tables
    python3 scripts/protocol_vectors.py --json     # print the vectors (JSON) / --markdown: the doc tables
"""
import hashlib
import json
import os
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


def cbc_encrypt(suite, key, data):
    """CBC encryption with IV 0, built block by block over ECB."""
    b = BLOCK[suite]
    x = bytes(b)
    out = b""
    for i in range(0, len(data), b):
        x = ecb_encrypt(suite, key, bytes(p ^ q for p, q in zip(x, data[i:i + b])))
        out += x
    return out


def ofb_xor(suite, key, iv, data):
    """data XOR the OFB keystream E(X), E(E(X)), ... of X = iv zero-padded to one block.

    Built block by block over ECB (the `cryptography` OFB mode is deprecated); encrypts and
    decrypts alike."""
    b = BLOCK[suite]
    x = iv + bytes(b - len(iv))
    out = bytearray()
    for i in range(0, len(data), b):
        x = ecb_encrypt(suite, key, x)
        out += bytes(p ^ q for p, q in zip(data[i:i + b], x))
    return bytes(out)


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


def passbook_digest(sid, passbook, exceptions, private):
    """protocol.md 12.5.3: the first 8 bytes of SHA-256(ITEMS | N | X | 7C | SID) over the collected
    items; 00 x 8 if none."""
    pb = b"" if private else passbook
    n, x = len(pb) // 42, len(exceptions) // 24
    if n + x == 0:
        return bytes(8)
    return hashlib.sha256(pb + exceptions + bytes([n, x]) + b"\x7C" + sid).digest()[:8]


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


def transport_keys(suite, tk, context):
    n = KEYLEN[suite]
    k = kdf(suite, tk, b"PURSE TK", context, 2 * n)
    return k[:n], k[n:]  # (K_ENC, K_MAC)


def session_keys(suite, ak1, tag, context):
    """protocol.md 2.3: D = tag | SID | k | RP (16 bytes); K_S = the last KL bytes of
    CBC(AK1, IV 0, D | 00..) over 16 + KL - block bytes (AES: E(D)). One key seals and opens
    (2.4: the MAC and the keystream under K_S), so (K_ENC, K_MAC) = (K_S, K_S)."""
    n = KEYLEN[suite]
    d = bytes([tag]) + context
    assert len(d) == 16
    k = cbc_encrypt(suite, ak1, d + bytes(n - BLOCK[suite]))[-n:]
    return k, k


def mac8_fixed(suite, k_int, msg):
    """protocol.md 3: the K_INT MAC, CBC-MAC of msg padded 80 00.. to exactly 32 bytes."""
    assert len(msg) < 32
    c = cbc_encrypt(suite, k_int, msg + b"\x80" + bytes(31 - len(msg)))
    return c[-BLOCK[suite]:][:8]


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


def cmac_k1(suite, key):
    """The CMAC subkey K1 = dbl(E_K(0^b)) of key."""
    return _dbl(ecb_encrypt(suite, key, bytes(BLOCK[suite])))


def packet_mask(suite, kmac):
    """2.4: the CMAC subkey of K_MAC that no packet MAC of the suite ends with: K1 for AES (HDR | P is
    8 bytes past whole blocks, so every MAC ends with K2), K2 = dbl(K1) for TDES (whole blocks: K1)."""
    k1 = cmac_k1(suite, kmac)
    return k1 if BLOCK[suite] == 16 else _dbl(k1)


def packet_iv(suite, kmac, t):
    """2.4: the keystream's IV = (T | 00..) XOR the packet mask of K_MAC, a secret: whatever T a
    packet carries, the keystream starts at an input nobody outside the card knows."""
    b = BLOCK[suite]
    return bytes(x ^ y for x, y in zip(t + bytes(b - len(t)), packet_mask(suite, kmac)))


def seal(suite, kenc, kmac, hdr, body):
    p = pad_m2(body, BLOCK[suite])
    t = mac8(suite, kmac, hdr + p)
    return hdr + ofb_xor(suite, kenc, packet_iv(suite, kmac, t), p) + t


def open_packet(suite, kenc, kmac, pkt):
    hdr, c, t = pkt[:8], pkt[8:-8], pkt[-8:]
    p = ofb_xor(suite, kenc, packet_iv(suite, kmac, t), c)
    assert mac8(suite, kmac, hdr + p) == t, "MAC"
    return hdr, unpad_m2(p)


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
RP = bytes.fromhex("5252525252525252")  # the responder's hello random (SELECT, 70, 82), bound into K_S
RH = bytes.fromhex("4848484848484848")
RC = bytes.fromhex("4343434343434343")
APP = bytes.fromhex("5055525345415050")  # "PURSEAPP"
KEYNUM_AK0 = 0x33  # 51
PAYER_ACCT_15 = "100000000000001"
PAYEE_ACCT_15 = "100000000000002"


# NIST SP 800-38B examples (D.1 AES-128 examples 1-4; D.4 3-key TDEA, empty message): external
# references, never regenerated; every implementation checks its CMAC against them first.
NIST_K_AES = "2B7E151628AED2A6ABF7158809CF4F3C"
NIST_M = ("6BC1BEE22E409F96E93D7E117393172AAE2D8A571E03AC9C9EB76FAC45AF8E51"
          "30C81C46A35CE411E5FBC1191A0A52EFF69F2445DF4F9B17AD2B417BE66C3710")
NIST_CMAC = [
    {"suite": "01", "key": NIST_K_AES, "msg": "", "cmac": "BB1D6929E95937287FA37D129B756746"},
    {"suite": "01", "key": NIST_K_AES, "msg": NIST_M[:32], "cmac": "070A16B46B4D4144F79BDD9DD04A287C"},
    {"suite": "01", "key": NIST_K_AES, "msg": NIST_M[:80], "cmac": "DFA66747DE9AE63030CA32611497C827"},
    {"suite": "01", "key": NIST_K_AES, "msg": NIST_M, "cmac": "51F0BEBF7E3B9D92FC49741779363CFE"},
    {"suite": "02", "key": "8AA83BF8CBDA10620BC1BF19FBB6CD58BC313D4A371CA8B5", "msg": "",
     "cmac": "B7A688E122FFAF95"},
]

# protocol.md 2.4: packet length for a body length, per block size (16 = AES, 8 = TDES)
PACKET_BODIES = [36, 48, 74, 64, 31, 95, 20, 145, 177]

SUITE_NAMES = {SUITE_AES128: "AES-128 (suite 01)", SUITE_TDES3: "3-key TDES (suite 02)"}
SUITE_SECTIONS = {SUITE_AES128: "9.3", SUITE_TDES3: "9.4"}


def packet_len(body, b):
    return 8 + len(pad_m2(bytes(body), b)) + 8


def self_check():
    """Our CMAC against NIST and against the `cryptography` library's CMAC; our OFB against NIST."""
    for v in NIST_CMAC:
        got = H(cmac(int(v["suite"], 16), bytes.fromhex(v["key"]), bytes.fromhex(v["msg"])))
        assert got == v["cmac"], ("NIST", v)
    for suite, key in ((SUITE_AES128, AK[1][0]), (SUITE_TDES3, AK[2][0])):
        for n in (0, 1, 7, 8, 15, 16, 17, 33):
            c = _cmac_lib.CMAC(_alg(suite, key))
            c.update(bytes(range(n)))
            assert c.finalize() == cmac(suite, key, bytes(range(n))), (suite, n)
    # our CBC against the library's (IV 0)
    for suite, key in ((SUITE_AES128, AK[1][0]), (SUITE_TDES3, AK[2][0])):
        data = bytes(range(48))
        e = Cipher(_alg(suite, key), modes.CBC(bytes(BLOCK[suite]))).encryptor()
        assert e.update(data) + e.finalize() == cbc_encrypt(suite, key, data), ("CBC", suite)
    # our OFB against NIST SP 800-38A F.4.1 (OFB-AES128.Encrypt, the first two blocks)
    got = ofb_xor(SUITE_AES128, bytes.fromhex("2B7E151628AED2A6ABF7158809CF4F3C"),
                  bytes.fromhex("000102030405060708090A0B0C0D0E0F"),
                  bytes.fromhex("6BC1BEE22E409F96E93D7E117393172AAE2D8A571E03AC9C9EB76FAC45AF8E51"))
    assert H(got) == "3B3FD92EB72DAD20333449F8E83CFB4A7789508D16918F03F53C52DAC54ED825", ("NIST OFB", H(got))


def vectors():
    """Every vector, computed from the fixed inputs above (the content of tests/vectors/protocol.json)."""
    v = {
        "about": "purse protocol test vectors (docs/protocol.md section 9). Written by "
                 "`python3 scripts/protocol_vectors.py --write`; read by tests/proto_vectors.rs and "
                 "the applet's CryptoSuiteTest. Byte strings are upper-case hex.",
        "nist_cmac": NIST_CMAC,
        "cmac": [],
        "luhn": [],
        "suites": [],
        "packet_lengths": [{"body": n, "aes": packet_len(n, 16), "tdes": packet_len(n, 8)}
                           for n in PACKET_BODIES],
    }
    for suite in (SUITE_AES128, SUITE_TDES3):
        for msg in (b"", bytes(range(20))):
            c = cmac(suite, AK[suite][0], msg)
            v["cmac"].append({"suite": f"{suite:02X}", "key": H(AK[suite][0]), "msg": H(msg),
                              "cmac": H(c), "mac8": H(c[:8])})
    for d in (PAYER_ACCT_15, PAYEE_ACCT_15, "100000000000000", "123456789012345"):
        v["luhn"].append({"digits15": d, "check": luhn_digit(d), "account": d + luhn_digit(d)})
    payer_acct = bcd(PAYER_ACCT_15 + luhn_digit(PAYER_ACCT_15))

    for suite in (SUITE_AES128, SUITE_TDES3):
        ak0, ak1 = AK[suite]
        tk = TK_DEV[suite]
        # one key set per session (2.3): K_S from AK1 and D = tag | SID | k | RP, one CBC pass;
        # the transport keys by SP 800-108 from TK
        s_ctx = TID + bytes([KEYNUM_AK0]) + RP
        tk_ctx = RH + RC
        keys = {
            "transfer": ("AK1", "cbc", 0x54, s_ctx),
            "sync": ("AK1", "cbc", 0x53, s_ctx),
            "admin": ("AK1", "cbc", 0x41, s_ctx),
            "transport": ("TK", "sp800-108", "PURSE TK", tk_ctx),
        }
        derived = {n: (session_keys(suite, ak1, lab, ctx) if kdf_ == "cbc" else transport_keys(suite, tk, ctx))
                   for n, (_, kdf_, lab, ctx) in keys.items()}
        s = {
            "suite": f"{suite:02X}", "name": SUITE_NAMES[suite], "section": SUITE_SECTIONS[suite],
            "ak0": H(ak0), "ak1": H(ak1), "keynum": f"{KEYNUM_AK0:02X}",
            "tid": H(TID), "r1": H(R1), "r2": H(R2), "rp": H(RP), "rh": H(RH), "rc": H(RC),
            "app_id": H(APP), "dev_tk": tk.decode(),
            "derivations": [
                {"name": n, "ki": kn, "kdf": kdf_,
                 "label": lab if kdf_ != "cbc" else f"{lab:02X}", "context": H(ctx),
                 "k_enc": H(derived[n][0]), "k_mac": H(derived[n][1])}
                for n, (kn, kdf_, lab, ctx) in keys.items()
            ],
        }
        km_t = derived["transport"][1]
        s["cc"] = H(mac8(suite, km_t, b"\x01" + RH + RC))
        s["hc"] = H(mac8(suite, km_t, b"\x02" + RH + RC))

        # P1: payer -> payee under the transfer's K_S: R1, APP, name, account, role user, EUR
        p1_body = R1 + APP + b"ALICE   " + payer_acct + bytes([0x04, 0x00]) + bytes.fromhex("0978")
        # P4: payer -> payee under the same K_S: R2 echo, APP, code CREDIT, amount 1234, payer acct, date
        p4_body = R2 + APP + b"\x02" + (1234).to_bytes(4, "big") + payer_acct + (9500).to_bytes(2, "big")
        # G2: the new center -> host at genesis, in the transport channel (5.2, 5.3), its two keys
        # K_ENC != K_MAC, KEYNUM 00, SID = RC[0..6): RESULT 00, the account, ROLE center, CURRENT 33,
        # APP, SUITE
        g2_body = b"\x00" + payer_acct + bytes([0x01, KEYNUM_AK0]) + APP + bytes([suite])
        s["packets"] = []
        for nm, ptype, kname, keynum, sid, body in (
                ("P1", 0x41, "transfer", KEYNUM_AK0, TID, p1_body),
                ("P4", 0x44, "transfer", KEYNUM_AK0, TID, p4_body),
                ("G2", 0x12, "transport", 0x00, RC[:6], g2_body)):
            ke, km = derived[kname]
            pkt = seal(suite, ke, km, header(ptype, keynum, sid), body)
            assert open_packet(suite, ke, km, pkt)[1] == body
            flipped = bytearray(pkt)
            flipped[20] ^= 0x01
            try:
                open_packet(suite, ke, km, bytes(flipped))
                raise SystemExit("flipped packet accepted")
            except AssertionError:
                pass
            s["packets"].append({"name": nm, "type": f"{ptype:02X}", "keynum": f"{keynum:02X}",
                                 "sid": H(sid), "keys": kname, "body": H(body), "packet": H(pkt)})

        # balance integrity MAC (fixed-length CBC-MAC): K_INT = AK1, the 17 record bytes then the account
        rec = ((1234).to_bytes(4, "big") + bytes.fromhex("0978") + b"\x02" + (9500).to_bytes(2, "big")
               + bytes(4) + (7).to_bytes(4, "big"))
        # passbook digest (12.5.3) over 7 entries and 2 exceptions (294 + 48 + 2 + 1 + 6 bytes), in
        # the sync session of SID = TID above; the same in both suites (SHA-256, no key)
        pb = b"".join(bytes([i + 1]) * 42 for i in range(7))
        exc = b"".join(bytes([0xE0 + j]) * 24 for j in range(2))
        s["digest"] = {"entries": 7, "exceptions": 2, "sid": H(TID), "passbook": H(pb), "exception_log": H(exc),
                       "d": H(passbook_digest(TID, pb, exc, False)),
                       "d_private": H(passbook_digest(TID, pb, exc, True))}
        s["balance"] = {"key": "AK1", "fields": H(rec), "account": H(payer_acct),
                        "check": H(mac8_fixed(suite, ak1, rec + payer_acct))}
        v["suites"].append(s)
    return v


def markdown(v):
    """The tables of docs/protocol.md section 9 (after its introduction), rendered from the vectors."""
    out = []
    p = out.append
    p("### 9.1 CMAC (own ECB-based implementation; checked against NIST and `cryptography`)\n")
    p("| suite | key | message | CMAC (full) | MAC8 |")
    p("|---|---|---|---|---|")
    for c in v["cmac"]:
        p(f"| {c['suite']} | {c['key']} | {c['msg'] or '(empty)'} | {c['cmac']} | {c['mac8']} |")
    p("\n### 9.2 Luhn / account numbers\n")
    p("| 15 digits | check | account (8 bytes BCD) |")
    p("|---|---|---|")
    for l in v["luhn"]:
        p(f"| {l['digits15']} | {l['check']} | {l['account']} |")
    for s in v["suites"]:
        k = int(s["keynum"], 16)
        p(f"\n### {s['section']} {s['name']}\n")
        p(f"AK0 (key number {k:02X}) = `{s['ak0']}`  ")
        p(f"AK1 (key number {k + 1:02X}) = `{s['ak1']}`  ")
        p(f"TID = `{s['tid']}`, R1 = `{s['r1']}`, R2 = `{s['r2']}`, RP = `{s['rp']}`, APP_ID = `{s['app_id']}`\n")
        p("| derivation | KI | KDF | tag / label | context | K_ENC | K_MAC |")
        p("|---|---|---|---|---|---|---|")
        for d in s["derivations"]:
            name = d["name"] if d["name"] != "transport" else f"transport (dev TK `{s['dev_tk']}`)"
            kdf_ = "one CBC pass" if d["kdf"] == "cbc" else "SP 800-108"
            mac = d["k_mac"] if d["k_mac"] != d["k_enc"] else "= K_ENC (the session's one key K_S)"
            p(f"| {name} | {d['ki']} | {kdf_} | `{d['label']}` | {d['context']} | {d['k_enc']} | {mac} |")
        p(f"\nTransport cryptograms: CC = `{s['cc']}`, HC = `{s['hc']}`\n")
        for pk in s["packets"]:
            p(f"{pk['name']}: TYPE {pk['type']}, KEYNUM {pk['keynum']}, SID `{pk['sid']}`, the {pk['keys']} keys  ")
            p(f"{pk['name']} plaintext body ({len(pk['body']) // 2} bytes): `{pk['body']}`  ")
            p(f"{pk['name']} packet ({len(pk['packet']) // 2} bytes): `{pk['packet']}`\n")
        g = s["digest"]
        p(f"Passbook digest (12.5.3): SID `{g['sid']}`; {g['entries']} passbook entries "
          f"(entry i: 42 bytes of value i), {g['exceptions']} exception entries (24 bytes of 0xE0 + j): "
          f"D = `{g['d']}`, private card (exceptions only) D = `{g['d_private']}`\n")
        b = s["balance"]
        p(f"Balance integrity (fixed-length CBC-MAC): K_INT = AK1 above, record fields `{b['fields']}`, account `{b['account']}` "
          f"-> CHECK = `{b['check']}`")
    return "\n".join(out) + "\n"


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "tests", "vectors", "protocol.json")
DOC = os.path.join(ROOT, "docs", "protocol.md")
# section 9's tables run from the first "### 9.1" up to the next "## " heading
DOC_START = "### 9.1 "
DOC_END = "\n## 10. "


def as_json(v):
    return json.dumps(v, indent=2) + "\n"


def doc_with(doc, tables):
    i = doc.index(DOC_START)
    j = doc.index(DOC_END, i)
    return doc[:i] + tables + doc[j:]


def main():
    self_check()
    v = vectors()
    with open(DOC, encoding="utf-8") as f:
        doc = f.read()
    want_doc = doc_with(doc, markdown(v))
    if "--write" in sys.argv:
        os.makedirs(os.path.dirname(DATA), exist_ok=True)
        with open(DATA, "w", encoding="utf-8") as f:
            f.write(as_json(v))
        with open(DOC, "w", encoding="utf-8") as f:
            f.write(want_doc)
        print(f"wrote {os.path.relpath(DATA, ROOT)} and docs/protocol.md section 9")
        return
    if "--json" in sys.argv:
        sys.stdout.write(as_json(v))
        return
    if "--markdown" in sys.argv:
        sys.stdout.write(markdown(v))
        return
    bad = []
    try:
        with open(DATA, encoding="utf-8") as f:
            if json.load(f) != v:
                bad.append(os.path.relpath(DATA, ROOT))
    except FileNotFoundError:
        bad.append(os.path.relpath(DATA, ROOT) + " (missing)")
    if doc != want_doc:
        bad.append("docs/protocol.md section 9")
    if bad:
        raise SystemExit("protocol_vectors: differs from this reference: " + ", ".join(bad)
                         + " (run with --write to regenerate, then review the diff)")
    print("ok: NIST CMAC examples, tests/vectors/protocol.json and docs/protocol.md section 9 agree")


if __name__ == "__main__":
    main()
