/*
 * purse: 32-bit unsigned big-endian amounts on byte arrays, short arithmetic only
 * (JavaCard 3.0.4 classic has no int). docs/protocol.md 1 (AMOUNT); the interest of 12.2 is
 * BankSync.interest (bank cards only).
 */
package org.purse.applet;

/**
 * All methods static. A refused operation (overflow, underflow) writes nothing: the result is
 * checked in a first pass, written in a second. r may be a or b at the same offset (in place).
 */
public final class Money32 {

    private Money32() {
    }

    static short u(byte v) {
        return (short) (v & 0xFF);
    }

    /**
     * r = a + sign * b (sign 1 or -1). The carry of a byte is s >> 8 (arithmetic): 1 on a carry, -1
     * on a borrow; a carry out of the top byte refuses. Pass 0 only checks, pass 1 writes.
     */
    static boolean addSub(byte[] a, short aOff, byte[] b, short bOff, byte[] r, short rOff, short sign) {
        for (short pass = 0; pass < (short) 2; pass++) {
            short c = (short) 0;
            for (short i = (short) 3; i >= 0; i--) {
                short s = (short) (u(a[(short) (aOff + i)]) + (short) (sign * u(b[(short) (bOff + i)])) + c);
                c = (short) (s >> 8);
                if (pass != 0) {
                    r[(short) (rOff + i)] = (byte) s;
                }
            }
            if (c != 0) {
                return false;
            }
        }
        return true;
    }

    /** -1, 0, 1 as unsigned a compares to b. */
    public static byte compare(byte[] a, short aOff, byte[] b, short bOff) {
        for (short i = 0; i < (short) 4; i++) {
            short x = u(a[(short) (aOff + i)]);
            short y = u(b[(short) (bOff + i)]);
            if (x < y) {
                return (byte) -1;
            }
            if (x > y) {
                return (byte) 1;
            }
        }
        return (byte) 0;
    }

    public static boolean isZero(byte[] a, short off) {
        return (byte) (a[off] | a[(short) (off + 1)] | a[(short) (off + 2)] | a[(short) (off + 3)]) == (byte) 0;
    }

    /** a + 1 mod 2^32 (serial numbers). */
    public static void increment(byte[] a, short off) {
        for (short i = (short) 3; i >= 0; i--) {
            short p = (short) (off + i);
            a[p] = (byte) (a[p] + 1);
            if (a[p] != (byte) 0) {
                return;
            }
        }
    }
}
