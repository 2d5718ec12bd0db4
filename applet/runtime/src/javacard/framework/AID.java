package javacard.framework;

import org.purse.jc.Mem;

/** Application identifier. Instances are persistent (serialized with the card image). */
public class AID implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    private final byte[] aid;

    public AID(byte[] bArray, short offset, byte length) throws SystemException, NullPointerException,
            ArrayIndexOutOfBoundsException, SecurityException {
        if (length < 5 || length > 16) {
            SystemException.throwIt(SystemException.ILLEGAL_VALUE);
        }
        if (offset < 0 || offset + length > bArray.length) {
            throw new ArrayIndexOutOfBoundsException();
        }
        aid = new byte[length];
        System.arraycopy(bArray, offset, aid, 0, length);
    }

    public final byte getBytes(byte[] dest, short offset) throws NullPointerException,
            ArrayIndexOutOfBoundsException, SecurityException {
        Mem.writeBytes(dest, offset, aid, 0, aid.length);
        return (byte) aid.length;
    }

    public final boolean equals(Object anObject) throws SecurityException {
        if (!(anObject instanceof AID)) {
            return false;
        }
        return java.util.Arrays.equals(aid, ((AID) anObject).aid);
    }

    public final boolean equals(byte[] bArray, short offset, byte length) throws ArrayIndexOutOfBoundsException,
            SecurityException {
        if (bArray == null) {
            return false;
        }
        if (offset < 0 || length < 0 || offset + length > bArray.length) {
            throw new ArrayIndexOutOfBoundsException();
        }
        if (length != aid.length) {
            return false;
        }
        for (int i = 0; i < length; i++) {
            if (aid[i] != bArray[offset + i]) {
                return false;
            }
        }
        return true;
    }

    public final boolean partialEquals(byte[] bArray, short offset, byte length)
            throws ArrayIndexOutOfBoundsException, SecurityException {
        if (bArray == null) {
            return false;
        }
        if (offset < 0 || length < 0 || offset + length > bArray.length) {
            throw new ArrayIndexOutOfBoundsException();
        }
        if (length > aid.length) {
            return false;
        }
        for (int i = 0; i < length; i++) {
            if (aid[i] != bArray[offset + i]) {
                return false;
            }
        }
        return true;
    }

    public final boolean RIDEquals(AID otherAID) throws SecurityException {
        if (otherAID == null) {
            return false;
        }
        for (int i = 0; i < 5; i++) {
            if (aid[i] != otherAID.aid[i]) {
                return false;
            }
        }
        return true;
    }

    public final byte getPartialBytes(short aidOffset, byte[] dest, short oOffset, byte oLength)
            throws NullPointerException, ArrayIndexOutOfBoundsException, SecurityException {
        if (aidOffset < 0 || aidOffset > aid.length) {
            throw new ArrayIndexOutOfBoundsException();
        }
        int n = oLength == 0 ? aid.length - aidOffset : Math.min(oLength, aid.length - aidOffset);
        Mem.writeBytes(dest, oOffset, aid, aidOffset, n);
        return (byte) n;
    }

    @Override
    public int hashCode() {
        return java.util.Arrays.hashCode(aid);
    }
}
