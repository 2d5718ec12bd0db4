package org.purse.jc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.purse.jc.CryptoTestSupport.aesKey;
import static org.purse.jc.CryptoTestSupport.expectReason;
import static org.purse.jc.CryptoTestSupport.hex;
import static org.purse.jc.CryptoTestSupport.roundTrip;

import java.nio.charset.StandardCharsets;

import javacard.security.AESKey;
import javacard.security.CryptoException;
import javacard.security.DESKey;
import javacard.security.Key;
import javacard.security.KeyBuilder;
import javacard.security.MessageDigest;
import javacard.security.RandomData;
import javacard.security.Signature;
import javacardx.crypto.Cipher;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Keys, MessageDigest, RandomData, serialization of crypto objects. */
class CryptoTestMisc {

    @AfterEach
    void back() {
        CryptoConfig.clearDeterministicSeed();
    }

    @Test
    void keyLengthsAndAccessors() {
        short[][] ok = {
            {KeyBuilder.TYPE_DES, KeyBuilder.LENGTH_DES}, {KeyBuilder.TYPE_DES, KeyBuilder.LENGTH_DES3_2KEY},
            {KeyBuilder.TYPE_DES, KeyBuilder.LENGTH_DES3_3KEY}, {KeyBuilder.TYPE_AES, KeyBuilder.LENGTH_AES_128},
            {KeyBuilder.TYPE_AES, KeyBuilder.LENGTH_AES_192}, {KeyBuilder.TYPE_AES, KeyBuilder.LENGTH_AES_256},
        };
        for (short[] t : ok) {
            Key k = KeyBuilder.buildKey((byte) t[0], t[1], false);
            assertEquals(t[0], k.getType());
            assertEquals(t[1], k.getSize());
            assertFalse(k.isInitialized());
            assertEquals(t[0] == KeyBuilder.TYPE_AES, k instanceof AESKey);
            assertEquals(t[0] == KeyBuilder.TYPE_DES, k instanceof DESKey);
            byte[] v = new byte[t[1] / 8 + 4];
            for (int i = 0; i < v.length; i++) {
                v[i] = (byte) (i + 1);
            }
            byte[] back = new byte[t[1] / 8 + 2];
            if (k instanceof AESKey) {
                ((AESKey) k).setKey(v, (short) 3);
                assertEquals(t[1] / 8, ((AESKey) k).getKey(back, (short) 2));
            } else {
                ((DESKey) k).setKey(v, (short) 3);
                assertEquals(t[1] / 8, ((DESKey) k).getKey(back, (short) 2));
            }
            assertTrue(k.isInitialized());
            for (int i = 0; i < t[1] / 8; i++) {
                assertEquals(v[3 + i], back[2 + i]);
            }
            k.clearKey();
            assertFalse(k.isInitialized());
        }
    }

    @Test
    void keyErrors() {
        expectReason(CryptoException.NO_SUCH_ALGORITHM,
                () -> KeyBuilder.buildKey(KeyBuilder.TYPE_AES, (short) 64, false));
        expectReason(CryptoException.NO_SUCH_ALGORITHM,
                () -> KeyBuilder.buildKey(KeyBuilder.TYPE_DES, KeyBuilder.LENGTH_AES_256, false));
        expectReason(CryptoException.NO_SUCH_ALGORITHM,
                () -> KeyBuilder.buildKey(KeyBuilder.TYPE_RSA_PRIVATE, (short) 1024, false));
        expectReason(CryptoException.NO_SUCH_ALGORITHM,
                () -> KeyBuilder.buildKey(KeyBuilder.TYPE_AES, KeyBuilder.LENGTH_AES_128, true));
        final AESKey k = (AESKey) KeyBuilder.buildKey(KeyBuilder.TYPE_AES, KeyBuilder.LENGTH_AES_128, false);
        expectReason(CryptoException.UNINITIALIZED_KEY, () -> k.getKey(new byte[16], (short) 0));
        org.junit.jupiter.api.Assertions.assertThrows(ArrayIndexOutOfBoundsException.class,
                () -> k.setKey(new byte[20], (short) 5));
        assertFalse(k.isInitialized());
    }

    @Test
    void transientKeyTypes() {
        byte[] types = {KeyBuilder.TYPE_AES_TRANSIENT_RESET, KeyBuilder.TYPE_AES_TRANSIENT_DESELECT,
            KeyBuilder.TYPE_DES_TRANSIENT_RESET, KeyBuilder.TYPE_DES_TRANSIENT_DESELECT};
        for (byte t : types) {
            boolean aes = t == KeyBuilder.TYPE_AES_TRANSIENT_RESET || t == KeyBuilder.TYPE_AES_TRANSIENT_DESELECT;
            Key k = KeyBuilder.buildKey(t, aes ? KeyBuilder.LENGTH_AES_128 : KeyBuilder.LENGTH_DES3_2KEY, false);
            assertEquals(t, k.getType());
            byte[] v = new byte[16];
            if (aes) {
                ((AESKey) k).setKey(v, (short) 0);
            } else {
                ((DESKey) k).setKey(v, (short) 0);
            }
            assertTrue(k.isInitialized());
        }
    }

    @Test
    void sha256AndSha1Abc() {
        byte[] abc = "abc".getBytes(StandardCharsets.US_ASCII);
        MessageDigest md = MessageDigest.getInstance(MessageDigest.ALG_SHA_256, false);
        assertEquals(MessageDigest.ALG_SHA_256, md.getAlgorithm());
        assertEquals(32, md.getLength());
        byte[] out = new byte[40];
        assertEquals(32, md.doFinal(abc, (short) 0, (short) 3, out, (short) 4));
        assertEquals("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", hex(out, 4, 32));
        // update + doFinal, and doFinal resets
        md.update(abc, (short) 0, (short) 1);
        md.doFinal(abc, (short) 1, (short) 2, out, (short) 0);
        assertEquals("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", hex(out, 0, 32));
        md.update(abc, (short) 0, (short) 2);
        md.reset();
        md.doFinal(abc, (short) 0, (short) 3, out, (short) 0);
        assertEquals("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", hex(out, 0, 32));

        MessageDigest sha1 = MessageDigest.getInstance(MessageDigest.ALG_SHA, false);
        assertEquals(20, sha1.getLength());
        sha1.doFinal(abc, (short) 0, (short) 3, out, (short) 0);
        assertEquals("a9993e364706816aba3e25717850c26c9cd0d89d", hex(out, 0, 20));
        expectReason(CryptoException.NO_SUCH_ALGORITHM,
                () -> MessageDigest.getInstance(MessageDigest.ALG_RIPEMD160, false));
    }

    @Test
    void randomData() {
        RandomData r = RandomData.getInstance(RandomData.ALG_SECURE_RANDOM);
        byte[] a = new byte[32];
        byte[] b = new byte[32];
        r.generateData(a, (short) 0, (short) 32);
        r.generateData(b, (short) 0, (short) 32);
        assertFalse(java.util.Arrays.equals(a, b));
        r.setSeed(a, (short) 0, (short) 8);
        RandomData p = RandomData.getInstance(RandomData.ALG_PSEUDO_RANDOM);
        p.generateData(a, (short) 4, (short) 20);
        expectReason(CryptoException.NO_SUCH_ALGORITHM, () -> RandomData.getInstance((byte) 9));
    }

    @Test
    void deterministicRandom() {
        RandomData r = RandomData.getInstance(RandomData.ALG_SECURE_RANDOM);
        CryptoConfig.setDeterministicSeed(42);
        assertTrue(CryptoConfig.isDeterministic());
        byte[] a = new byte[50];
        r.generateData(a, (short) 0, (short) 17);
        r.generateData(a, (short) 17, (short) 33);
        CryptoConfig.setDeterministicSeed(42);
        byte[] b = new byte[50];
        RandomData.getInstance(RandomData.ALG_PSEUDO_RANDOM).generateData(b, (short) 0, (short) 50);
        assertArrayEquals(a, b);
        CryptoConfig.setDeterministicSeed(43);
        r.generateData(b, (short) 0, (short) 50);
        assertFalse(java.util.Arrays.equals(a, b));
        CryptoConfig.clearDeterministicSeed();
        assertFalse(CryptoConfig.isDeterministic());
    }

    @Test
    void serializationRoundTripOfKeyAndCipher() throws Exception {
        AESKey k = aesKey(CryptoTest.SP38A_KEY);
        Cipher c = Cipher.getInstance(Cipher.ALG_AES_BLOCK_128_CBC_NOPAD, false);
        byte[] iv = hex(CryptoTest.SP38A_IV);
        c.init(k, Cipher.MODE_ENCRYPT, iv, (short) 0, (short) 16);
        byte[] pt = hex(CryptoTest.SP38A_PT);
        byte[] out = new byte[64];
        c.update(pt, (short) 0, (short) 20, out, (short) 0); // leave intermediate state behind

        Object[] image = roundTrip(new Object[] {k, c});
        AESKey k2 = (AESKey) image[0];
        Cipher c2 = (Cipher) image[1];
        assertTrue(k2.isInitialized());
        assertEquals(KeyBuilder.TYPE_AES, k2.getType());
        byte[] v = new byte[16];
        k2.getKey(v, (short) 0);
        assertEquals(CryptoTest.SP38A_KEY, hex(v));
        assertEquals(Cipher.ALG_AES_BLOCK_128_CBC_NOPAD, c2.getAlgorithm());

        // power-up semantics: still initialised (key, mode) but IV reset to 0 and no partial block
        c2.doFinal(pt, (short) 0, (short) 16, out, (short) 0);
        assertEquals("3ad77bb40d7a3660a89ecaf32466ef97", hex(out, 0, 16));

        // re-init with IV: usable as before
        c2.init(k2, Cipher.MODE_ENCRYPT, iv, (short) 0, (short) 16);
        c2.doFinal(pt, (short) 0, (short) 64, out, (short) 0);
        assertEquals(hex(hex(CryptoTest.SP38A_CBC_CT)), hex(out));

        // the restored cipher refers to the restored key object (shared graph)
        k2.clearKey();
        expectReason(CryptoException.UNINITIALIZED_KEY,
                () -> c2.doFinal(new byte[16], (short) 0, (short) 16, new byte[16], (short) 0));
    }

    @Test
    void serializationOfMacDigestRandom() throws Exception {
        AESKey k = aesKey(CryptoTest.SP38A_KEY);
        Signature s = Signature.getInstance(Signature.ALG_AES_MAC_128_NOPAD, false);
        s.init(k, Signature.MODE_SIGN);
        MessageDigest md = MessageDigest.getInstance(MessageDigest.ALG_SHA_256, false);
        byte[] abc = "abc".getBytes(StandardCharsets.US_ASCII);
        md.update(abc, (short) 0, (short) 1);
        RandomData r = RandomData.getInstance(RandomData.ALG_SECURE_RANDOM);
        Object[] img = roundTrip(new Object[] {k, s, md, r});
        Signature s2 = (Signature) img[1];
        byte[] mac = new byte[16];
        s2.sign(hex(CryptoTest.SP38A_PT), (short) 0, (short) 16, mac, (short) 0);
        assertEquals("3ad77bb40d7a3660a89ecaf32466ef97", hex(mac));
        MessageDigest md2 = (MessageDigest) img[2];
        byte[] out = new byte[32];
        md2.doFinal(abc, (short) 0, (short) 3, out, (short) 0); // reset by power-up: digest of "abc"
        assertEquals("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", hex(out));
        byte[] rnd = new byte[8];
        ((RandomData) img[3]).generateData(rnd, (short) 0, (short) 8);
        assertNotEquals(0, rnd.length);
    }
}
