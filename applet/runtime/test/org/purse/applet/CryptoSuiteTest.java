package org.purse.applet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;

import javacard.security.Key;
import org.junit.jupiter.api.Test;

/** docs/protocol.md section 9 vectors (scripts/protocol_vectors.py), byte for byte. */
class CryptoSuiteTest {
    static final byte AES = Constants.SUITE_AES128;
    static final byte TDES = Constants.SUITE_TDES3;

    static final String AES_AK0 = "000102030405060708090A0B0C0D0E0F";
    static final String AES_AK1 = "101112131415161718191A1B1C1D1E1F";
    static final String TDES_AK0 = "0123456789ABCDEF23456789ABCDEF01456789ABCDEF0123";
    static final String TDES_AK1 = "FEDCBA9876543210EFCDAB8967452301DCFE98BA54761032";
    static final String TID = "A1A2A3A4A5A6";
    static final String R1 = "1111111111111111";
    static final String R2 = "2222222222222222";
    static final String RH = "4848484848484848";
    static final String RC = "4343434343434343";
    static final String P1_BODY = "11111111111111115055525345415050414C494345202020100000000000001604000978";
    static final String P4_BODY = "2222222222222222505552534541505002000004D21000000000000016251C";

    final CryptoSuite cs = new CryptoSuite();
    final Packets pk = new Packets(cs, new byte[Packets.TMP_LEN]);

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
            for (byte slot = 0; slot < 4; slot++) {
                assertEquals(s, CryptoSuite.suiteOf(cs.workKey(s, slot)));
            }
        }
    }

    @Test
    void cmacNist() {
        // NIST SP 800-38B, AES-128 examples 1-4 (D.1)
        String k = "2B7E151628AED2A6ABF7158809CF4F3C";
        assertEquals("BB1D6929E95937287FA37D129B756746", cmacHex(AES, k, ""));
        assertEquals("070A16B46B4D4144F79BDD9DD04A287C", cmacHex(AES, k, "6BC1BEE22E409F96E93D7E117393172A"));
        assertEquals("DFA66747DE9AE63030CA32611497C827", cmacHex(AES, k,
                "6BC1BEE22E409F96E93D7E117393172AAE2D8A571E03AC9C9EB76FAC45AF8E5130C81C46A35CE411"));
        assertEquals("51F0BEBF7E3B9D92FC49741779363CFE", cmacHex(AES, k,
                "6BC1BEE22E409F96E93D7E117393172AAE2D8A571E03AC9C9EB76FAC45AF8E51"
                        + "30C81C46A35CE411E5FBC1191A0A52EFF69F2445DF4F9B17AD2B417BE66C3710"));
        // protocol.md 9.1
        assertEquals("97DD6E5A882CBD564C39AE7D1C5A31AA", cmacHex(AES, AES_AK0, ""));
        assertEquals("980AE87B5F4C9C5214F5B6A8455E4C2D", cmacHex(AES, AES_AK0, "000102030405060708090A0B0C0D0E0F10111213"));
        assertEquals("7DB0D37DF936C550", cmacHex(TDES, TDES_AK0, ""));
        assertEquals("4DB69FF28A00FC11", cmacHex(TDES, TDES_AK0, "000102030405060708090A0B0C0D0E0F10111213"));
        // MAC8
        byte[] m = hex("000102030405060708090A0B0C0D0E0F10111213");
        byte[] t = new byte[10];
        cs.mac8(key(AES, AES_AK0), m, (short) 0, (short) m.length, t, (short) 1);
        assertEquals("00980AE87B5F4C9C5200", hex(t));
        assertTrue(cs.mac8Verify(key(AES, AES_AK0), m, (short) 0, (short) m.length, t, (short) 1));
        t[8] ^= 1;
        assertFalse(cs.mac8Verify(key(AES, AES_AK0), m, (short) 0, (short) m.length, t, (short) 1));
    }

    void checkDerivation(String ki, byte l0, byte l1, String ctx, String kEnc, String kMac) {
        byte suite = suiteOfHex(ki);
        byte[] c = hex(ctx);
        // kdf() directly
        int kl = CryptoSuite.keyLen(suite);
        byte[] out = new byte[2 * kl + 2];
        cs.kdf(key(suite, ki), l0, l1, c, (short) 0, (short) c.length, out, (short) 1, (short) (2 * kl));
        assertEquals("00" + kEnc + kMac + "00", hex(out));
        // deriveInto() the work keys
        Key e = cs.workKey(suite, (byte) 2);
        Key m = cs.workKey(suite, (byte) 3);
        cs.deriveInto(key(suite, ki), l0, l1, c, (short) 0, (short) c.length, e, m);
        byte[] kv = new byte[kl];
        cs.getKey(e, kv, (short) 0);
        assertEquals(kEnc, hex(kv));
        cs.getKey(m, kv, (short) 0);
        assertEquals(kMac, hex(kv));
    }

    static byte[] ascii(String s) {
        return s.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }

    @Test
    void kdfVectors() {
        byte hs0 = Constants.LABEL_HS_0, hs1 = Constants.LABEL_HS_1;
        byte tx0 = Constants.LABEL_TX_0, tx1 = Constants.LABEL_TX_1;
        byte tk0 = Constants.LABEL_TK_0, tk1 = Constants.LABEL_TK_1;
        String hsCtx = TID + "33" + "5252525252525252"; // TID | k | RP
        String txCtx = R1 + R2 + TID;
        String tkCtx = RH + RC;
        checkDerivation(AES_AK0, hs0, hs1, hsCtx, "E4F91979BBEC1A9195709346514A7AA7", "ABA603B2B1202272095C2BDE370ED691");
        checkDerivation(AES_AK1, tx0, tx1, txCtx, "6DBB70BDA878B157068441A73363D404", "70116926397732542589FFDCEE3FC268");
        checkDerivation(hex(ascii("purse-dev-transp")), tk0, tk1, tkCtx,
                "FA3A546EE6FABC083FCAA949A7D5C7C7", "EA14FF84B5F3140648D46D2F2AAD9E4F");
        checkDerivation(TDES_AK0, hs0, hs1, hsCtx,
                "7B3FE234025FB7A7934F4A4D128600125B1028C4F928D0AA", "B00014D188C6409258ECCF7C00D7B5B5D4640CFAE4F90ED6");
        checkDerivation(TDES_AK1, tx0, tx1, txCtx,
                "3B513A24988C13DFC346D2FD052A075CE656F7C8BDDC150A", "6326F3697EF536D520355BE5FD6EBA0BD62D5C0E235EEE25");
        checkDerivation(hex(ascii("purse-dev-transport-3des")), tk0, tk1, tkCtx,
                "B562827DB185FB419F75CEE5D5B8147E1C72DD90390DAC63", "38AD5B0EEAA43599AA09DB45565F71BE3FBCFFD05FB4270F");
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
        checkCryptograms(hex(ascii("purse-dev-transp")), "5A92AF170F242DE4", "581535D1F3DE61B4");
        checkCryptograms(hex(ascii("purse-dev-transport-3des")), "B83D14980D30F43B", "9560C76FCAFBAB44");
    }

    void checkPacket(String ki, byte l0, byte l1, String ctx, byte type, String bodyHex, String pktHex) {
        byte suite = suiteOfHex(ki);
        byte[] c = hex(ctx);
        Key e = cs.workKey(suite, (byte) 0);
        Key m = cs.workKey(suite, (byte) 1);
        cs.deriveInto(key(suite, ki), l0, l1, c, (short) 0, (short) c.length, e, m);
        byte[] body = hex(bodyHex);
        byte[] sid = hex("00" + TID);
        byte[] out = new byte[3 + pktHex.length() / 2 + 3];
        short n = pk.seal(type, (byte) 0x33, sid, (short) 1, e, m, body, (short) 0, (short) body.length, out, (short) 3);
        assertEquals(pktHex.length() / 2, n);
        assertEquals(Packets.packetLen((short) body.length, CryptoSuite.blockLen(suite)), n);
        assertEquals(pktHex, hex(out, 3, n));
        assertEquals(0, out[0] | out[1] | out[2] | out[3 + n] | out[4 + n] | out[5 + n]);

        byte[] pkt = hex(pktHex);
        short len = (short) pkt.length;
        short bl = (short) body.length;
        byte[] got = new byte[bl + 2];
        assertTrue(pk.open(type, (byte) 0x33, sid, (short) 1, e, m, pkt.clone(), (short) 0, len, bl, got, (short) 1));
        assertEquals("00" + bodyHex + "00", hex(got));
        // in place at C
        byte[] inPlace = pkt.clone();
        assertTrue(pk.open(type, (byte) 0x33, sid, (short) 1, e, m, inPlace, (short) 0, len, bl, inPlace, (short) 8));
        assertEquals(bodyHex, hex(inPlace, 8, bl));
        // every single-bit flip is refused
        for (int i = 0; i < pkt.length * 8; i++) {
            byte[] f = pkt.clone();
            f[i / 8] ^= (byte) (1 << (i % 8));
            assertFalse(pk.open(type, (byte) 0x33, sid, (short) 1, e, m, f, (short) 0, len, bl, got, (short) 0), "bit " + i);
        }
        // open decrypts C in place (the packet is spent): every try gets a fresh copy
        // wrong expectations
        assertFalse(pk.open((byte) (type + 1), (byte) 0x33, sid, (short) 1, e, m, pkt.clone(), (short) 0, len, bl, got, (short) 0));
        assertFalse(pk.open(type, (byte) 0x34, sid, (short) 1, e, m, pkt.clone(), (short) 0, len, bl, got, (short) 0));
        assertFalse(pk.open(type, (byte) 0x33, sid, (short) 0, e, m, pkt.clone(), (short) 0, len, bl, got, (short) 0));
        assertFalse(pk.open(type, (byte) 0x33, sid, (short) 1, e, m, pkt.clone(), (short) 0, (short) (len - 1), bl, got, (short) 0));
        assertFalse(pk.open(type, (byte) 0x33, sid, (short) 1, m, e, pkt.clone(), (short) 0, len, bl, got, (short) 0));
        // a packet of the same length whose body length differs: padding check refuses it
        short b = CryptoSuite.blockLen(suite);
        for (short other = 0; other < 64; other++) {
            if (other != bl && Packets.packetLen(other, b) == len) {
                assertFalse(pk.open(type, (byte) 0x33, sid, (short) 1, e, m, pkt.clone(), (short) 0, len, other, got, (short) 0),
                        "body length " + other);
            }
        }
    }

    @Test
    void packetVectors() {
        checkPacket(AES_AK0, Constants.LABEL_HS_0, Constants.LABEL_HS_1, TID + "33" + "5252525252525252", Constants.PT_P1, P1_BODY,
                "4133A1A2A3A4A5A613F9F8E083F16D9565811809CA5D826E1CB5C299790320539BF2A7C80556BA02052261784E02FBDC7EC1AB30965E11AAA0F868ED4F0727CA");
        checkPacket(AES_AK1, Constants.LABEL_TX_0, Constants.LABEL_TX_1, R1 + R2 + TID, Constants.PT_P4, P4_BODY,
                "4433A1A2A3A4A5A67753A25D635B3CE6CE0CC6ABFF916C5178D67F2A2ED42FBF77164034D602F246A0DA736EC47C02A8");
        checkPacket(TDES_AK0, Constants.LABEL_HS_0, Constants.LABEL_HS_1, TID + "33" + "5252525252525252", Constants.PT_P1, P1_BODY,
                "4133A1A2A3A4A5A6C201F0D60915ED781B28120AB5238DBA8C89C170C802E2F9BB601F48AF06E2EA90461C23DB64999B81020DAA980930C6");
        checkPacket(TDES_AK1, Constants.LABEL_TX_0, Constants.LABEL_TX_1, R1 + R2 + TID, Constants.PT_P4, P4_BODY,
                "4433A1A2A3A4A5A6CDA0628A8B5980DADA21DAED4DCA77C7E2306F0E2AC8891EE8CF5BD12146FAE59F2F361F03D4C762");
    }

    @Test
    void packetLengthsMatchSpec() {
        short a = Constants.BLOCK_AES, t = Constants.BLOCK_TDES;
        assertEquals(64, Packets.packetLen(Constants.BODY_P1, a));
        assertEquals(56, Packets.packetLen(Constants.BODY_P1, t));
        assertEquals(64, Packets.packetLen(Constants.BODY_P2, a));
        assertEquals(64, Packets.packetLen(Constants.BODY_P2, t));
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
    }

    @Test
    void largeBodiesRoundTrip() {
        for (byte suite : new byte[] {AES, TDES}) {
            Key e = cs.workKey(suite, (byte) 2);
            Key m = cs.workKey(suite, (byte) 3);
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

    void checkBalance(String kInt, String check) {
        byte suite = suiteOfHex(kInt);
        byte[] msg = hex("000004D2097802251C0000000000000007" + "1000000000000016");
        byte[] t = new byte[8];
        cs.mac8(key(suite, kInt), msg, (short) 0, (short) msg.length, t, (short) 0);
        assertEquals(check, hex(t));
    }

    @Test
    void balanceIntegrityVectors() {
        checkBalance(AES_AK1, "D0A5974ACC61FE4A");
        checkBalance(TDES_AK1, "018A3639406A22AA");
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

    @Test
    void ecbAndCbcRoundTrip() {
        for (byte suite : new byte[] {AES, TDES}) {
            Key k = key(suite, suite == AES ? AES_AK0 : TDES_AK0);
            byte[] iv = new byte[16];
            cs.random(iv, (short) 0, (short) 16);
            byte[] p = new byte[32];
            cs.random(p, (short) 0, (short) 32);
            byte[] c = new byte[32];
            byte[] back = new byte[32];
            assertEquals(32, cs.cbcEncrypt(k, iv, (short) 0, p, (short) 0, (short) 32, c, (short) 0));
            cs.cbcDecrypt(k, iv, (short) 0, c, (short) 0, (short) 32, back, (short) 0);
            assertArrayEquals(p, back);
            assertEquals(32, cs.ecbEncrypt(k, p, (short) 0, (short) 32, c, (short) 0));
        }
    }
}
