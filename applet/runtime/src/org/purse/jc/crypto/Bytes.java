package org.purse.jc.crypto;

import org.purse.jc.Mem;

/** Internal helpers: bounds checks and card-memory-aware output writes. */
final class Bytes {
    private Bytes() {
    }

    /** Throws like a card would for a bad (array, offset, length) triple. */
    static void check(byte[] a, int off, int len) {
        if (a == null) {
            throw new NullPointerException();
        }
        if (off < 0 || len < 0 || off > a.length - len) {
            throw new ArrayIndexOutOfBoundsException();
        }
    }

    /** Writes result bytes into an applet-visible array through the engine's memory hook. */
    static void out(byte[] dst, int dstOff, byte[] src, int srcOff, int len) {
        check(dst, dstOff, len);
        if (len == 0) {
            return;
        }
        if (Mem.isTransient(dst)) {
            Mem.writeBytesNonAtomic(dst, dstOff, src, srcOff, len);
        } else {
            Mem.writeBytes(dst, dstOff, src, srcOff, len);
        }
    }

    static byte[] copy(byte[] a, int off, int len) {
        byte[] r = new byte[len];
        System.arraycopy(a, off, r, 0, len);
        return r;
    }

    static boolean constantTimeEquals(byte[] a, int aOff, byte[] b, int bOff, int len) {
        int d = 0;
        for (int i = 0; i < len; i++) {
            d |= a[aOff + i] ^ b[bOff + i];
        }
        return d == 0;
    }
}
