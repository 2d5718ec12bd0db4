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
        short carry = (short) 0;
        for (short i = (short) 3; i >= 0; i--) {
            short s = (short) (u(a[(short) (aOff + i)]) + u(b[(short) (bOff + i)]) + carry);
            carry = (short) (s >> 8);
        }
        if (carry != 0) {
            return false;
        }
        for (short i = (short) 3; i >= 0; i--) {
            short s = (short) (u(a[(short) (aOff + i)]) + u(b[(short) (bOff + i)]) + carry);
            carry = (short) (s >> 8);
            r[(short) (rOff + i)] = (byte) s;
        }
        return true;
    }

    /** r = a - b; false (r untouched) if b > a. */
    public static boolean sub(byte[] a, short aOff, byte[] b, short bOff, byte[] r, short rOff) {
        if (compare(a, aOff, b, bOff) < 0) {
            return false;
        }
        short borrow = (short) 0;
        for (short i = (short) 3; i >= 0; i--) {
            short s = (short) (u(a[(short) (aOff + i)]) - u(b[(short) (bOff + i)]) - borrow);
            if (s < 0) {
                s = (short) (s + 256);
                borrow = (short) 1;
            } else {
                borrow = (short) 0;
            }
            r[(short) (rOff + i)] = (byte) s;
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

    /** Byte k (0 = least significant) of bal(4) * rate(4) * days(2); carry in/out via the return. */
    private static short column(byte[] bal, short bOff, byte[] rate, short rOff, short days, short k, short carry) {
        // t = bal[i] * rate[j] (16 bits: tl, th); t * d[l] spreads over bytes i+j+l .. i+j+l+2.
        short sum = carry;
        for (short i = 0; i < (short) 4; i++) {
            short bi = u(bal[(short) (bOff + 3 - i)]);
            for (short j = 0; j < (short) 4; j++) {
                short base = (short) (i + j);
                if (base > k || (short) (base + 3) < k) {
                    continue;
                }
                short rj = u(rate[(short) (rOff + 3 - j)]);
                short t = (short) (bi * rj); // unsigned 16 bits, <= 0xFE01
                short tl = (short) (t & 0xFF);
                short th = (short) ((t >> 8) & 0xFF);
                for (short l = 0; l < (short) 2; l++) {
                    short d = l == 0 ? (short) (days & 0xFF) : (short) ((days >> 8) & 0xFF);
                    short pl = (short) (tl * d); // <= 0xFE01, at byte base+l
                    short ph = (short) (th * d); // at byte base+l+1
                    short at = (short) (base + l);
                    if (at == k) {
                        sum = (short) (sum + (short) (pl & 0xFF));
                    } else if ((short) (at + 1) == k) {
                        sum = (short) (sum + (short) ((pl >> 8) & 0xFF) + (short) (ph & 0xFF));
                    } else if ((short) (at + 2) == k) {
                        sum = (short) (sum + (short) ((ph >> 8) & 0xFF));
                    }
                }
            }
        }
        // at most 7 triples per byte position, 4 contributions of <= 255 each: sum < 7300 + carry
        return sum;
    }

    /**
     * issue 4: out = floor(bal * rate * days / 2^32) (rate in 2^-32 per day, protocol.md 12.2);
     * false (out untouched) if the result exceeds 2^32 - 1. days is unsigned.
     */
    public static boolean interest(byte[] bal, short bOff, byte[] rate, short rOff, short days, byte[] out, short outOff) {
        // pass 1: is the product < 2^64 (bytes 8 and 9 zero)?
        short carry = (short) 0;
        for (short k = 0; k < (short) 10; k++) {
            short s = column(bal, bOff, rate, rOff, days, k, carry);
            if (k >= (short) 8 && (short) (s & 0xFF) != 0) {
                return false;
            }
            carry = (short) ((s >> 8) & 0xFF);
        }
        // pass 2: write bytes 4..7
        carry = (short) 0;
        for (short k = 0; k < (short) 8; k++) {
            short s = column(bal, bOff, rate, rOff, days, k, carry);
            if (k >= (short) 4) {
                out[(short) (outOff + 7 - k)] = (byte) s;
            }
            carry = (short) ((s >> 8) & 0xFF);
        }
        return true;
    }
}
