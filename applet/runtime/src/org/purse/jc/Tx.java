package org.purse.jc;

import java.lang.reflect.Field;
import java.util.ArrayList;
import javacard.framework.TransactionException;

/** Undo log of the (single level) JavaCard transaction. Writes are applied in place; abort restores. */
final class Tx {
    /** Bytes charged per logged write on top of the data bytes (journal bookkeeping). */
    static final int OVERHEAD = 4;
    static final int MAX = Integer.getInteger("purse.jc.commitCapacity", 2048);

    boolean open;
    int used;
    private final ArrayList<Object[]> log = new ArrayList<>();

    void reserve(int bytes) {
        if (used + bytes + OVERHEAD > MAX) {
            TransactionException.throwIt(TransactionException.BUFFER_FULL);
        }
        used += bytes + OVERHEAD;
    }

    void logArray(Object array, int off, int count) {
        Object old = java.lang.reflect.Array.newInstance(array.getClass().getComponentType(), count);
        System.arraycopy(array, off, old, 0, count);
        log.add(new Object[] {array, off, old});
    }

    void logField(Object obj, Field f) {
        try {
            log.add(new Object[] {obj, f, f.get(obj)});
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }

    void begin() {
        open = true;
        used = 0;
        log.clear();
    }

    void commit() {
        open = false;
        used = 0;
        log.clear();
    }

    void abort() {
        for (int i = log.size() - 1; i >= 0; i--) {
            Object[] e = log.get(i);
            if (e[1] instanceof Field) {
                try {
                    ((Field) e[1]).set(e[0], e[2]);
                } catch (IllegalAccessException ex) {
                    throw new IllegalStateException(ex);
                }
            } else {
                Object old = e[2];
                System.arraycopy(old, 0, e[0], (Integer) e[1], java.lang.reflect.Array.getLength(old));
            }
        }
        open = false;
        used = 0;
        log.clear();
    }
}
