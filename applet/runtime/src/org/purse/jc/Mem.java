package org.purse.jc;

/**
 * Every store into persistent memory goes through here: the runtime's own javacard.* classes
 * call writeBytes & co explicitly, and the instrumenting class loader rewrites every
 * PUTFIELD/PUTSTATIC/xASTORE of applet classes into the hooks at the bottom.
 * Outside a card context (no command, install or load running) writes are plain stores.
 */
public final class Mem {
    private Mem() {
    }

    private static void bounds(Object a, int off, int len, int alen) {
        if (a == null) {
            throw new NullPointerException();
        }
        if (off < 0 || len < 0 || off + len > alen) {
            throw new ArrayIndexOutOfBoundsException("offset " + off + " length " + len + " array " + alen);
        }
    }

    /** Atomic: one persistent write; undo-logged inside a transaction; all or nothing under tear. */
    public static void writeBytes(byte[] dst, int dstOff, byte[] src, int srcOff, int len) {
        bounds(dst, dstOff, len, dst == null ? 0 : dst.length);
        bounds(src, srcOff, len, src == null ? 0 : src.length);
        Card c = Card.current;
        if (c != null && !c.isTransientArray(dst)) {
            c.arrayWrite(dst, dstOff, len, 1, true);
        }
        System.arraycopy(src, srcOff, dst, dstOff, len);
    }

    /** One persistent write, never undo-logged (survives abort). */
    public static void writeBytesNonAtomic(byte[] dst, int dstOff, byte[] src, int srcOff, int len) {
        bounds(dst, dstOff, len, dst == null ? 0 : dst.length);
        bounds(src, srcOff, len, src == null ? 0 : src.length);
        Card c = Card.current;
        if (c != null && !c.isTransientArray(dst)) {
            c.arrayWrite(dst, dstOff, len, 1, false);
        }
        System.arraycopy(src, srcOff, dst, dstOff, len);
    }

    public static void fillNonAtomic(byte[] dst, int off, int len, byte v) {
        bounds(dst, off, len, dst == null ? 0 : dst.length);
        Card c = Card.current;
        if (c != null && !c.isTransientArray(dst)) {
            c.arrayWrite(dst, off, len, 1, false);
        }
        java.util.Arrays.fill(dst, off, off + len, v);
    }

    public static void writeByte(byte[] dst, int off, byte v) {
        bounds(dst, off, 1, dst == null ? 0 : dst.length);
        Card c = Card.current;
        if (c != null && !c.isTransientArray(dst)) {
            c.arrayWrite(dst, off, 1, 1, true);
        }
        dst[off] = v;
    }

    public static void writeByteNonAtomic(byte[] dst, int off, byte v) {
        bounds(dst, off, 1, dst == null ? 0 : dst.length);
        Card c = Card.current;
        if (c != null && !c.isTransientArray(dst)) {
            c.arrayWrite(dst, off, 1, 1, false);
        }
        dst[off] = v;
    }

    /** Atomic write of a whole short[] range (for runtime classes holding short state). */
    public static void writeShorts(short[] dst, int dstOff, short[] src, int srcOff, int len) {
        bounds(dst, dstOff, len, dst == null ? 0 : dst.length);
        bounds(src, srcOff, len, src == null ? 0 : src.length);
        Card c = Card.current;
        if (c != null && !c.isTransientArray(dst)) {
            c.arrayWrite(dst, dstOff, len, 2, true);
        }
        System.arraycopy(src, srcOff, dst, dstOff, len);
    }

    public static boolean isTransient(Object array) {
        Card c = Card.current;
        return c != null && c.isTransientArray(array);
    }

    public static void countCrypto() {
        Card c = Card.current;
        if (c != null) {
            c.last.cryptoOps++;
        }
    }

    /** Adds n to the named operation counter of the running command (Counters.ops). */
    public static void count(String op, long n) {
        Card c = Card.current;
        if (c != null) {
            c.last.count(op, n);
        }
    }

    // ---- hooks called by instrumented applet bytecode ----

    public static void putField(Object obj, String owner, String name, int bytes) {
        Card c = Card.current;
        if (c != null && obj != null) {
            c.fieldWrite(obj, owner, name, bytes);
        }
    }

    public static void putStatic(String owner, String name, int bytes) {
        Card c = Card.current;
        if (c != null) {
            c.staticWrite(owner, name, bytes);
        }
    }

    private static void elem(Object a, int i, int len, int bytes) {
        if (i < 0 || i >= len) {
            throw new ArrayIndexOutOfBoundsException("Index " + i + " out of bounds for length " + len);
        }
        Card c = Card.current;
        if (c != null && !c.isTransientArray(a)) {
            c.arrayWrite(a, i, 1, bytes, true);
        }
    }

    public static void bastore(Object arr, int i, int v) {
        if (arr instanceof byte[]) {
            byte[] a = (byte[]) arr;
            elem(a, i, a.length, 1);
            a[i] = (byte) v;
        } else {
            boolean[] a = (boolean[]) arr;
            elem(a, i, a.length, 1);
            a[i] = (v & 1) != 0;
        }
    }

    public static void sastore(short[] a, int i, int v) {
        elem(a, i, a.length, 2);
        a[i] = (short) v;
    }

    public static void castore(char[] a, int i, int v) {
        elem(a, i, a.length, 2);
        a[i] = (char) v;
    }

    public static void iastore(int[] a, int i, int v) {
        elem(a, i, a.length, 4);
        a[i] = v;
    }

    public static void lastore(long[] a, int i, long v) {
        elem(a, i, a.length, 8);
        a[i] = v;
    }

    public static void fastore(float[] a, int i, float v) {
        elem(a, i, a.length, 4);
        a[i] = v;
    }

    public static void dastore(double[] a, int i, double v) {
        elem(a, i, a.length, 8);
        a[i] = v;
    }

    public static void aastore(Object[] a, int i, Object v) {
        int len = a.length;
        if (i >= 0 && i < len && v != null && !a.getClass().getComponentType().isInstance(v)) {
            throw new ArrayStoreException(v.getClass().getName());
        }
        elem(a, i, len, 2);
        a[i] = v;
    }
}
