package org.purse.jc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.purse.jc.CryptoTestSupport.aesKey;
import static org.purse.jc.CryptoTestSupport.desKey;
import static org.purse.jc.CryptoTestSupport.expectReason;
import static org.purse.jc.CryptoTestSupport.hex;

import javacard.security.AESKey;
import javacard.security.CryptoException;
import javacard.security.DESKey;
import javacard.security.KeyBuilder;
import javacardx.crypto.Cipher;
import org.junit.jupiter.api.Test;

/** Cipher: known-answer vectors (FIPS-197, SP 800-38A, SP 800-67), streaming, errors. */
class CryptoTest {

    static final String SP38A_KEY = "2b7e151628aed2a6abf7158809cf4f3c";
    static final String SP38A_IV = "000102030405060708090a0b0c0d0e0f";
    static final String SP38A_PT = "6bc1bee22e409f96e93d7e117393172a ae2d8a571e03ac9c9eb76fac45af8e51"
            + "30c81c46a35ce411e5fbc1191a0a52ef f69f2445df4f9b17ad2b417be66c3710";
    static final String SP38A_CBC_CT = "7649abac8119b246cee98e9b12e9197d 5086cb9b507219ee95db113a917678b2"
            + "73bed6b8e3c1743b7116e69e22229516 3ff1caa1681fac09120eca307586e1a7";
    static final String SP38A_ECB_CT = "3ad77bb40d7a3660a89ecaf32466ef97 f5d3d58503b9699de785895a96fdbaaf"
            + "43b1cd7f598ece23881b00e3ed030688 7b0c785e27e8ad3f8223207104725dd4";

    static byte[] run(Cipher c, byte[] in) {
        byte[] out = new byte[in.length];
        short n = c.doFinal(in, (short) 0, (short) in.length, out, (short) 0);
        assertEquals(in.length, n);
        return out;
    }

    @Test
    void constantsMatchJavaCard304() {
        assertEquals(13, Cipher.ALG_AES_BLOCK_128_CBC_NOPAD);
        assertEquals(14, Cipher.ALG_AES_BLOCK_128_ECB_NOPAD);
        assertEquals(1, Cipher.ALG_DES_CBC_NOPAD);
        assertEquals(5, Cipher.ALG_DES_ECB_NOPAD);
        assertEquals(1, Cipher.MODE_DECRYPT);
        assertEquals(2, Cipher.MODE_ENCRYPT);
        assertEquals(15, KeyBuilder.TYPE_AES);
        assertEquals(3, KeyBuilder.TYPE_DES);
        assertEquals(128, KeyBuilder.LENGTH_AES_128);
        assertEquals(192, KeyBuilder.LENGTH_DES3_3KEY);
        assertEquals(1, CryptoException.ILLEGAL_VALUE);
        assertEquals(2, CryptoException.UNINITIALIZED_KEY);
        assertEquals(3, CryptoException.NO_SUCH_ALGORITHM);
        assertEquals(4, CryptoException.INVALID_INIT);
        assertEquals(5, CryptoException.ILLEGAL_USE);
    }

    @Test
    void aes128Fips197() {
        Cipher c = Cipher.getInstance(Cipher.ALG_AES_BLOCK_128_ECB_NOPAD, false);
        assertEquals(Cipher.ALG_AES_BLOCK_128_ECB_NOPAD, c.getAlgorithm());
        AESKey k = aesKey("000102030405060708090a0b0c0d0e0f");
        c.init(k, Cipher.MODE_ENCRYPT);
        assertEquals("69c4e0d86a7b0430d8cdb78070b4c55a", hex(run(c, hex("00112233445566778899aabbccddeeff"))));
        c.init(k, Cipher.MODE_DECRYPT);
        assertEquals("00112233445566778899aabbccddeeff", hex(run(c, hex("69c4e0d86a7b0430d8cdb78070b4c55a"))));
    }

    @Test
    void aes192And256Fips197() {
        Cipher c = Cipher.getInstance(Cipher.ALG_AES_BLOCK_128_ECB_NOPAD, false);
        c.init(aesKey("000102030405060708090a0b0c0d0e0f1011121314151617"), Cipher.MODE_ENCRYPT);
        assertEquals("dda97ca4864cdfe06eaf70a0ec0d7191", hex(run(c, hex("00112233445566778899aabbccddeeff"))));
        c.init(aesKey("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"), Cipher.MODE_ENCRYPT);
        assertEquals("8ea2b7ca516745bfeafc49904b496089", hex(run(c, hex("00112233445566778899aabbccddeeff"))));
    }

    @Test
    void aesEcbSp80038a() {
        Cipher c = Cipher.getInstance(Cipher.ALG_AES_BLOCK_128_ECB_NOPAD, false);
        c.init(aesKey(SP38A_KEY), Cipher.MODE_ENCRYPT);
        assertEquals(hex(hex(SP38A_ECB_CT)), hex(run(c, hex(SP38A_PT))));
    }

    @Test
    void aesCbcSp80038aEncryptDecrypt() {
        AESKey k = aesKey(SP38A_KEY);
        byte[] iv = hex(SP38A_IV);
        Cipher c = Cipher.getInstance(Cipher.ALG_AES_BLOCK_128_CBC_NOPAD, false);
        c.init(k, Cipher.MODE_ENCRYPT, iv, (short) 0, (short) 16);
        assertEquals(hex(hex(SP38A_CBC_CT)), hex(run(c, hex(SP38A_PT))));
        // after doFinal the object is back to its post-init state (same IV)
        assertEquals(hex(hex(SP38A_CBC_CT)), hex(run(c, hex(SP38A_PT))));
        c.init(k, Cipher.MODE_DECRYPT, iv, (short) 0, (short) 16);
        assertEquals(hex(hex(SP38A_PT)), hex(run(c, hex(SP38A_CBC_CT))));
    }

    @Test
    void cbcStreamingWithUpdateInOddChunks() {
        byte[] pt = hex(SP38A_PT);
        byte[] iv = hex(SP38A_IV);
        Cipher c = Cipher.getInstance(Cipher.ALG_AES_BLOCK_128_CBC_NOPAD, false);
        c.init(aesKey(SP38A_KEY), Cipher.MODE_ENCRYPT, iv, (short) 0, (short) 16);
        byte[] out = new byte[64];
        short o = 0;
        o += c.update(pt, (short) 0, (short) 5, out, o);
        assertEquals(0, o);
        o += c.update(pt, (short) 5, (short) 30, out, o);
        assertEquals(32, o);
        o += c.update(pt, (short) 35, (short) 20, out, o);
        assertEquals(48, o);
        o += c.doFinal(pt, (short) 55, (short) 9, out, o);
        assertEquals(64, o);
        assertEquals(hex(hex(SP38A_CBC_CT)), hex(out));
    }

    @Test
    void inPlaceEncryption() {
        byte[] buf = hex(SP38A_PT);
        Cipher c = Cipher.getInstance(Cipher.ALG_AES_BLOCK_128_CBC_NOPAD, false);
        byte[] iv = hex(SP38A_IV);
        c.init(aesKey(SP38A_KEY), Cipher.MODE_ENCRYPT, iv, (short) 0, (short) 16);
        c.doFinal(buf, (short) 0, (short) 64, buf, (short) 0);
        assertEquals(hex(hex(SP38A_CBC_CT)), hex(buf));
    }

    @Test
    void desAndTdesKnownAnswers() {
        Cipher c = Cipher.getInstance(Cipher.ALG_DES_ECB_NOPAD, false);
        // classic single-DES example
        c.init(desKey("133457799bbcdff1"), Cipher.MODE_ENCRYPT);
        assertEquals("85e813540f0ab405", hex(run(c, hex("0123456789abcdef"))));
        // SP 800-67 3-key TDES example ("The qufck brown fox jump")
        DESKey k3 = desKey("0123456789abcdef23456789abcdef01456789abcdef0123");
        assertEquals(192, k3.getSize());
        c.init(k3, Cipher.MODE_ENCRYPT);
        byte[] pt = "The qufck brown fox jump".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        byte[] ct = run(c, pt);
        assertEquals("a826fd8ce53b855fcce21c8112256fe668d5c05dd9b6b900", hex(ct));
        c.init(k3, Cipher.MODE_DECRYPT);
        assertEquals(hex(pt), hex(run(c, ct)));
    }

    @Test
    void twoKeyTdesIsK1K2K1() {
        Cipher c = Cipher.getInstance(Cipher.ALG_DES_CBC_NOPAD, false);
        byte[] pt = hex("0011223344556677 8899aabbccddeeff");
        c.init(desKey("0123456789abcdef fedcba9876543210"), Cipher.MODE_ENCRYPT);
        byte[] a = run(c, pt);
        c.init(desKey("0123456789abcdef fedcba9876543210 0123456789abcdef"), Cipher.MODE_ENCRYPT);
        assertEquals(hex(a), hex(run(c, pt)));
        // and differs from single DES with K1
        c.init(desKey("0123456789abcdef"), Cipher.MODE_ENCRYPT);
        org.junit.jupiter.api.Assertions.assertNotEquals(hex(a), hex(run(c, pt)));
    }

    @Test
    void desCbcWithIvMatchesManualChaining() {
        DESKey k = desKey("0123456789abcdef23456789abcdef01");
        byte[] iv = hex("1122334455667788");
        byte[] pt = hex("000102030405060708090a0b0c0d0e0f");
        Cipher cbc = Cipher.getInstance(Cipher.ALG_DES_CBC_NOPAD, false);
        cbc.init(k, Cipher.MODE_ENCRYPT, iv, (short) 0, (short) 8);
        byte[] ct = run(cbc, pt);
        Cipher ecb = Cipher.getInstance(Cipher.ALG_DES_ECB_NOPAD, false);
        ecb.init(k, Cipher.MODE_ENCRYPT);
        byte[] b = new byte[8];
        for (int i = 0; i < 8; i++) {
            b[i] = (byte) (pt[i] ^ iv[i]);
        }
        byte[] c1 = run(ecb, b);
        for (int i = 0; i < 8; i++) {
            b[i] = (byte) (pt[8 + i] ^ c1[i]);
        }
        byte[] c2 = run(ecb, b);
        assertEquals(hex(c1) + hex(c2), hex(ct));
        cbc.init(k, Cipher.MODE_DECRYPT, iv, (short) 0, (short) 8);
        assertEquals(hex(pt), hex(run(cbc, ct)));
    }

    @Test
    void errors() {
        final Cipher c = Cipher.getInstance(Cipher.ALG_AES_BLOCK_128_CBC_NOPAD, false);
        final byte[] buf = new byte[64];
        // not initialised
        expectReason(CryptoException.INVALID_INIT, () -> c.doFinal(buf, (short) 0, (short) 16, buf, (short) 0));
        expectReason(CryptoException.INVALID_INIT, () -> c.update(buf, (short) 0, (short) 16, buf, (short) 0));
        // uninitialised key
        final AESKey blank = (AESKey) KeyBuilder.buildKey(KeyBuilder.TYPE_AES, KeyBuilder.LENGTH_AES_128, false);
        expectReason(CryptoException.UNINITIALIZED_KEY, () -> c.init(blank, Cipher.MODE_ENCRYPT));
        // wrong key family, bad mode, bad IV length
        final DESKey des = desKey("0123456789abcdef");
        expectReason(CryptoException.ILLEGAL_VALUE, () -> c.init(des, Cipher.MODE_ENCRYPT));
        final AESKey k = aesKey(SP38A_KEY);
        expectReason(CryptoException.ILLEGAL_VALUE, () -> c.init(k, (byte) 3));
        expectReason(CryptoException.ILLEGAL_VALUE, () -> c.init(k, Cipher.MODE_ENCRYPT, buf, (short) 0, (short) 8));
        final Cipher ecb = Cipher.getInstance(Cipher.ALG_AES_BLOCK_128_ECB_NOPAD, false);
        expectReason(CryptoException.ILLEGAL_VALUE, () -> ecb.init(k, Cipher.MODE_ENCRYPT, buf, (short) 0, (short) 16));
        // not block aligned
        c.init(k, Cipher.MODE_ENCRYPT);
        expectReason(CryptoException.ILLEGAL_USE, () -> c.doFinal(buf, (short) 0, (short) 15, buf, (short) 16));
        c.init(k, Cipher.MODE_ENCRYPT);
        c.update(buf, (short) 0, (short) 7, buf, (short) 32);
        expectReason(CryptoException.ILLEGAL_USE, () -> c.doFinal(buf, (short) 0, (short) 16, buf, (short) 32));
        // key cleared after init
        c.init(k, Cipher.MODE_ENCRYPT);
        k.clearKey();
        expectReason(CryptoException.UNINITIALIZED_KEY, () -> c.doFinal(buf, (short) 0, (short) 16, buf, (short) 16));
        // output out of bounds
        final AESKey k2 = aesKey(SP38A_KEY);
        c.init(k2, Cipher.MODE_ENCRYPT);
        assertThrows(ArrayIndexOutOfBoundsException.class,
                () -> c.doFinal(buf, (short) 0, (short) 16, buf, (short) 56));
        // unsupported algorithms
        expectReason(CryptoException.NO_SUCH_ALGORITHM, () -> Cipher.getInstance(Cipher.ALG_RSA_PKCS1, false));
        expectReason(CryptoException.NO_SUCH_ALGORITHM, () -> Cipher.getInstance(Cipher.ALG_DES_CBC_ISO9797_M2, false));
    }

    @Test
    void keyChangeAfterInitIsPickedUp() {
        AESKey k = aesKey("000102030405060708090a0b0c0d0e0f");
        Cipher c = Cipher.getInstance(Cipher.ALG_AES_BLOCK_128_ECB_NOPAD, false);
        c.init(k, Cipher.MODE_ENCRYPT);
        k.setKey(hex(SP38A_KEY), (short) 0);
        assertEquals("3ad77bb40d7a3660a89ecaf32466ef97", hex(run(c, hex("6bc1bee22e409f96e93d7e117393172a"))));
    }
}
