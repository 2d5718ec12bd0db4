/*
 * purse: 32-bit unsigned big-endian amounts on byte arrays, short arithmetic only
 * (JavaCard 3.0.4 classic has no int). docs/protocol.md 1 (AMOUNT) and 12.2 (interest).
 */
package org.purse.applet;

/**
 * All methods static. A refused operation (overflow, underflow) writes nothing: the result is
 * checked in a first pass, written in a second. r may be a or b at the same offset (in place).
 */
public final class Money32 {

    private Money32() {
    }

    private static short u(byte v) {
        return (short) (v & 0xFF);
    }

    /** r = a + b; false (r untouched) if the sum exceeds 2^32 - 1. */
    public static boolean add(byte[] a, short aOff, byte[] b, short bOff, byte[] r, short rOff) {
        return addSub(a, aOff, b, bOff, r, rOff, (short) 1);
    }

    /** r = a - b; false (r untouched) if b > a. */
    public static boolean sub(byte[] a, short aOff, byte[] b, short bOff, byte[] r, short rOff) {
        return addSub(a, aOff, b, bOff, r, rOff, (short) -1);
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

    /**
     * issue 4: out = floor(bal * rate * days / 2^32) (rate in 2^-32 per day, protocol.md 12.2);
     * false (out untouched) if the result exceeds 2^32 - 1. days is unsigned.
     * Column sums, short arithmetic only: term t = (i, j, l, h) is byte h of bal[i] * rate[j]
     * (byte 0 = least significant) times byte l of days, a 16-bit value at byte i + j + l + h.
     * Pass 0 only checks that bytes 8 and 9 of the product are zero; pass 1 writes bytes 4..7.
     */
    public static boolean interest(byte[] bal, short bOff, byte[] rate, short rOff, short days, byte[] out, short outOff) {
        for (short pass = 0; pass < (short) 2; pass++) {
            short carry = (short) 0;
            for (short k = 0; k < (short) 10; k++) {
                short sum = carry;
                for (short t = 0; t < (short) 64; t++) {
                    // i = t >> 4 (bal byte), j = (t >> 2) & 3 (rate byte), l = (t >> 1) & 1 (days), h = t & 1
                    short e = (short) (k - (short) (t >> 4) - (short) ((short) (t >> 2) & 3)
                            - (short) ((short) (t >> 1) & 1) - (short) (t & 1)); // byte e of the term feeds byte k
                    if ((short) (e & (short) -2) == 0) {
                        short z = (short) (u(bal[(short) (bOff + 3 - (short) (t >> 4))])
                                * u(rate[(short) (rOff + 3 - (short) ((short) (t >> 2) & 3))]));
                        z = (short) ((short) ((short) (z >> (short) ((short) (t & 1) << 3)) & 0xFF)
                                * (short) ((short) (days >> (short) ((short) (t & 2) << 2)) & 0xFF));
                        sum = (short) (sum + (short) ((short) (z >> (short) (e << 3)) & 0xFF));
                    }
                }
                // at most 64 terms of <= 255 per byte: sum < 16 320 + carry
                if (k >= (short) 8 && (short) (sum & 0xFF) != 0) {
                    return false;
                }
                if (pass == (short) 1 && k >= (short) 4 && k < (short) 8) {
                    out[(short) (outOff + 7 - k)] = (byte) sum;
                }
                carry = (short) ((sum >> 8) & 0xFF);
            }
        }
        return true;
    }
}
