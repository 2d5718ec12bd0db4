package javacard.framework;

import org.purse.jc.Mem;

public class Util {
    private Util() {
    }

    private static void check(byte[] a, short off, short len) {
        if (a == null) {
            throw new NullPointerException();
        }
        if (off < 0 || len < 0 || off + len > a.length) {
            throw new ArrayIndexOutOfBoundsException();
        }
    }

    public static final short arrayCopy(byte[] src, short srcOff, byte[] dest, short destOff, short length)
            throws ArrayIndexOutOfBoundsException, NullPointerException, TransactionException {
        check(src, srcOff, length);
        check(dest, destOff, length);
        Mem.writeBytes(dest, destOff, src, srcOff, length);
        return (short) (destOff + length);
    }

    public static final short arrayCopyNonAtomic(byte[] src, short srcOff, byte[] dest, short destOff, short length)
            throws ArrayIndexOutOfBoundsException, NullPointerException {
        check(src, srcOff, length);
        check(dest, destOff, length);
        Mem.writeBytesNonAtomic(dest, destOff, src, srcOff, length);
        return (short) (destOff + length);
    }

    public static final short arrayFillNonAtomic(byte[] bArray, short bOff, short bLen, byte bValue)
            throws ArrayIndexOutOfBoundsException, NullPointerException {
        check(bArray, bOff, bLen);
        Mem.fillNonAtomic(bArray, bOff, bLen, bValue);
        return (short) (bOff + bLen);
    }

    public static final byte arrayCompare(byte[] src, short srcOff, byte[] dest, short destOff, short length)
            throws ArrayIndexOutOfBoundsException, NullPointerException {
        check(src, srcOff, length);
        check(dest, destOff, length);
        Mem.count("arrayCompare.calls", 1);
        Mem.count("arrayCompare.bytes", length);
        for (int i = 0; i < length; i++) {
            byte a = src[srcOff + i];
            byte b = dest[destOff + i];
            if (a != b) {
                return (byte) (a < b ? -1 : 1);
            }
        }
        return 0;
    }

    public static final short makeShort(byte b1, byte b2) {
        return (short) (((b1 & 0xFF) << 8) | (b2 & 0xFF));
    }

    public static final short getShort(byte[] bArray, short bOff) throws NullPointerException,
            ArrayIndexOutOfBoundsException {
        return makeShort(bArray[bOff], bArray[bOff + 1]);
    }

    public static final short setShort(byte[] bArray, short bOff, short sValue) throws TransactionException,
            NullPointerException, ArrayIndexOutOfBoundsException {
        check(bArray, bOff, (short) 2);
        byte[] tmp = {(byte) (sValue >> 8), (byte) sValue};
        Mem.writeBytes(bArray, bOff, tmp, 0, 2);
        return (short) (bOff + 2);
    }
}
