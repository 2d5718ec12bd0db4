/*
 * purse: block ciphers, CMAC, KDF, RNG and constant-time compare (docs/protocol.md section 2).
 * JavaCard 3.0.4 classic: short/byte arithmetic only, allocation only in the constructor.
 */
package org.purse.applet;

import javacard.framework.ISOException;
import javacard.framework.JCSystem;
import javacard.framework.Util;
import javacard.security.AESKey;
import javacard.security.CryptoException;
import javacard.security.DESKey;
import javacard.security.Key;
import javacard.security.KeyBuilder;
import javacard.security.RandomData;
import javacardx.crypto.Cipher;

/**
 * The algorithm always follows the key object: an AES key means suite 01 (block 16), a DES key
 * suite 02 (3-key TDES, block 8). CMAC (NIST SP 800-38B) is computed over the ECB cipher, since JC
 * 3.0.4 has no CMAC signature. Any CryptoException (algorithm missing, key not set) is turned into
 * ISOException 6985 so that no 6F00 escapes.
 */
public final class CryptoSuite {

    // scratch layout (transient, CLEAR_ON_DESELECT)
    private static final short S_SUB = (short) 0;    // L, then K1 or K2 (one block)
    private static final short S_STATE = (short) 16; // CBC-MAC chaining value / last block
    private static final short S_TAG = (short) 32;   // full CMAC tag for mac8 / kdf (one block)
    private static final short S_KEY = (short) 48;   // derived or random key (24)
    private static final short S_MSG = (short) 72;   // KDF input: [i] | LABEL(8) | 00 | CONTEXT | [L]2
    private static final short KDF_FIXED = (short) 12;
    /** Largest KDF context (protocol.md 2.3 uses at most 22 bytes). */
    public static final short KDF_CTX_MAX = (short) 24;
    private static final short SCRATCH_LEN = (short) (S_MSG + KDF_FIXED + KDF_CTX_MAX); // 108

    private final Cipher aesEcb;
    private final Cipher aesCbc;
    private final Cipher desEcb;
    private final Cipher desCbc;
    private final RandomData rng;
    /** Transient work keys, index = slot (0..3); null if the family is not supported. */
    private final Key[] aesWork;
    private final Key[] desWork;
    private final byte[] scratch;

    public CryptoSuite() {
        scratch = JCSystem.makeTransientByteArray(SCRATCH_LEN, JCSystem.CLEAR_ON_DESELECT);
        rng = RandomData.getInstance(RandomData.ALG_SECURE_RANDOM);
        aesWork = new Key[4];
        desWork = new Key[4];
        Cipher e = null;
        Cipher c = null;
        try {
            e = Cipher.getInstance(Cipher.ALG_AES_BLOCK_128_ECB_NOPAD, false);
            c = Cipher.getInstance(Cipher.ALG_AES_BLOCK_128_CBC_NOPAD, false);
            for (short i = 0; i < (short) 4; i++) {
                aesWork[i] = KeyBuilder.buildKey(KeyBuilder.TYPE_AES_TRANSIENT_DESELECT,
                        KeyBuilder.LENGTH_AES_128, false);
            }
        } catch (CryptoException ex) {
            e = null;
            c = null;
        }
        aesEcb = e;
        aesCbc = c;
        e = null;
        c = null;
        try {
            e = Cipher.getInstance(Cipher.ALG_DES_ECB_NOPAD, false);
            c = Cipher.getInstance(Cipher.ALG_DES_CBC_NOPAD, false);
            for (short i = 0; i < (short) 4; i++) {
                desWork[i] = KeyBuilder.buildKey(KeyBuilder.TYPE_DES_TRANSIENT_DESELECT,
                        KeyBuilder.LENGTH_DES3_3KEY, false);
            }
        } catch (CryptoException ex) {
            e = null;
            c = null;
        }
        desEcb = e;
        desCbc = c;
    }

    // ------------------------------------------------------------------ suites and keys

    public boolean supports(byte suite) {
        if (suite == Constants.SUITE_AES128) {
            return aesEcb != null && aesCbc != null && aesWork[3] != null;
        }
        if (suite == Constants.SUITE_TDES3) {
            return desEcb != null && desCbc != null && desWork[3] != null;
        }
        return false;
    }

    public static short blockLen(byte suite) {
        return suite == Constants.SUITE_TDES3 ? Constants.BLOCK_TDES : Constants.BLOCK_AES;
    }

    public static short keyLen(byte suite) {
        return suite == Constants.SUITE_TDES3 ? Constants.KEYLEN_TDES : Constants.KEYLEN_AES;
    }

    /** SUITE_AES128 for any AES key type, SUITE_TDES3 for any DES key type, SUITE_NONE otherwise. */
    public static byte suiteOf(Key k) {
        byte t = k.getType();
        if (t == KeyBuilder.TYPE_AES || t == KeyBuilder.TYPE_AES_TRANSIENT_DESELECT
                || t == KeyBuilder.TYPE_AES_TRANSIENT_RESET) {
            return Constants.SUITE_AES128;
        }
        if (t == KeyBuilder.TYPE_DES || t == KeyBuilder.TYPE_DES_TRANSIENT_DESELECT
                || t == KeyBuilder.TYPE_DES_TRANSIENT_RESET) {
            return Constants.SUITE_TDES3;
        }
        return Constants.SUITE_NONE;
    }

    /** Allocates a persistent key (call only from constructors / one-time personalisation). */
    public Key buildPersistentKey(byte suite) {
        if (!supports(suite)) {
            ISOException.throwIt(Constants.SW_WRONG_DATA);
        }
        Key k = null;
        try {
            if (suite == Constants.SUITE_AES128) {
                k = KeyBuilder.buildKey(KeyBuilder.TYPE_AES, KeyBuilder.LENGTH_AES_128, false);
            } else {
                k = KeyBuilder.buildKey(KeyBuilder.TYPE_DES, KeyBuilder.LENGTH_DES3_3KEY, false);
            }
        } catch (CryptoException e) {
            ISOException.throwIt(Constants.SW_WRONG_DATA);
        }
        return k;
    }

    /** Transient work key of the suite: slot 0/1 = K_A or transport ENC/MAC, 2/3 = K_S ENC/MAC. */
    public Key workKey(byte suite, byte slot) {
        if (!supports(suite) || slot < 0 || slot > 3) {
            ISOException.throwIt(Constants.SW_WRONG_DATA);
        }
        return suite == Constants.SUITE_AES128 ? aesWork[slot] : desWork[slot];
    }

    /** Sets 16 (AES) or 24 (TDES) bytes from src[off]. */
    public void setKey(Key k, byte[] src, short off) {
        try {
            if (suiteOf(k) == Constants.SUITE_AES128) {
                ((AESKey) k).setKey(src, off);
            } else {
                ((DESKey) k).setKey(src, off);
            }
        } catch (CryptoException e) {
            ISOException.throwIt(Constants.SW_CONDITIONS);
        }
    }

    /** Writes the key value (16 or 24 bytes) to out[off]; returns its length. */
    public short getKey(Key k, byte[] out, short off) {
        short n = (short) 0;
        try {
            if (suiteOf(k) == Constants.SUITE_AES128) {
                n = (short) ((AESKey) k).getKey(out, off);
            } else {
                n = (short) ((DESKey) k).getKey(out, off);
            }
        } catch (CryptoException e) {
            ISOException.throwIt(Constants.SW_CONDITIONS);
        }
        return n;
    }

    /** Fills the key with RNG bytes (APPKEYs at genesis, K_INT). */
    public void randomKey(Key k) {
        short n = keyLen(suiteOf(k));
        random(scratch, S_KEY, n);
        setKey(k, scratch, S_KEY);
        Util.arrayFillNonAtomic(scratch, S_KEY, n, (byte) 0);
    }

    public void random(byte[] buf, short off, short len) {
        try {
            rng.generateData(buf, off, len);
        } catch (CryptoException e) {
            ISOException.throwIt(Constants.SW_CONDITIONS);
        }
    }

    // ------------------------------------------------------------------ ciphers

    private Cipher ecbFor(Key k) {
        byte s = suiteOf(k);
        Cipher c = null;
        if (s == Constants.SUITE_AES128) {
            c = aesEcb;
        } else if (s == Constants.SUITE_TDES3) {
            c = desEcb;
        }
        if (c == null) {
            ISOException.throwIt(Constants.SW_CONDITIONS);
        }
        return c;
    }

    private Cipher cbcFor(Key k) {
        byte s = suiteOf(k);
        Cipher c = null;
        if (s == Constants.SUITE_AES128) {
            c = aesCbc;
        } else if (s == Constants.SUITE_TDES3) {
            c = desCbc;
        }
        if (c == null) {
            ISOException.throwIt(Constants.SW_CONDITIONS);
        }
        return c;
    }

    /** ECB encryption of len bytes (a multiple of the block); returns len. */
    public short ecbEncrypt(Key k, byte[] in, short inOff, short len, byte[] out, short outOff) {
        Cipher c = ecbFor(k);
        short n = (short) 0;
        try {
            c.init(k, Cipher.MODE_ENCRYPT);
            n = c.doFinal(in, inOff, len, out, outOff);
        } catch (CryptoException e) {
            ISOException.throwIt(Constants.SW_CONDITIONS);
        }
        return n;
    }

    public short cbcEncrypt(Key k, byte[] iv, short ivOff, byte[] in, short inOff, short len,
                            byte[] out, short outOff) {
        return cbc(k, Cipher.MODE_ENCRYPT, iv, ivOff, in, inOff, len, out, outOff);
    }

    public short cbcDecrypt(Key k, byte[] iv, short ivOff, byte[] in, short inOff, short len,
                            byte[] out, short outOff) {
        return cbc(k, Cipher.MODE_DECRYPT, iv, ivOff, in, inOff, len, out, outOff);
    }

    private short cbc(Key k, byte mode, byte[] iv, short ivOff, byte[] in, short inOff, short len,
                      byte[] out, short outOff) {
        Cipher c = cbcFor(k);
        short n = (short) 0;
        try {
            c.init(k, mode, iv, ivOff, blockLen(suiteOf(k)));
            n = c.doFinal(in, inOff, len, out, outOff);
        } catch (CryptoException e) {
            ISOException.throwIt(Constants.SW_CONDITIONS);
        }
        return n;
    }

    // ------------------------------------------------------------------ CMAC (protocol.md 2.2)

    /** dbl() of the block at scratch[S_SUB]: shift left one bit, XOR Rb if the top bit fell out. */
    private void dbl(short b, byte rb) {
        byte[] s = scratch;
        short carry = (short) ((s[S_SUB] >> 7) & 1);
        for (short i = 0; i < b; i++) {
            short v = (short) ((s[(short) (S_SUB + i)] << 1) & 0xFE);
            if ((short) (i + 1) < b) {
                v = (short) (v | ((s[(short) (S_SUB + i + 1)] >> 7) & 1));
            }
            s[(short) (S_SUB + i)] = (byte) v;
        }
        // constant-time conditional XOR of Rb
        short last = (short) (S_SUB + b - 1);
        s[last] = (byte) (s[last] ^ (byte) (rb & (byte) (-carry)));
    }

    /** Full CMAC tag (block length bytes) of msg into out[outOff]; returns the block length. */
    public short cmac(Key k, byte[] msg, short off, short len, byte[] out, short outOff) {
        byte suite = suiteOf(k);
        short b = blockLen(suite);
        byte rb = suite == Constants.SUITE_TDES3 ? Constants.RB_TDES : Constants.RB_AES;
        Cipher c = ecbFor(k);
        byte[] s = scratch;
        try {
            c.init(k, Cipher.MODE_ENCRYPT);
            // L = E(0^b); K1 = dbl(L)
            Util.arrayFillNonAtomic(s, S_SUB, b, (byte) 0);
            c.doFinal(s, S_SUB, b, s, S_SUB);
            dbl(b, rb);
            boolean complete = len != 0 && (short) (len % b) == 0;
            if (!complete) {
                dbl(b, rb); // K2
            }
            short blocks = len == 0 ? (short) 1 : (short) ((short) (len + b - 1) / b);
            Util.arrayFillNonAtomic(s, S_STATE, b, (byte) 0);
            short p = off;
            for (short n = (short) 1; n < blocks; n++) {
                for (short i = 0; i < b; i++) {
                    s[(short) (S_STATE + i)] ^= msg[(short) (p + i)];
                }
                c.doFinal(s, S_STATE, b, s, S_STATE);
                p = (short) (p + b);
            }
            // last block: remaining bytes, padded when incomplete, XOR subkey
            short rest = (short) (len - (short) (p - off));
            for (short i = 0; i < b; i++) {
                byte m;
                if (i < rest) {
                    m = msg[(short) (p + i)];
                } else if (i == rest) {
                    m = Constants.PAD_BYTE;
                } else {
                    m = (byte) 0;
                }
                s[(short) (S_STATE + i)] ^= (byte) (m ^ s[(short) (S_SUB + i)]);
            }
            c.doFinal(s, S_STATE, b, out, outOff);
        } catch (CryptoException e) {
            ISOException.throwIt(Constants.SW_CONDITIONS);
        }
        Util.arrayFillNonAtomic(s, S_SUB, (short) (b + b), (byte) 0);
        return b;
    }

    /** MAC8: first 8 bytes of the CMAC into out[outOff]. */
    public void mac8(Key k, byte[] msg, short off, short len, byte[] out, short outOff) {
        cmac(k, msg, off, len, scratch, S_TAG);
        Util.arrayCopyNonAtomic(scratch, S_TAG, out, outOff, Constants.MAC_LEN);
    }

    /** Constant-time check of an 8-byte tag. */
    public boolean mac8Verify(Key k, byte[] msg, short off, short len, byte[] tag, short tagOff) {
        cmac(k, msg, off, len, scratch, S_TAG);
        return equalsCT(scratch, S_TAG, tag, tagOff, Constants.MAC_LEN);
    }

    /** Compares len bytes touching every byte (no early exit, no Util.arrayCompare). */
    public static boolean equalsCT(byte[] a, short aOff, byte[] b, short bOff, short len) {
        byte diff = (byte) 0;
        for (short i = 0; i < len; i++) {
            diff |= (byte) (a[(short) (aOff + i)] ^ b[(short) (bOff + i)]);
        }
        return diff == (byte) 0;
    }

    // ------------------------------------------------------------------ KDF (protocol.md 2.3)

    /** Writes [_] | "PURSE " l0 l1 | 00 | ctx | [outLen*8]_2 at scratch[S_MSG]; returns its length. */
    private short kdfPrepare(byte l0, byte l1, byte[] ctx, short ctxOff, short ctxLen, short outLen) {
        if (ctxLen < 0 || ctxLen > KDF_CTX_MAX || outLen < 0 || outLen > (short) 2040) {
            ISOException.throwIt(Constants.SW_WRONG_DATA);
        }
        byte[] s = scratch;
        short m = S_MSG;
        s[(short) (m + 1)] = (byte) 0x50; // P
        s[(short) (m + 2)] = (byte) 0x55; // U
        s[(short) (m + 3)] = (byte) 0x52; // R
        s[(short) (m + 4)] = (byte) 0x53; // S
        s[(short) (m + 5)] = (byte) 0x45; // E
        s[(short) (m + 6)] = (byte) 0x20; // ' '
        s[(short) (m + 7)] = l0;
        s[(short) (m + 8)] = l1;
        s[(short) (m + 9)] = (byte) 0;
        Util.arrayCopyNonAtomic(ctx, ctxOff, s, (short) (m + 10), ctxLen);
        Util.setShort(s, (short) (m + 10 + ctxLen), (short) (outLen << 3));
        return (short) (KDF_FIXED + ctxLen);
    }

    /** K(i) into scratch[S_TAG]; returns the block length. */
    private short kdfBlock(Key ki, byte i, short msgLen) {
        scratch[S_MSG] = i;
        return cmac(ki, scratch, S_MSG, msgLen, scratch, S_TAG);
    }

    private void kdfWipe() {
        Util.arrayFillNonAtomic(scratch, S_TAG, (short) (SCRATCH_LEN - S_TAG), (byte) 0);
    }

    /**
     * SP 800-108 counter mode: K(i) = CMAC(ki, [i] | "PURSE " l0 l1 | 00 | ctx | [outLen*8]_2);
     * out gets the first outLen bytes of K(1) | K(2) | ... ctx may alias out. ctxLen <= 24.
     */
    public void kdf(Key ki, byte l0, byte l1, byte[] ctx, short ctxOff, short ctxLen,
                    byte[] out, short outOff, short outLen) {
        short msgLen = kdfPrepare(l0, l1, ctx, ctxOff, ctxLen, outLen);
        short done = (short) 0;
        byte i = (byte) 1;
        while (done < outLen) {
            short n = kdfBlock(ki, i, msgLen);
            if (n > (short) (outLen - done)) {
                n = (short) (outLen - done);
            }
            Util.arrayCopyNonAtomic(scratch, S_TAG, out, (short) (outOff + done), n);
            done = (short) (done + n);
            i++;
        }
        kdfWipe();
    }

    /**
     * kdf() of 2 * keyLen bytes, then ENC key = first keyLen, MAC key = next keyLen (ki's suite).
     * kEnc must not be ki (it is set before the MAC half is derived); kMac may be.
     */
    public void deriveInto(Key ki, byte l0, byte l1, byte[] ctx, short ctxOff, short ctxLen,
                           Key kEnc, Key kMac) {
        if (kEnc == ki) {
            ISOException.throwIt(Constants.SW_CONDITIONS);
        }
        short kl = keyLen(suiteOf(ki));
        short msgLen = kdfPrepare(l0, l1, ctx, ctxOff, ctxLen, (short) (kl + kl));
        byte i = (byte) 1;
        for (short half = 0; half < (short) 2; half++) {
            short done = (short) 0;
            while (done < kl) {
                short n = kdfBlock(ki, i, msgLen); // blocks divide kl: 16/16, 8/24
                Util.arrayCopyNonAtomic(scratch, S_TAG, scratch, (short) (S_KEY + done), n);
                done = (short) (done + n);
                i++;
            }
            setKey(half == 0 ? kEnc : kMac, scratch, S_KEY);
        }
        kdfWipe();
    }
}
