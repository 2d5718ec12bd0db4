package org.purse.jc.crypto;

import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.Serializable;

import javacard.security.CryptoException;
import javacard.security.Key;
import javacardx.crypto.Cipher;
import org.purse.jc.Mem;

/**
 * DES/TDES and AES in ECB or CBC mode without padding, as {@link Cipher#getInstance} returns it.
 *
 * <p>Chaining is done here over a single-block javax.crypto primitive, so all state (key
 * reference, mode, IV, chaining value, partial block) is plain serializable data; the primitive
 * itself is transient and rebuilt lazily (also whenever the key value changed).
 * Intermediate state is not transactional (as the JavaCard spec requires). Deserializing
 * (= card power-up) acts as a card reset: the object keeps its key and mode, drops any partial
 * block, and in CBC mode its IV becomes 0 (JavaCard 3.0.4: "On a tear or card reset event ...
 * CBC mode reset the initial vector (IV) to 0").
 */
public final class BlockCipherImpl extends Cipher implements Serializable {

    private static final long serialVersionUID = 1L;

    private final byte algorithm;
    private final boolean aes;
    private final boolean cbc;
    private final int bs;

    private SymKey key;
    private byte mode;
    private byte[] iv0;
    private byte[] cv;
    private byte[] pend;
    private int pendLen;

    private transient BlockPrim prim;
    /**
     * The key value at init, when {@link #keyAtInit}: a card may copy the key into the cipher at
     * init (JavaCard leaves open whether a later setKey reaches an initialised Cipher), so then
     * the desk computes with the copy, the other way an applet may be surprised
     * (-Dpurse.jc.cipherKeyAtInit=true, or a test sets it).
     */
    private byte[] atInit;
    public static boolean keyAtInit = Boolean.getBoolean("purse.jc.cipherKeyAtInit");

    /** Counter suffix: AES_ECB, AES_CBC, DES_ECB, DES_CBC. */
    private String opName() {
        return (aes ? "AES_" : "DES_") + (cbc ? "CBC" : "ECB");
    }

    public static boolean supported(byte algorithm) {
        switch (algorithm) {
            case ALG_DES_CBC_NOPAD:
            case ALG_DES_ECB_NOPAD:
            case ALG_AES_BLOCK_128_CBC_NOPAD:
            case ALG_AES_BLOCK_128_ECB_NOPAD:
                return true;
            default:
                return false;
        }
    }

    public BlockCipherImpl(byte algorithm) {
        if (!supported(algorithm)) {
            CryptoException.throwIt(CryptoException.NO_SUCH_ALGORITHM);
        }
        this.algorithm = algorithm;
        this.aes = algorithm == ALG_AES_BLOCK_128_CBC_NOPAD || algorithm == ALG_AES_BLOCK_128_ECB_NOPAD;
        this.cbc = algorithm == ALG_AES_BLOCK_128_CBC_NOPAD || algorithm == ALG_DES_CBC_NOPAD;
        this.bs = aes ? 16 : 8;
    }

    public void init(Key theKey, byte theMode) {
        doInit(theKey, theMode, new byte[bs]);
    }

    public void init(Key theKey, byte theMode, byte[] bArray, short bOff, short bLen) {
        if (!cbc || bLen != bs) {
            CryptoException.throwIt(CryptoException.ILLEGAL_VALUE);
        }
        Bytes.check(bArray, bOff, bLen);
        doInit(theKey, theMode, Bytes.copy(bArray, bOff, bLen));
    }

    private void doInit(Key theKey, byte theMode, byte[] iv) {
        if (theMode != MODE_ENCRYPT && theMode != MODE_DECRYPT) {
            CryptoException.throwIt(CryptoException.ILLEGAL_VALUE);
        }
        SymKey k = SymKey.of(theKey, aes);
        byte[] v = k.value(); // UNINITIALIZED_KEY if not set
        Mem.count("cipher.init." + opName(), 1);
        this.key = k;
        this.mode = theMode;
        this.iv0 = iv;
        this.cv = iv.clone();
        this.pend = new byte[bs];
        this.pendLen = 0;
        this.atInit = keyAtInit ? v.clone() : null;
        primFor(v);
    }

    public byte getAlgorithm() {
        return algorithm;
    }

    public short update(byte[] inBuff, short inOffset, short inLength, byte[] outBuff, short outOffset) {
        short n = process(inBuff, inOffset, inLength, outBuff, outOffset, false);
        Mem.count("cipher.update." + opName(), 1);
        return n;
    }

    public short doFinal(byte[] inBuff, short inOffset, short inLength, byte[] outBuff, short outOffset) {
        short n = process(inBuff, inOffset, inLength, outBuff, outOffset, true);
        Mem.countCrypto();
        Mem.count("cipher.doFinal." + opName(), 1);
        return n;
    }

    private short process(byte[] in, short inOff, short inLen, byte[] out, short outOff, boolean fin) {
        if (key == null) {
            CryptoException.throwIt(CryptoException.INVALID_INIT);
        }
        byte[] now = key.value(); // UNINITIALIZED_KEY once a transient key was cleared
        BlockPrim p = primFor(atInit != null ? atInit : now);
        Bytes.check(in, inOff, inLen);
        int total = pendLen + inLen;
        if (fin && total % bs != 0) {
            CryptoException.throwIt(CryptoException.ILLEGAL_USE);
        }
        int outLen = total - total % bs;
        if (outLen > 0) {
            Bytes.check(out, outOff, outLen);
        }
        // work on copies; commit state only once the output has been written
        byte[] data = new byte[total];
        System.arraycopy(pend, 0, data, 0, pendLen);
        System.arraycopy(in, inOff, data, pendLen, inLen);
        byte[] chain = cv.clone();
        boolean enc = mode == MODE_ENCRYPT;
        byte[] saved = new byte[bs];
        for (int off = 0; off < outLen; off += bs) {
            if (cbc) {
                if (enc) {
                    for (int i = 0; i < bs; i++) {
                        data[off + i] ^= chain[i];
                    }
                    p.block(true, data, off);
                    System.arraycopy(data, off, chain, 0, bs);
                } else {
                    System.arraycopy(data, off, saved, 0, bs);
                    p.block(false, data, off);
                    for (int i = 0; i < bs; i++) {
                        data[off + i] ^= chain[i];
                    }
                    System.arraycopy(saved, 0, chain, 0, bs);
                }
            } else {
                p.block(enc, data, off);
            }
        }
        if (outLen > 0) {
            Bytes.out(out, outOff, data, 0, outLen);
            Mem.count("cipher.blocks." + opName(), outLen / bs);
        }
        if (fin) {
            cv = iv0.clone();
            pendLen = 0;
        } else {
            cv = chain;
            pendLen = total - outLen;
            System.arraycopy(data, outLen, pend, 0, pendLen);
        }
        return (short) outLen;
    }

    private BlockPrim primFor(byte[] v) {
        if (prim == null || !prim.sameKey(v)) {
            prim = new BlockPrim(aes, v);
        }
        return prim;
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
