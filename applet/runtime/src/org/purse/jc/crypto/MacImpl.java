package org.purse.jc.crypto;

import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.Serializable;

import javacard.security.CryptoException;
import javacard.security.Key;
import javacard.security.Signature;
import org.purse.jc.Mem;

/**
 * Symmetric MACs as {@link Signature#getInstance} returns them: DES/TDES CBC-MAC (4 or 8 bytes;
 * no padding, ISO 9797 method 1, method 2, PKCS#5), ISO 9797-1 MAC algorithm 3 with method 2
 * padding (2-key TDES key; single DES with K1 over the blocks, then D(K2), E(K1) on the last),
 * and AES CBC-MAC without padding (16 bytes). The CBC IV is 0 unless given to init.
 *
 * <p>Serializable like {@link BlockCipherImpl}; deserializing (= power-up) resets the object to
 * its post-init state with a zero IV.
 */
public final class MacImpl extends Signature implements Serializable {

    private static final long serialVersionUID = 1L;

    private static final int PAD_NONE = 0;
    private static final int PAD_M1 = 1;
    private static final int PAD_M2 = 2;
    private static final int PAD_PKCS5 = 3;

    private final byte algorithm;
    private final boolean aes;
    private final boolean alg3;
    private final int pad;
    private final int macLen;
    private final int bs;

    private SymKey key;
    private byte mode;
    private byte[] iv0;
    private byte[] cv;
    private byte[] pend;
    private int pendLen;

    /** Counter suffix: AES_MAC, DES_MAC, DES_MAC_ALG3. */
    private String opName() {
        return aes ? "AES_MAC" : alg3 ? "DES_MAC_ALG3" : "DES_MAC";
    }

    private transient BlockPrim prim;   // full key (CBC over all blocks), or K1 for algorithm 3
    private transient BlockPrim prim2;  // K2, algorithm 3 only
    private transient byte[] primKey;

    public static boolean supported(byte algorithm) {
        switch (algorithm) {
            case ALG_DES_MAC4_NOPAD:
            case ALG_DES_MAC8_NOPAD:
            case ALG_DES_MAC4_ISO9797_M1:
            case ALG_DES_MAC8_ISO9797_M1:
            case ALG_DES_MAC4_ISO9797_M2:
            case ALG_DES_MAC8_ISO9797_M2:
            case ALG_DES_MAC4_PKCS5:
            case ALG_DES_MAC8_PKCS5:
            case ALG_DES_MAC4_ISO9797_1_M2_ALG3:
            case ALG_DES_MAC8_ISO9797_1_M2_ALG3:
            case ALG_AES_MAC_128_NOPAD:
                return true;
            default:
                return false;
        }
    }

    public MacImpl(byte algorithm) {
        if (!supported(algorithm)) {
            CryptoException.throwIt(CryptoException.NO_SUCH_ALGORITHM);
        }
        this.algorithm = algorithm;
        this.aes = algorithm == ALG_AES_MAC_128_NOPAD;
        this.alg3 = algorithm == ALG_DES_MAC4_ISO9797_1_M2_ALG3 || algorithm == ALG_DES_MAC8_ISO9797_1_M2_ALG3;
        this.bs = aes ? 16 : 8;
        switch (algorithm) {
            case ALG_DES_MAC4_ISO9797_M1:
            case ALG_DES_MAC8_ISO9797_M1:
                pad = PAD_M1;
                break;
            case ALG_DES_MAC4_ISO9797_M2:
            case ALG_DES_MAC8_ISO9797_M2:
            case ALG_DES_MAC4_ISO9797_1_M2_ALG3:
            case ALG_DES_MAC8_ISO9797_1_M2_ALG3:
                pad = PAD_M2;
                break;
            case ALG_DES_MAC4_PKCS5:
            case ALG_DES_MAC8_PKCS5:
                pad = PAD_PKCS5;
                break;
            default:
                pad = PAD_NONE;
        }
        switch (algorithm) {
            case ALG_DES_MAC4_NOPAD:
            case ALG_DES_MAC4_ISO9797_M1:
            case ALG_DES_MAC4_ISO9797_M2:
            case ALG_DES_MAC4_PKCS5:
            case ALG_DES_MAC4_ISO9797_1_M2_ALG3:
                macLen = 4;
                break;
            case ALG_AES_MAC_128_NOPAD:
                macLen = 16;
                break;
            default:
                macLen = 8;
        }
    }

    public void init(Key theKey, byte theMode) {
        doInit(theKey, theMode, new byte[bs]);
    }

    public void init(Key theKey, byte theMode, byte[] bArray, short bOff, short bLen) {
        if (bLen != bs) {
            CryptoException.throwIt(CryptoException.ILLEGAL_VALUE);
        }
        Bytes.check(bArray, bOff, bLen);
        doInit(theKey, theMode, Bytes.copy(bArray, bOff, bLen));
    }

    private void doInit(Key theKey, byte theMode, byte[] iv) {
        if (theMode != MODE_SIGN && theMode != MODE_VERIFY) {
            CryptoException.throwIt(CryptoException.ILLEGAL_VALUE);
        }
        SymKey k = SymKey.of(theKey, aes);
        if (alg3 && k.byteLength() != 16) {
            CryptoException.throwIt(CryptoException.ILLEGAL_VALUE);
        }
        byte[] v = k.value(); // UNINITIALIZED_KEY if not set
        Mem.count("mac.init." + opName(), 1);
        this.key = k;
        this.mode = theMode;
        this.iv0 = iv;
        this.cv = iv.clone();
        this.pend = new byte[bs];
        this.pendLen = 0;
        prims(v);
    }

    public byte getAlgorithm() {
        return algorithm;
    }

    public short getLength() {
        if (key == null) {
            CryptoException.throwIt(CryptoException.INVALID_INIT);
        }
        if (!key.isInitialized()) {
            CryptoException.throwIt(CryptoException.UNINITIALIZED_KEY);
        }
        return (short) macLen;
    }

    public void update(byte[] inBuff, short inOffset, short inLength) {
        ready();
        Bytes.check(inBuff, inOffset, inLength);
        absorb(inBuff, inOffset, inLength);
    }

    public short sign(byte[] inBuff, short inOffset, short inLength, byte[] sigBuff, short sigOffset) {
        ready();
        if (mode != MODE_SIGN) {
            CryptoException.throwIt(CryptoException.ILLEGAL_USE);
        }
        Bytes.check(inBuff, inOffset, inLength);
        Bytes.check(sigBuff, sigOffset, macLen);
        byte[] mac = finish(inBuff, inOffset, inLength);
        Bytes.out(sigBuff, sigOffset, mac, 0, macLen);
        Mem.countCrypto();
        Mem.count("mac.final." + opName(), 1);
        return (short) macLen;
    }

    public boolean verify(byte[] inBuff, short inOffset, short inLength, byte[] sigBuff, short sigOffset,
            short sigLength) {
        ready();
        if (mode != MODE_VERIFY) {
            CryptoException.throwIt(CryptoException.ILLEGAL_USE);
        }
        Bytes.check(inBuff, inOffset, inLength);
        Bytes.check(sigBuff, sigOffset, sigLength);
        byte[] mac = finish(inBuff, inOffset, inLength);
        Mem.countCrypto();
        Mem.count("mac.final." + opName(), 1);
        return sigLength == macLen && Bytes.constantTimeEquals(mac, 0, sigBuff, sigOffset, macLen);
    }

    private void ready() {
        if (key == null) {
            CryptoException.throwIt(CryptoException.INVALID_INIT);
        }
        prims(key.value()); // UNINITIALIZED_KEY if the key was cleared
    }

    /** CBC-absorbs whole blocks, keeping the last partial (or, if aligned, the last full) block pending. */
    private void absorb(byte[] in, int off, int len) {
        while (len > 0) {
            if (pendLen == bs) {
                chainBlock(pend, 0);
                pendLen = 0;
            }
            int n = Math.min(bs - pendLen, len);
            System.arraycopy(in, off, pend, pendLen, n);
            pendLen += n;
            off += n;
            len -= n;
        }
    }

    private void chainBlock(byte[] b, int off) {
        for (int i = 0; i < bs; i++) {
            cv[i] ^= b[off + i];
        }
        prim.block(true, cv, 0);
        Mem.count("mac.blocks." + opName(), 1);
    }

    private byte[] finish(byte[] in, int off, int len) {
        absorb(in, off, len);
        byte[] last = new byte[2 * bs];
        System.arraycopy(pend, 0, last, 0, pendLen);
        int lastLen;
        switch (pad) {
            case PAD_NONE:
                if (pendLen != bs && pendLen != 0) {
                    resetState();
                    CryptoException.throwIt(CryptoException.ILLEGAL_USE);
                }
                lastLen = pendLen;
                break;
            case PAD_M1:
                // zero padding; empty message gets one zero block
                lastLen = pendLen == 0 ? bs : (pendLen + bs - 1) / bs * bs;
                break;
            case PAD_M2:
                last[pendLen] = (byte) 0x80;
                lastLen = (pendLen + 1 + bs - 1) / bs * bs;
                break;
            default: // PKCS#5
                int p = bs - pendLen % bs;
                for (int i = 0; i < p; i++) {
                    last[pendLen + i] = (byte) p;
                }
                lastLen = pendLen + p;
        }
        for (int o = 0; o < lastLen; o += bs) {
            chainBlock(last, o);
        }
        byte[] mac = cv.clone();
        if (alg3) {
            prim2.block(false, mac, 0);
            prim.block(true, mac, 0);
        }
        resetState();
        return mac;
    }

    private void resetState() {
        cv = iv0.clone();
        pendLen = 0;
    }

    private void prims(byte[] v) {
        if (primKey != null && java.util.Arrays.equals(primKey, v)) {
            return;
        }
        if (alg3) {
            prim = new BlockPrim(false, Bytes.copy(v, 0, 8));
            prim2 = new BlockPrim(false, Bytes.copy(v, 8, 8));
        } else {
            prim = new BlockPrim(aes, v);
        }
        primKey = v;
    }

    private void readObject(ObjectInputStream s) throws IOException, ClassNotFoundException {
        s.defaultReadObject();
        if (iv0 != null) {
            iv0 = new byte[bs];
            cv = new byte[bs];
            pendLen = 0;
        }
    }
}
