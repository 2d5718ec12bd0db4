package org.purse.applet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.util.Random;

import org.junit.jupiter.api.Test;

class Money32Test {
    static final long MAX = 0xFFFFFFFFL;

    static byte[] m(long v) {
        return new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
    }

    static long v(byte[] b, int off) {
        return ((b[off] & 0xFFL) << 24) | ((b[off + 1] & 0xFFL) << 16) | ((b[off + 2] & 0xFFL) << 8) | (b[off + 3] & 0xFFL);
    }

    // a + b and a - b: Money32.addSub with sign 1 and -1 (Balance and BankSync call it so)
    static boolean add(byte[] a, short aOff, byte[] b, short bOff, byte[] r, short rOff) {
        return Money32.addSub(a, aOff, b, bOff, r, rOff, (short) 1);
    }

    static boolean sub(byte[] a, short aOff, byte[] b, short bOff, byte[] r, short rOff) {
        return Money32.addSub(a, aOff, b, bOff, r, rOff, (short) -1);
    }

    static final long[] EDGES = {0, 1, 0xFF, 0x100, 0xFFFF, 0x10000, 0x7FFF, 0x8000, 0x7FFFFFFFL, 0x80000000L,
            0xFFFFFF00L, 0xFFFFFFFEL, MAX, 1234, 0x00FF00FFL, 0xFF00FF00L};

    @Test
    void overflowRefused() {
        byte[] r = {9, 9, 9, 9, 9, 9};
        assertFalse(add(m(MAX), (short) 0, m(1), (short) 0, r, (short) 1));
        assertArrayEquals(new byte[] {9, 9, 9, 9, 9, 9}, r, "untouched on overflow");
        assertFalse(add(m(0x80000000L), (short) 0, m(0x80000000L), (short) 0, r, (short) 1));
        assertTrue(add(m(MAX - 1), (short) 0, m(1), (short) 0, r, (short) 1));
        assertEquals(MAX, v(r, 1));
        assertEquals(9, r[0]);
        assertEquals(9, r[5]);
        // exhaustive over edges, in place
        for (long a : EDGES) {
            for (long b : EDGES) {
                byte[] x = m(a);
                boolean ok = add(x, (short) 0, m(b), (short) 0, x, (short) 0);
                assertEquals(a + b <= MAX, ok, a + "+" + b);
                assertEquals(ok ? a + b : a, v(x, 0));
            }
        }
    }

    @Test
    void underflowRefused() {
        byte[] r = {7, 7, 7, 7};
        assertFalse(sub(m(0), (short) 0, m(1), (short) 0, r, (short) 0));
        assertArrayEquals(new byte[] {7, 7, 7, 7}, r);
        assertFalse(sub(m(1233), (short) 0, m(1234), (short) 0, r, (short) 0));
        assertTrue(sub(m(1234), (short) 0, m(1234), (short) 0, r, (short) 0));
        assertEquals(0, v(r, 0));
        for (long a : EDGES) {
            for (long b : EDGES) {
                byte[] x = m(a);
                boolean ok = sub(x, (short) 0, m(b), (short) 0, x, (short) 0);
                assertEquals(a >= b, ok, a + "-" + b);
                assertEquals(ok ? a - b : a, v(x, 0));
            }
        }
    }

    @Test
    void compareUnsigned() {
        for (long a : EDGES) {
            for (long b : EDGES) {
                assertEquals(Long.signum(a - b), Money32.compare(m(a), (short) 0, m(b), (short) 0), a + " ? " + b);
            }
        }
        assertTrue(Money32.isZero(new byte[] {1, 0, 0, 0, 0}, (short) 1));
        assertFalse(Money32.isZero(m(0x80000000L), (short) 0));
        assertFalse(Money32.isZero(m(1), (short) 0));
    }

    @Test
    void incrementWraps() {
        byte[] x = m(0x00FFFFFFL);
        Money32.increment(x, (short) 0);
        assertEquals(0x01000000L, v(x, 0));
        x = m(MAX);
        Money32.increment(x, (short) 0);
        assertEquals(0, v(x, 0));
        x = m(6);
        Money32.increment(x, (short) 0);
        assertEquals(7, v(x, 0));
    }

    static BigInteger ref(long bal, long rate, int days) {
        return BigInteger.valueOf(bal).multiply(BigInteger.valueOf(rate)).multiply(BigInteger.valueOf(days)).shiftRight(32);
    }

    void checkInterest(long bal, long rate, int days) {
        byte[] out = {5, 5, 5, 5, 5, 5};
        boolean ok = BankSync.interest(m(bal), (short) 0, m(rate), (short) 0, (short) days, out, (short) 1);
        BigInteger want = ref(bal, rate, days);
        boolean fits = want.bitLength() <= 32;
        assertEquals(fits, ok, bal + "*" + rate + "*" + days);
        if (fits) {
            assertEquals(want.longValue(), v(out, 1), bal + "*" + rate + "*" + days);
        } else {
            assertArrayEquals(new byte[] {5, 5, 5, 5, 5, 5}, out);
        }
        assertEquals(5, out[0]);
        assertEquals(5, out[5]);
    }

    @Test
    void interestMatchesReference() {
        // 1 % a year ~ 0.01/365 per day ~ 117 675 in 2^-32 units
        checkInterest(100_000, 117_675, 365);
        checkInterest(0, MAX, 65535);
        checkInterest(MAX, MAX, 0);
        checkInterest(MAX, MAX, 1);           // fits: < 2^32
        checkInterest(MAX, MAX, 2);           // > 2^32: refused
        checkInterest(MAX, 1, 65535);
        checkInterest(MAX, 0x10000, 65535);   // overflow
        long[] e = EDGES;
        int[] days = {0, 1, 2, 255, 256, 365, 366, 3650, 32767, 32768, 65535};
        for (long a : e) {
            for (long b : e) {
                for (int d : days) {
                    checkInterest(a, b, d);
                }
            }
        }
        Random rnd = new Random(42);
        for (int i = 0; i < 20000; i++) {
            long a = rnd.nextLong() & MAX >>> rnd.nextInt(32);
            long b = rnd.nextLong() & MAX >>> rnd.nextInt(32);
            checkInterest(a, b, rnd.nextInt(65536));
        }
    }
}
