package org.purse.applet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

import javacard.framework.ISO7816;
import javacard.framework.ISOException;
import javacard.security.Key;
import org.purse.jc.crypto.BlockCipherImpl;
import org.junit.jupiter.api.Test;

/**
 * The protocol test vectors, byte for byte, from tests/vectors/protocol.json (the data of
 * docs/protocol.md section 9, written by scripts/protocol_vectors.py and read by the Rust tests too).
 */
class CryptoSuiteTest {
    static final byte AES = Constants.SUITE_AES128;
    static final byte TDES = Constants.SUITE_TDES3;

    static final Map<String, Object> V = Vectors.load();
    static final Map<String, Object> AES_V = Vectors.find(V, "suites", "suite", "01");
    static final Map<String, Object> TDES_V = Vectors.find(V, "suites", "suite", "02");
    static final String AES_AK0 = Vectors.str(AES_V, "ak0");
    static final String AES_AK1 = Vectors.str(AES_V, "ak1");
    static final String TDES_AK0 = Vectors.str(TDES_V, "ak0");
    static final String TDES_AK1 = Vectors.str(TDES_V, "ak1");
    static final String TID = Vectors.str(AES_V, "tid");
    static final String RH = Vectors.str(AES_V, "rh");
    static final String RC = Vectors.str(AES_V, "rc");

    final CryptoSuite cs = new CryptoSuite();
    final Packets pk = new Packets(cs);

    static byte[] hex(String s) {
        byte[] b = new byte[s.length() / 2];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) Integer.parseInt(s.substring(2 * i, 2 * i + 2), 16);
        }
        return b;
    }

    static String hex(byte[] b, int off, int len) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < len; i++) {
            sb.append(String.format("%02X", b[off + i] & 0xFF));
        }
        return sb.toString();
    }

    static String hex(byte[] b) {
        return hex(b, 0, b.length);
    }

    Key key(byte suite, String h) {
        Key k = cs.buildPersistentKey(suite);
        cs.setKey(k, hex(h), (short) 0);
        return k;
    }

    static byte suiteOfHex(String h) {
        return h.length() == 32 ? AES : TDES;
    }

    String cmacHex(byte suite, String k, String msg) {
        byte[] m = hex(msg);
        byte[] out = new byte[16];
        short n = cs.cmac(key(suite, k), m, (short) 0, (short) m.length, out, (short) 0);
        assertEquals(CryptoSuite.blockLen(suite), n);
        return hex(out, 0, n);
    }

    /** An independent CMAC (NIST SP 800-38B) over the JDK's ECB cipher: the other side for cmac(). */
    static byte[] jdkCmac(byte suite, byte[] key, byte[] m) throws Exception {
        boolean aes = suite == AES;
        int b = aes ? 16 : 8;
        javax.crypto.Cipher c = javax.crypto.Cipher.getInstance(aes ? "AES/ECB/NoPadding" : "DESede/ECB/NoPadding");
        c.init(javax.crypto.Cipher.ENCRYPT_MODE, new javax.crypto.spec.SecretKeySpec(key, aes ? "AES" : "DESede"));
        byte[] l = c.doFinal(new byte[b]);
        byte[] k1 = PurseCardTestSupport.dbl(l, aes ? 0x87 : 0x1B);
        byte[] k2 = PurseCardTestSupport.dbl(k1, aes ? 0x87 : 0x1B);
        int n = Math.max(1, (m.length + b - 1) / b);
        boolean whole = m.length > 0 && m.length % b == 0;
        byte[] last = new byte[b];
        int lo = (n - 1) * b;
        for (int i = 0; i < b; i++) {
            int j = lo + i;
            byte v = j < m.length ? m[j] : (j == m.length ? (byte) 0x80 : 0);
            last[i] = (byte) (v ^ (whole ? k1 : k2)[i]);
        }
        byte[] x = new byte[b];
        for (int blk = 0; blk < n; blk++) {
            for (int i = 0; i < b; i++) {
                x[i] ^= blk == n - 1 ? last[i] : m[blk * b + i];
            }
            x = c.doFinal(x);
        }
        return x;
    }

    /** cmac() (its window of 112 bytes filled and flushed) equals the JDK-side CMAC at every length to 300. */
    @Test
    void cmacOfEveryLengthMatchesTheJdkSide() throws Exception {
        for (Map<String, Object> suite : List.of(AES_V, TDES_V)) {
            byte st = (byte) Integer.parseInt(Vectors.str(suite, "suite"), 16);
            Map<String, Object> hs = Vectors.find(suite, "derivations", "name", "sync");
            String kh = Vectors.str(hs, "k_mac");
            Key k = key(st, kh);
            byte[] m = new byte[300];
            for (int i = 0; i < m.length; i++) {
                m[i] = (byte) (i * 7 + 3);
            }
            for (int len = 0; len <= m.length; len++) {
                byte[] x = java.util.Arrays.copyOf(m, len);
                byte[] full = new byte[16];
                short n = cs.cmac(k, x, (short) 0, (short) len, full, (short) 0);
                assertEquals(hex(jdkCmac(st, hex(kh), x)), hex(full, 0, n), "suite " + st + " length " + len);
            }
        }
    }

    /** protocol.md 12.5.3: the passbook digest of the vector file, by the JDK's SHA-256. */
    @Test
    void passbookDigestVector() throws Exception {
        for (Map<String, Object> suite : List.of(AES_V, TDES_V)) {
            Map<String, Object> g = Vectors.obj(suite.get("digest"));
            byte[] pb = hex(Vectors.str(g, "passbook"));
            byte[] exc = hex(Vectors.str(g, "exception_log"));
            byte[] sid = hex(Vectors.str(g, "sid"));
            java.util.List<byte[]> entries = new java.util.ArrayList<>();
            for (int i = 0; i < pb.length; i += 42) {
                entries.add(java.util.Arrays.copyOfRange(pb, i, i + 42));
            }
            assertEquals(Vectors.str(g, "d"), hex(SyncCardTest.hostDigest(sid, entries, exc)));
            assertEquals(Vectors.str(g, "d_private"), hex(SyncCardTest.hostDigest(sid, List.of(), exc)));
            assertEquals("0000000000000000", hex(SyncCardTest.hostDigest(sid, List.of(), new byte[0])));
        }
    }

    @Test
    void suitesSupportedAndSizes() {
        assertTrue(cs.supports(AES));
        assertTrue(cs.supports(TDES));
        assertFalse(cs.supports((byte) 3));
        assertEquals(16, CryptoSuite.blockLen(AES));
        assertEquals(8, CryptoSuite.blockLen(TDES));
        assertEquals(16, CryptoSuite.keyLen(AES));
        assertEquals(24, CryptoSuite.keyLen(TDES));
        for (byte s : new byte[] {AES, TDES}) {
            assertEquals(s, CryptoSuite.suiteOf(cs.buildPersistentKey(s)));
            for (byte slot = 0; slot < 3; slot++) {
                assertEquals(s, CryptoSuite.suiteOf(cs.workKey(s, slot)));
            }
            final byte suite = s;
            ISOException x = assertThrows(ISOException.class, () -> cs.workKey(suite, (byte) 3));
            assertEquals(ISO7816.SW_WRONG_DATA, x.getReason());
        }
    }

    @Test
    void cmacNist() {
        // NIST SP 800-38B examples (D.1 AES-128 examples 1-4, D.4 3-key TDEA), from the file
        List<Map<String, Object>> nist = Vectors.objs(V, "nist_cmac");
        assertEquals(5, nist.size());
        for (Map<String, Object> c : nist) {
            byte suite = (byte) Integer.parseInt(Vectors.str(c, "suite"), 16);
            assertEquals(Vectors.str(c, "cmac"), cmacHex(suite, Vectors.str(c, "key"), Vectors.str(c, "msg")),
                    "NIST " + c.get("msg"));
        }
        // protocol.md 9.1
        List<Map<String, Object>> own = Vectors.objs(V, "cmac");
        assertEquals(4, own.size());
        for (Map<String, Object> c : own) {
            byte suite = (byte) Integer.parseInt(Vectors.str(c, "suite"), 16);
            String full = cmacHex(suite, Vectors.str(c, "key"), Vectors.str(c, "msg"));
            assertEquals(Vectors.str(c, "cmac"), full, "9.1 suite " + suite + " msg " + c.get("msg"));
            assertEquals(Vectors.str(c, "mac8"), full.substring(0, 16));
        }
        // MAC8 at an offset, and its verify (the AES row with a message)
        Map<String, Object> row = own.get(1);
        assertEquals("01", Vectors.str(row, "suite"));
        assertEquals(AES_AK0, Vectors.str(row, "key"));
        byte[] m = hex(Vectors.str(row, "msg"));
        assertEquals(20, m.length);
        byte[] t = new byte[10];
        cs.mac8(key(AES, AES_AK0), m, (short) 0, (short) m.length, t, (short) 1);
        assertEquals("00" + Vectors.str(row, "mac8") + "00", hex(t));
        assertTrue(cs.mac8Verify(key(AES, AES_AK0), m, (short) 0, (short) m.length, t, (short) 1));
        t[8] ^= 1;
        assertFalse(cs.mac8Verify(key(AES, AES_AK0), m, (short) 0, (short) m.length, t, (short) 1));
    }

    /**
     * A derivation row: the session key K_S (one CBC pass, sessionKeys; the row's K_ENC and K_MAC
     * are both K_S) or the transport keys (SP 800-108, deriveInto), into work keys 0 / 1, checked
     * against the row's K_ENC / K_MAC.
     */
    Key[] checkDerivation(Map<String, Object> suite, Map<String, Object> d) {
        String ki = ki(suite, d);
        byte st = suiteOfHex(ki);
        byte[] c = hex(Vectors.str(d, "context"));
        String kEnc = Vectors.str(d, "k_enc");
        String kMac = Vectors.str(d, "k_mac");
        int kl = CryptoSuite.keyLen(st);
        Key e = cs.workKey(st, (byte) 0);
        Key m = cs.workKey(st, (byte) 1);
        byte[] l = label(d);
        if (Vectors.str(d, "kdf").equals("cbc")) {
            assertEquals(15, c.length);
            assertEquals(kEnc, kMac, "a session has one key K_S");
            byte[] out = new byte[kl + 2];
            cs.sessionKeys(key(st, ki), l[0], c, (short) 0, out, (short) 1);
            assertEquals("00" + kEnc + "00", hex(out));
            cs.setKey(e, out, (short) 1);
            cs.setKey(m, out, (short) 1);
        } else {
            assertEquals("sp800-108", Vectors.str(d, "kdf"));
            cs.deriveInto(key(st, ki), l[0], l[1], c, (short) 0, (short) c.length, e, m);
        }
        byte[] kv = new byte[kl];
        cs.getKey(e, kv, (short) 0);
        assertEquals(kEnc, hex(kv));
        cs.getKey(m, kv, (short) 0);
        assertEquals(kMac, hex(kv));
        return new Key[] {e, m};
    }

    static byte[] ascii(String s) {
        return s.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }

    /** The key (hex) a derivation row names: AK0, AK1 or the suite's development transport key. */
    static String ki(Map<String, Object> suite, Map<String, Object> d) {
        String k = Vectors.str(d, "ki");
        if (k.equals("TK")) {
            return hex(ascii(Vectors.str(suite, "dev_tk")));
        }
        return Vectors.str(suite, k.toLowerCase());
    }

    /**
     * What the applet takes for a derivation row, checked against Constants: a session's tag byte
     * (the row's hex label), or the transport label's two letters after "PURSE ".
     */
    static byte[] label(Map<String, Object> d) {
        String l = Vectors.str(d, "label");
        switch (Vectors.str(d, "name")) {
            case "transfer": assertEquals(Constants.KS_TX, hex(l)[0]); return hex(l);
            case "sync": assertEquals(Constants.KS_SY, hex(l)[0]); return hex(l);
            case "admin": assertEquals(Constants.KS_AD, hex(l)[0]); return hex(l);
            case "transport":
                assertEquals("PURSE TK", l);
                byte[] want = new byte[] {Constants.LABEL_TK_0, Constants.LABEL_TK_1};
                assertArrayEquals(want, ascii(l.substring(6)), l);
                return want;
            default: throw new IllegalStateException("derivation " + d.get("name"));
        }
    }

    @Test
    void kdfVectors() {
        int n = 0;
        for (Map<String, Object> suite : Vectors.objs(V, "suites")) {
            for (Map<String, Object> d : Vectors.objs(suite, "derivations")) {
                checkDerivation(suite, d);
                n++;
            }
        }
        assertEquals(8, n);
        // the contexts are the documented concatenations: one key set per session, from AK1
        String sCtx = TID + "33" + Vectors.str(AES_V, "rp"); // SID | k | RP
        for (Map<String, Object> suite : List.of(AES_V, TDES_V)) {
            for (String flow : List.of("transfer", "sync", "admin")) {
                Map<String, Object> d = Vectors.find(suite, "derivations", "name", flow);
                assertEquals(sCtx, Vectors.str(d, "context"), flow);
                assertEquals("AK1", Vectors.str(d, "ki"), flow);
                assertEquals("cbc", Vectors.str(d, "kdf"), flow);
            }
            assertEquals(RH + RC, Vectors.str(Vectors.find(suite, "derivations", "name", "transport"), "context"));
        }
        assertEquals("purse-dev-transp", Vectors.str(AES_V, "dev_tk"));
        assertEquals("purse-dev-transport-3des", Vectors.str(TDES_V, "dev_tk"));
    }

    void checkCryptograms(String tk, String cc, String hc) {
        byte suite = suiteOfHex(tk);
        Key e = cs.workKey(suite, (byte) 0);
        Key m = cs.workKey(suite, (byte) 1);
        byte[] ctx = hex(RH + RC);
        cs.deriveInto(key(suite, tk), Constants.LABEL_TK_0, Constants.LABEL_TK_1, ctx, (short) 0, (short) 16, e, m);
        byte[] msg = new byte[17];
        System.arraycopy(ctx, 0, msg, 1, 16);
        byte[] t = new byte[8];
        msg[0] = Constants.CRYPTOGRAM_CARD;
        cs.mac8(m, msg, (short) 0, (short) 17, t, (short) 0);
        assertEquals(cc, hex(t));
        msg[0] = Constants.CRYPTOGRAM_HOST;
        cs.mac8(m, msg, (short) 0, (short) 17, t, (short) 0);
        assertEquals(hc, hex(t));
    }

    @Test
    void transportCryptograms() {
        for (Map<String, Object> suite : List.of(AES_V, TDES_V)) {
            assertEquals(RH + RC, Vectors.str(suite, "rh") + Vectors.str(suite, "rc"));
            checkCryptograms(hex(ascii(Vectors.str(suite, "dev_tk"))), Vectors.str(suite, "cc"), Vectors.str(suite, "hc"));
        }
    }

    void checkPacket(Map<String, Object> sv, Map<String, Object> d, byte type, byte kn, String sidHex, String bodyHex,
            String pktHex) {
        byte suite = suiteOfHex(ki(sv, d));
        Key[] em = checkDerivation(sv, d);
        Key e = em[0];
        Key m = em[1];
        byte[] body = hex(bodyHex);
        byte[] sid = hex("00" + sidHex);
        byte[] out = new byte[3 + pktHex.length() / 2 + 3];
        short n = pk.seal(type, kn, sid, (short) 1, e, m, body, (short) 0, (short) body.length, out, (short) 3);
        assertEquals(pktHex.length() / 2, n);
        assertEquals(Packets.packetLen((short) body.length, CryptoSuite.blockLen(suite)), n);
        assertEquals(pktHex, hex(out, 3, n));
        assertEquals(0, out[0] | out[1] | out[2] | out[3 + n] | out[4 + n] | out[5 + n]);

        byte[] pkt = hex(pktHex);
        short len = (short) pkt.length;
        short bl = (short) body.length;
        byte[] got = new byte[bl + 2];
        assertTrue(pk.open(type, kn, sid, (short) 1, e, m, pkt.clone(), (short) 0, len, bl, got, (short) 1));
        assertEquals("00" + bodyHex + "00", hex(got));
        // in place at C
        byte[] inPlace = pkt.clone();
        assertTrue(pk.open(type, kn, sid, (short) 1, e, m, inPlace, (short) 0, len, bl, inPlace, (short) 8));
        assertEquals(bodyHex, hex(inPlace, 8, bl));
        // every single-bit flip is refused
        for (int i = 0; i < pkt.length * 8; i++) {
            byte[] f = pkt.clone();
            f[i / 8] ^= (byte) (1 << (i % 8));
            assertFalse(pk.open(type, kn, sid, (short) 1, e, m, f, (short) 0, len, bl, got, (short) 0), "bit " + i);
        }
        // open decrypts C in place (the packet is spent): every try gets a fresh copy
        // wrong expectations
        assertFalse(pk.open((byte) (type + 1), kn, sid, (short) 1, e, m, pkt.clone(), (short) 0, len, bl, got, (short) 0));
        assertFalse(pk.open(type, (byte) (kn + 1), sid, (short) 1, e, m, pkt.clone(), (short) 0, len, bl, got, (short) 0));
        assertFalse(pk.open(type, kn, sid, (short) 0, e, m, pkt.clone(), (short) 0, len, bl, got, (short) 0));
        assertFalse(pk.open(type, kn, sid, (short) 1, e, m, pkt.clone(), (short) 0, (short) (len - 1), bl, got, (short) 0));
        // another key for the keystream or for the MAC (0x02: TDES ignores each byte's low bit)
        Key w = cs.workKey(suite, (byte) 2);
        byte[] kv = new byte[CryptoSuite.keyLen(suite)];
        cs.getKey(m, kv, (short) 0);
        kv[0] ^= 0x02;
        cs.setKey(w, kv, (short) 0);
        assertFalse(pk.open(type, kn, sid, (short) 1, w, m, pkt.clone(), (short) 0, len, bl, got, (short) 0));
        assertFalse(pk.open(type, kn, sid, (short) 1, e, w, pkt.clone(), (short) 0, len, bl, got, (short) 0));
        // a packet of the same length whose body length differs: padding check refuses it
        short b = CryptoSuite.blockLen(suite);
        for (short other = 0; other < 64; other++) {
            if (other != bl && Packets.packetLen(other, b) == len) {
                assertFalse(pk.open(type, kn, sid, (short) 1, e, m, pkt.clone(), (short) 0, len, other, got, (short) 0),
                        "body length " + other);
            }
        }
    }

    @Test
    void packetVectors() {
        int n = 0;
        for (Map<String, Object> suite : List.of(AES_V, TDES_V)) {
            assertEquals(TID, Vectors.str(suite, "tid"));
            for (Map<String, Object> p : Vectors.objs(suite, "packets")) {
                boolean transport = Vectors.str(p, "keys").equals("transport");
                assertEquals(transport ? "00" : "33", Vectors.str(p, "keynum"));
                assertEquals(transport ? "434343434343" : TID, Vectors.str(p, "sid")); // RC[0..6) or the TID
                Map<String, Object> d = Vectors.find(suite, "derivations", "name", Vectors.str(p, "keys"));
                byte type = (byte) Integer.parseInt(Vectors.str(p, "type"), 16);
                byte kn = (byte) Integer.parseInt(Vectors.str(p, "keynum"), 16);
                checkPacket(suite, d, type, kn, Vectors.str(p, "sid"), Vectors.str(p, "body"), Vectors.str(p, "packet"));
                n++;
            }
            // G2 in the transport channel: two keys, the IV masked by K_MAC's packet mask (protocol.md 2.4)
            Map<String, Object> g2 = Vectors.find(suite, "packets", "name", "G2");
            assertEquals(Constants.PT_G2, (byte) Integer.parseInt(Vectors.str(g2, "type"), 16));
            assertEquals(Constants.BODY_G2, Vectors.str(g2, "body").length() / 2);
            Map<String, Object> td = Vectors.find(suite, "derivations", "name", "transport");
            assertNotEquals(Vectors.str(td, "k_enc"), Vectors.str(td, "k_mac"));
            // P1 and P4 under the one key set of the transfer
            Map<String, Object> p1 = Vectors.find(suite, "packets", "name", "P1");
            assertEquals(Constants.PT_P1, (byte) Integer.parseInt(Vectors.str(p1, "type"), 16));
            assertEquals("transfer", Vectors.str(p1, "keys"));
            assertEquals(Constants.BODY_P1, Vectors.str(p1, "body").length() / 2);
            Map<String, Object> p4 = Vectors.find(suite, "packets", "name", "P4");
            assertEquals(Constants.PT_P4, (byte) Integer.parseInt(Vectors.str(p4, "type"), 16));
            assertEquals("transfer", Vectors.str(p4, "keys"));
            assertEquals(Constants.BODY_SHORT, Vectors.str(p4, "body").length() / 2);
        }
        assertEquals(6, n);
    }

    @Test
    void packetLengthsMatchSpec() {
        short a = Constants.BLOCK_AES, t = Constants.BLOCK_TDES;
        assertEquals(64, Packets.packetLen(Constants.BODY_P1, a));
        assertEquals(56, Packets.packetLen(Constants.BODY_P1, t));
        assertEquals(Constants.PKT_P5, Packets.packetLen(Constants.BODY_P5, a));
        assertEquals(Constants.PKT_P5, Packets.packetLen(Constants.BODY_P5, t));
        assertEquals(96, Constants.PKT_P5);
        assertEquals(Constants.PKT_A2_AES, Packets.packetLen(Constants.BODY_A2, a));
        assertEquals(Constants.PKT_A2_TDES, Packets.packetLen(Constants.BODY_A2, t));
        assertEquals(96, Constants.PKT_A2_AES);
        assertEquals(88, Constants.PKT_A2_TDES);
        assertEquals(Constants.PKT_P2_TX_AES, Packets.packetLen(Constants.BODY_P2_TX, a));
        assertEquals(Constants.PKT_P2_TX_TDES, Packets.packetLen(Constants.BODY_P2_TX, t));
        assertEquals(80, Constants.PKT_P2_TX_AES);
        assertEquals(72, Constants.PKT_P2_TX_TDES);
        assertEquals(48, Packets.packetLen(Constants.BODY_SHORT, a));
        assertEquals(48, Packets.packetLen(Constants.BODY_SHORT, t));
        assertEquals(112, Packets.packetLen(Constants.BODY_G1, a));
        assertEquals(112, Packets.packetLen(Constants.BODY_G1, t));
        assertEquals(176, Packets.packetLen((short) 145, a));
        assertEquals(168, Packets.packetLen((short) 145, t));
        assertEquals(208, Packets.packetLen((short) 177, a));
        assertEquals(200, Packets.packetLen((short) 177, t));
        assertEquals(48, Packets.packetLen(Constants.BODY_G2, a));
        assertEquals(40, Packets.packetLen(Constants.BODY_G2, t));
        // and every row of the file's table
        List<Map<String, Object>> rows = Vectors.objs(V, "packet_lengths");
        assertEquals(9, rows.size());
        for (Map<String, Object> r : rows) {
            short body = (short) (long) (Long) r.get("body");
            assertEquals((long) (Long) r.get("aes"), Packets.packetLen(body, a), "body " + body);
            assertEquals((long) (Long) r.get("tdes"), Packets.packetLen(body, t), "body " + body);
        }
    }

    @Test
    void largeBodiesRoundTrip() {
        for (byte suite : new byte[] {AES, TDES}) {
            Key e = cs.workKey(suite, (byte) 0);
            Key m = cs.workKey(suite, (byte) 1);
            byte[] kv = new byte[24];
            cs.random(kv, (short) 0, (short) 24);
            cs.setKey(e, kv, (short) 0);
            cs.random(kv, (short) 0, (short) 24);
            cs.setKey(m, kv, (short) 0);
            byte[] sid = hex(TID);
            for (short bl = 0; bl <= 177; bl++) {
                byte[] body = new byte[bl];
                cs.random(body, (short) 0, bl);
                byte[] out = new byte[220];
                short n = pk.seal(Constants.PT_I1, (byte) 0, sid, (short) 0, e, m, body, (short) 0, bl, out, (short) 0);
                byte[] back = new byte[bl];
                assertTrue(pk.open(Constants.PT_I1, (byte) 0, sid, (short) 0, e, m, out, (short) 0, n, bl, back, (short) 0));
                assertArrayEquals(body, back);
            }
        }
    }

    void checkBalance(Map<String, Object> suite) {
        Map<String, Object> bal = Vectors.obj(suite.get("balance"));
        assertEquals("AK1", Vectors.str(bal, "key"));
        String kInt = Vectors.str(suite, "ak1");
        byte suiteCode = suiteOfHex(kInt);
        byte[] msg = hex(Vectors.str(bal, "fields") + Vectors.str(bal, "account"));
        assertEquals(17 + 8, msg.length);
        byte[] t = new byte[10];
        cs.mac8Fixed(key(suiteCode, kInt), msg, (short) 0, (short) msg.length, t, (short) 1);
        assertEquals("00" + Vectors.str(bal, "check") + "00", hex(t));
        // the fixed-length CBC-MAC is not the CMAC of the same bytes
        cs.mac8(key(suiteCode, kInt), msg, (short) 0, (short) msg.length, t, (short) 1);
        assertNotEquals("00" + Vectors.str(bal, "check") + "00", hex(t));
    }

    @Test
    void balanceIntegrityVectors() {
        checkBalance(AES_V);
        checkBalance(TDES_V);
    }

    /** A new card session as CryptoSuite sees it: its CLEAR_ON_DESELECT "a persistent key was set" flag down. */
    private static void newSession(CryptoSuite c) throws ReflectiveOperationException {
        java.lang.reflect.Field f = CryptoSuite.class.getDeclaredField("scratch");
        f.setAccessible(true);
        java.lang.reflect.Field p = CryptoSuite.class.getDeclaredField("S_PERSIST");
        p.setAccessible(true);
        ((byte[]) f.get(c))[p.getShort(null)] = 0;
    }

    /**
     * The held engine of sessionKeys on a card that copies the key into the Cipher at init: a
     * persistent setKey of the held key makes the next session initialise it again (else it
     * would derive with the old value), and sessions with no setKey keep it.
     */
    @Test
    void heldEngineFollowsAPersistentSetKeyOnACardThatCopiesTheKey() throws Exception {
        boolean was = BlockCipherImpl.keyAtInit;
        BlockCipherImpl.keyAtInit = true;
        try {
            CryptoSuite c = new CryptoSuite();
            Key ak = c.buildInternalKey(AES);
            byte[] ctx = hex("0102030405060708090A0B0C0D0E0F");
            for (String kv : new String[] {AES_AK0, AES_AK1, AES_AK0}) {
                c.setKey(ak, hex(kv), (short) 0);
                CryptoSuite r = new CryptoSuite(); // a fresh reference: shared engines, initialised now
                Key rk = r.buildPersistentKey(AES);
                r.setKey(rk, hex(kv), (short) 0);
                byte[] want = new byte[32];
                r.sessionKeys(rk, (byte) 1, ctx, (short) 0, want, (short) 0);
                for (int session = 0; session < 3; session++) {
                    newSession(c); // the first: a session after the one that set the key, no use between
                    byte[] got = new byte[32];
                    c.sessionKeys(ak, (byte) 1, ctx, (short) 0, got, (short) 0);
                    assertArrayEquals(want, got, kv + ", session " + session);
                }
            }
        } finally {
            BlockCipherImpl.keyAtInit = was;
        }
    }

    @Test
    void macCompareTouchesAllBytes() {
        byte[] a = hex("0102030405060708");
        assertTrue(CryptoSuite.equalsCT(a, (short) 0, a.clone(), (short) 0, (short) 8));
        for (int i = 0; i < 8; i++) {
            for (int bit = 0; bit < 8; bit++) {
                byte[] b = a.clone();
                b[i] ^= (byte) (1 << bit);
                assertFalse(CryptoSuite.equalsCT(a, (short) 0, b, (short) 0, (short) 8));
            }
        }
        // no early exit: the first byte already differs, yet the compare still reads byte 7 of
        // a 7-byte array (an early-exit compare would return false without touching it)
        byte[] shortB = Arrays.copyOf(a, 7);
        shortB[0] ^= 1;
        assertThrows(ArrayIndexOutOfBoundsException.class,
                () -> CryptoSuite.equalsCT(a, (short) 0, shortB, (short) 0, (short) 8));
        // and mac8Verify goes through it: a wrong first byte still reads the whole tag
        byte[] m = new byte[3];
        byte[] tag = new byte[7];
        assertThrows(ArrayIndexOutOfBoundsException.class,
                () -> cs.mac8Verify(key(AES, AES_AK0), m, (short) 0, (short) 3, tag, (short) 0));
    }

    @Test
    void randomKeyAndRandom() {
        Key k = cs.buildPersistentKey(TDES);
        cs.randomKey(k);
        byte[] v = new byte[24];
        assertEquals(24, cs.getKey(k, v, (short) 0));
        assertFalse(Arrays.equals(new byte[24], v));
        byte[] r1 = new byte[8], r2 = new byte[8];
        cs.random(r1, (short) 0, (short) 8);
        cs.random(r2, (short) 0, (short) 8);
        assertFalse(Arrays.equals(r1, r2));
    }

    /**
     * protocol.md 2.4: the card's keystream (CBC of IV | 00 .. through its IV-0 engine, in chunks)
     * is OFB: equal to E(X), E(E(X)), ... computed with the JDK's ECB, X = (the 8 IV bytes | 00..)
     * XOR the packet mask of the mask key (K1 for AES, K2 for TDES), for every length up to three chunks and a half, at an offset,
     * nothing written around it; under the key itself as the mask (a session) and under another.
     */
    @Test
    void keystreamIsOfbOfTheJdk() {
        for (byte suite : new byte[] {AES, TDES}) {
            String kh = suite == AES ? AES_AK1 : TDES_AK1;
            Key k = key(suite, kh);
            String mh = suite == AES ? AES_AK0 : TDES_AK0;
            Key other = cs.workKey(suite, (byte) 1);
            cs.setKey(other, hex(mh), (short) 0);
            int bl = CryptoSuite.blockLen(suite);
            for (int len = bl; len <= 620; len += bl) {
                boolean self = (len / bl) % 2 == 0;
                Key m = self ? k : other;
                byte[] mk = self ? hex(kh) : hex(mh);
                byte[] iv = new byte[10];
                cs.random(iv, (short) 0, (short) 10);
                byte[] data = new byte[len + 6];
                cs.random(data, (short) 0, (short) data.length);
                byte[] orig = data.clone();
                byte[] want = data.clone();
                byte[] x = PurseCardTestSupport.packetIv(mk, Arrays.copyOfRange(iv, 1, 9));
                byte[] ofb = PurseCardTestSupport.ofb(hex(kh), x, Arrays.copyOfRange(data, 3, 3 + len));
                System.arraycopy(ofb, 0, want, 3, len);
                cs.stream(k, m, iv, (short) 1, data, (short) 3, (short) len);
                assertArrayEquals(want, data, "suite " + suite + ", " + len + " bytes");
                // the same keystream again (the engine is back at IV 0): decrypts
                cs.stream(k, m, iv, (short) 1, data, (short) 3, (short) len);
                assertArrayEquals(orig, data);
            }
            // a CMAC between two streams of the same key changes nothing
            byte[] d1 = new byte[48], d2 = new byte[48], iv = new byte[8];
            cs.stream(k, k, iv, (short) 0, d1, (short) 0, (short) 48);
            cs.mac8(k, d1, (short) 0, (short) 5, new byte[8], (short) 0);
            cs.stream(k, k, iv, (short) 0, d2, (short) 0, (short) 48);
            assertArrayEquals(d1, d2);
            // T = 0 starts the keystream at E(mask), not at E(0) = L, CMAC's own input: AES E(K1),
            // TDES E(K2), never E(K1), which every TDES packet MAC's last input carries
            byte[] k1 = PurseCardTestSupport.cmacK1(hex(kh));
            byte[] mask = PurseCardTestSupport.packetMask(hex(kh));
            assertArrayEquals(suite == AES ? k1 : PurseCardTestSupport.dbl(k1, 0x1B), mask);
            assertArrayEquals(PurseCardTestSupport.ecb(hex(kh), mask, true), Arrays.copyOf(d1, bl));
            if (suite == TDES) {
                assertFalse(Arrays.equals(PurseCardTestSupport.ecb(hex(kh), k1, true), Arrays.copyOf(d1, bl)));
            }
        }
    }

    /** The card's seal is the host's (JDK) seal for every body length up to I1's, both suites; the host opens it. */
    @Test
    void sealEqualsAnIndependentSeal() {
        for (byte suite : new byte[] {AES, TDES}) {
            int kl = CryptoSuite.keyLen(suite);
            byte[] ks = new byte[2 * kl];
            cs.random(ks, (short) 0, (short) ks.length);
            Key e = cs.workKey(suite, (byte) 0);
            Key m = cs.workKey(suite, (byte) 1);
            cs.setKey(e, ks, (short) 0);
            cs.setKey(m, ks, (short) kl);
            byte[] sid = hex(TID);
            for (short bl = 0; bl <= 177; bl++) {
                byte[] body = new byte[bl];
                cs.random(body, (short) 0, bl);
                byte[] out = new byte[220];
                short n = pk.seal((byte) 0x44, (byte) 0x33, sid, (short) 0, e, m, body, (short) 0, bl, out, (short) 0);
                byte[] host = PurseCardTestSupport.seal(0x44, 0x33, sid, ks, body);
                assertEquals(hex(host), hex(out, 0, n), "suite " + suite + ", body " + bl);
                assertArrayEquals(body, PurseCardTestSupport.open(host, ks, bl));
            }
        }
    }
}
