package org.purse.jc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.purse.jc.CryptoTestSupport.aesKey;
import static org.purse.jc.CryptoTestSupport.desKey;
import static org.purse.jc.CryptoTestSupport.expectReason;
import static org.purse.jc.CryptoTestSupport.hex;

import java.util.Arrays;

import javax.crypto.spec.SecretKeySpec;

import javacard.security.AESKey;
import javacard.security.CryptoException;
import javacard.security.DESKey;
import javacard.security.KeyBuilder;
import javacard.security.Signature;
import javacardx.crypto.Cipher;
import org.junit.jupiter.api.Test;

/** Signature (MACs): CBC-MAC = last CBC block, ISO 9797-1 alg 3, padding, verify, errors. */
class CryptoTestMac {

    @Test
    void constantsMatchJavaCard304() {
        assertEquals(2, Signature.ALG_DES_MAC8_NOPAD);
        assertEquals(18, Signature.ALG_AES_MAC_128_NOPAD);
        assertEquals(20, Signature.ALG_DES_MAC8_ISO9797_1_M2_ALG3);
        assertEquals(1, Signature.MODE_SIGN);
        assertEquals(2, Signature.MODE_VERIFY);
    }

    static byte[] lastCbcBlock(Cipher cbc, javacard.security.Key k, byte[] msg, int bs) {
        cbc.init(k, Cipher.MODE_ENCRYPT);
        byte[] out = new byte[msg.length];
        cbc.doFinal(msg, (short) 0, (short) msg.length, out, (short) 0);
        return Arrays.copyOfRange(out, out.length - bs, out.length);
    }

    @Test
    void aesCbcMacIsLastCbcBlock() {
        AESKey k = aesKey(CryptoTest.SP38A_KEY);
        byte[] msg = hex(CryptoTest.SP38A_PT);
        Signature s = Signature.getInstance(Signature.ALG_AES_MAC_128_NOPAD, false);
        s.init(k, Signature.MODE_SIGN);
        assertEquals(16, s.getLength());
        byte[] mac = new byte[16];
        // split across update calls at an odd boundary
        s.update(msg, (short) 0, (short) 21);
        assertEquals(16, s.sign(msg, (short) 21, (short) 43, mac, (short) 0));
        byte[] expect = lastCbcBlock(Cipher.getInstance(Cipher.ALG_AES_BLOCK_128_CBC_NOPAD, false), k, msg, 16);
        assertEquals(hex(expect), hex(mac));
        // with IV 0 the CBC-MAC of SP 800-38A's first block is its ECB ciphertext
        s.sign(msg, (short) 0, (short) 16, mac, (short) 0);
        assertEquals("3ad77bb40d7a3660a89ecaf32466ef97", hex(mac));

        s.init(k, Signature.MODE_VERIFY);
        assertTrue(s.verify(msg, (short) 0, (short) 16, mac, (short) 0, (short) 16));
        mac[3] ^= 1;
        assertFalse(s.verify(msg, (short) 0, (short) 16, mac, (short) 0, (short) 16));
        mac[3] ^= 1;
        assertFalse(s.verify(msg, (short) 0, (short) 16, mac, (short) 0, (short) 8));
    }

    @Test
    void desMac8NopadIsLastCbcBlockForAllKeyLengths() {
        byte[] msg = hex("000102030405060708090a0b0c0d0e0f1011121314151617");
        String[] keys = {"0123456789abcdef", "0123456789abcdeffedcba9876543210",
            "0123456789abcdef23456789abcdef01456789abcdef0123"};
        for (String kh : keys) {
            DESKey k = desKey(kh);
            Signature s = Signature.getInstance(Signature.ALG_DES_MAC8_NOPAD, false);
            s.init(k, Signature.MODE_SIGN);
            byte[] mac = new byte[8];
            assertEquals(8, s.sign(msg, (short) 0, (short) msg.length, mac, (short) 0));
            byte[] expect = lastCbcBlock(Cipher.getInstance(Cipher.ALG_DES_CBC_NOPAD, false), k, msg, 8);
            assertEquals(hex(expect), hex(mac), kh);
        }
    }

    @Test
    void macWithIv() {
        AESKey k = aesKey(CryptoTest.SP38A_KEY);
        byte[] iv = hex(CryptoTest.SP38A_IV);
        byte[] msg = hex(CryptoTest.SP38A_PT);
        Signature s = Signature.getInstance(Signature.ALG_AES_MAC_128_NOPAD, false);
        s.init(k, Signature.MODE_SIGN, iv, (short) 0, (short) 16);
        byte[] mac = new byte[16];
        s.sign(msg, (short) 0, (short) 64, mac, (short) 0);
        assertEquals("3ff1caa1681fac09120eca307586e1a7", hex(mac)); // last SP 800-38A CBC block
    }

    static byte[] jceRetailMac(byte[] key16, byte[] msg) throws Exception {
        int padded = (msg.length / 8 + 1) * 8;
        byte[] m = Arrays.copyOf(msg, padded);
        m[msg.length] = (byte) 0x80;
        javax.crypto.Cipher des = javax.crypto.Cipher.getInstance("DES/CBC/NoPadding");
        des.init(javax.crypto.Cipher.ENCRYPT_MODE, new SecretKeySpec(key16, 0, 8, "DES"),
                new javax.crypto.spec.IvParameterSpec(new byte[8]));
        byte[] c = des.doFinal(m);
        byte[] h = Arrays.copyOfRange(c, c.length - 8, c.length);
        javax.crypto.Cipher d2 = javax.crypto.Cipher.getInstance("DES/ECB/NoPadding");
        d2.init(javax.crypto.Cipher.DECRYPT_MODE, new SecretKeySpec(key16, 8, 8, "DES"));
        h = d2.doFinal(h);
        javax.crypto.Cipher e1 = javax.crypto.Cipher.getInstance("DES/ECB/NoPadding");
        e1.init(javax.crypto.Cipher.ENCRYPT_MODE, new SecretKeySpec(key16, 0, 8, "DES"));
        return e1.doFinal(h);
    }

    @Test
    void iso9797Alg3RetailMac() throws Exception {
        byte[] key = hex("0123456789abcdeffedcba9876543210");
        DESKey k = desKey(hex(key));
        Signature s8 = Signature.getInstance(Signature.ALG_DES_MAC8_ISO9797_1_M2_ALG3, false);
        Signature s4 = Signature.getInstance(Signature.ALG_DES_MAC4_ISO9797_1_M2_ALG3, false);
        s8.init(k, Signature.MODE_SIGN);
        s4.init(k, Signature.MODE_SIGN);
        for (int len : new int[] {0, 1, 7, 8, 9, 24, 31}) {
            byte[] msg = new byte[len];
            for (int i = 0; i < len; i++) {
                msg[i] = (byte) (i * 7 + 1);
            }
            byte[] mac = new byte[8];
            assertEquals(8, s8.sign(msg, (short) 0, (short) len, mac, (short) 0));
            byte[] expect = jceRetailMac(key, msg);
            assertEquals(hex(expect), hex(mac), "len " + len);
            byte[] mac4 = new byte[4];
            assertEquals(4, s4.sign(msg, (short) 0, (short) len, mac4, (short) 0));
            assertEquals(hex(expect, 0, 4), hex(mac4));
        }
        // requires a 2-key TDES key
        final DESKey single = desKey("0123456789abcdef");
        expectReason(CryptoException.ILLEGAL_VALUE, () -> s8.init(single, Signature.MODE_SIGN));
    }

    @Test
    void iso9797M2PaddingOnPlainCbcMac() {
        DESKey k = desKey("0123456789abcdef");
        byte[] msg = hex("0102030405");
        Signature s = Signature.getInstance(Signature.ALG_DES_MAC8_ISO9797_M2, false);
        s.init(k, Signature.MODE_SIGN);
        byte[] mac = new byte[8];
        s.sign(msg, (short) 0, (short) 5, mac, (short) 0);
        Signature n = Signature.getInstance(Signature.ALG_DES_MAC8_NOPAD, false);
        n.init(k, Signature.MODE_SIGN);
        byte[] padded = hex("0102030405800000");
        byte[] mac2 = new byte[8];
        n.sign(padded, (short) 0, (short) 8, mac2, (short) 0);
        assertEquals(hex(mac2), hex(mac));
    }

    @Test
    void errors() {
        final Signature s = Signature.getInstance(Signature.ALG_AES_MAC_128_NOPAD, false);
        final byte[] buf = new byte[32];
        expectReason(CryptoException.INVALID_INIT, () -> s.sign(buf, (short) 0, (short) 16, buf, (short) 16));
        expectReason(CryptoException.INVALID_INIT, () -> s.getLength());
        final AESKey blank = (AESKey) KeyBuilder.buildKey(KeyBuilder.TYPE_AES, KeyBuilder.LENGTH_AES_128, false);
        expectReason(CryptoException.UNINITIALIZED_KEY, () -> s.init(blank, Signature.MODE_SIGN));
        final DESKey des = desKey("0123456789abcdef");
        expectReason(CryptoException.ILLEGAL_VALUE, () -> s.init(des, Signature.MODE_SIGN));
        final AESKey k = aesKey(CryptoTest.SP38A_KEY);
        expectReason(CryptoException.ILLEGAL_VALUE, () -> s.init(k, (byte) 0));
        s.init(k, Signature.MODE_SIGN);
        expectReason(CryptoException.ILLEGAL_USE, () -> s.sign(buf, (short) 0, (short) 15, buf, (short) 16));
        expectReason(CryptoException.ILLEGAL_USE,
                () -> s.verify(buf, (short) 0, (short) 16, buf, (short) 16, (short) 16));
        s.init(k, Signature.MODE_VERIFY);
        expectReason(CryptoException.ILLEGAL_USE, () -> s.sign(buf, (short) 0, (short) 16, buf, (short) 16));
        expectReason(CryptoException.NO_SUCH_ALGORITHM,
                () -> Signature.getInstance(Signature.ALG_RSA_SHA_PKCS1, false));
        expectReason(CryptoException.NO_SUCH_ALGORITHM,
                () -> Signature.getInstance(Signature.ALG_HMAC_SHA_256, false));
    }
}
