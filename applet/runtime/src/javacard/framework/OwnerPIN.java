package javacard.framework;

import org.purse.jc.Mem;

/**
 * Try counter and validated flag are outside transactions (written non-atomically);
 * the validated flag lives in a CLEAR_ON_RESET transient array. The PIN value, its
 * length and the try counter live in one persistent array so that update() is a single
 * atomic write.
 */
public class OwnerPIN implements PIN, java.io.Serializable {
    private static final long serialVersionUID = 1L;
    private static final int TRIES = 0;
    private static final int LEN = 1;
    private static final int VALUE = 2;

    private final byte tryLimit;
    private final byte maxPINSize;
    private final byte[] data;
    private final boolean[] validated;

    public OwnerPIN(byte tryLimit, byte maxPINSize) throws PINException {
        if (tryLimit < 1 || maxPINSize < 1) {
            PINException.throwIt(PINException.ILLEGAL_VALUE);
        }
        this.tryLimit = tryLimit;
        this.maxPINSize = maxPINSize;
        this.data = new byte[VALUE + maxPINSize];
        this.data[TRIES] = tryLimit;
        this.validated = JCSystem.makeTransientBooleanArray((short) 1, JCSystem.CLEAR_ON_RESET);
    }

    protected boolean getValidatedFlag() {
        return validated[0];
    }

    protected void setValidatedFlag(boolean value) {
        validated[0] = value;
    }

    public byte getTriesRemaining() {
        return data[TRIES];
    }

    public boolean check(byte[] pin, short offset, byte length) throws ArrayIndexOutOfBoundsException,
            NullPointerException {
        setValidatedFlag(false);
        if (data[TRIES] == 0) {
            return false;
        }
        Mem.writeByteNonAtomic(data, TRIES, (byte) (data[TRIES] - 1));
        if (pin == null) {
            throw new NullPointerException();
        }
        if (offset < 0 || length < 0 || offset + length > pin.length) {
            throw new ArrayIndexOutOfBoundsException();
        }
        if (length != data[LEN]) {
            return false;
        }
        int diff = 0;
        for (int i = 0; i < length; i++) {
            diff |= data[VALUE + i] ^ pin[offset + i];
        }
        if (diff != 0) {
            return false;
        }
        Mem.writeByteNonAtomic(data, TRIES, tryLimit);
        setValidatedFlag(true);
        return true;
    }

    public boolean isValidated() {
        return getValidatedFlag();
    }

    public void reset() {
        if (getValidatedFlag()) {
            setValidatedFlag(false);
            Mem.writeByteNonAtomic(data, TRIES, tryLimit);
        }
    }

    public void update(byte[] pin, short offset, byte length) throws PINException {
        if (length < 0 || length > maxPINSize) {
            PINException.throwIt(PINException.ILLEGAL_VALUE);
        }
        byte[] img = new byte[data.length];
        img[TRIES] = tryLimit;
        img[LEN] = length;
        System.arraycopy(pin, offset, img, VALUE, length);
        Mem.writeBytes(data, 0, img, 0, img.length);
        setValidatedFlag(false);
    }

    public void resetAndUnblock() {
        setValidatedFlag(false);
        Mem.writeByte(data, TRIES, tryLimit);
    }
}
