package org.purse.jc.crypto;

import java.io.Serializable;
import java.util.Arrays;

import javacard.framework.JCSystem;
import javacard.security.AESKey;
import javacard.security.CryptoException;
import javacard.security.DESKey;
import javacard.security.Key;
import javacard.security.SecretKey;
import org.purse.jc.Mem;

/**
 * Implementation of the symmetric key objects built by {@link javacard.security.KeyBuilder}.
 *
 * <p>The key value and its "initialized" flag live together in one byte array of length
 * {@code keyBytes + 1} (last byte = flag): a persistent array written only through
 * {@link Mem#writeBytes} (so setKey/clearKey are one transactional, tearable write), or a
 * transient array from {@link JCSystem#makeTransientByteArray} (so a reset/deselect clear event
 * wipes the value and un-initializes the key, as on a card).
 */
public abstract class SymKey implements SecretKey, Serializable {

    private static final long serialVersionUID = 1L;

    private final byte type;
    private final short sizeBits;
    private final boolean transientData;
    private final byte[] data;

    SymKey(byte type, short sizeBits, byte clearEvent) {
        this.type = type;
        this.sizeBits = sizeBits;
        int n = sizeBits / 8 + 1;
        if (clearEvent == 0) {
            this.transientData = false;
            this.data = new byte[n];
        } else {
            this.transientData = true;
            this.data = JCSystem.makeTransientByteArray((short) n, clearEvent);
        }
    }

    /** Key length in bytes. */
    final int byteLength() {
        return data.length - 1;
    }

    /** True for AES keys, false for DES/TDES keys. */
    abstract boolean isAes();

    public final byte getType() {
        return type;
    }

    public final short getSize() {
        return sizeBits;
    }

    public final boolean isInitialized() {
        return data[data.length - 1] != 0;
    }

    public final void clearKey() {
        store(new byte[data.length]);
    }

    public final void setKey(byte[] keyData, short kOff) {
        int n = byteLength();
        Bytes.check(keyData, kOff, n);
        byte[] img = new byte[n + 1];
        System.arraycopy(keyData, kOff, img, 0, n);
        img[n] = 1;
        store(img);
        Mem.count(isAes() ? "setKey.AES" : "setKey.DES", 1);
    }

    public final byte getKey(byte[] keyData, short kOff) {
        if (!isInitialized()) {
            CryptoException.throwIt(CryptoException.UNINITIALIZED_KEY);
        }
        int n = byteLength();
        Bytes.out(keyData, kOff, data, 0, n);
        return (byte) n;
    }

    /** The key value (a copy) for the crypto engines; UNINITIALIZED_KEY if not set. */
    final byte[] value() {
        if (!isInitialized()) {
            CryptoException.throwIt(CryptoException.UNINITIALIZED_KEY);
        }
        return Arrays.copyOf(data, byteLength());
    }

    private void store(byte[] img) {
        if (transientData) {
            Mem.writeBytesNonAtomic(data, 0, img, 0, img.length);
        } else {
            Mem.writeBytes(data, 0, img, 0, img.length);
        }
    }

    /** AES key (TYPE_AES, TYPE_AES_TRANSIENT_RESET, TYPE_AES_TRANSIENT_DESELECT). */
    /** The key a cipher or MAC of family `aes` was given, or ILLEGAL_VALUE (wrong type or family). */
    static SymKey of(Key theKey, boolean aes) {
        if (!(theKey instanceof SymKey) || ((SymKey) theKey).isAes() != aes) {
            CryptoException.throwIt(CryptoException.ILLEGAL_VALUE);
        }
        return (SymKey) theKey;
    }

    public static final class Aes extends SymKey implements AESKey {
        private static final long serialVersionUID = 1L;

        public Aes(byte type, short sizeBits, byte clearEvent) {
            super(type, sizeBits, clearEvent);
        }

        boolean isAes() {
            return true;
        }
    }

    /** DES / 2-key TDES / 3-key TDES key (TYPE_DES and its transient variants). */
    public static final class Des extends SymKey implements DESKey {
        private static final long serialVersionUID = 1L;

        public Des(byte type, short sizeBits, byte clearEvent) {
            super(type, sizeBits, clearEvent);
        }

        boolean isAes() {
            return false;
        }
    }
}
