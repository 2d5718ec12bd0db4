/*
 * purse: the 50-entry passbook (protocol.md 3.1, F14). Entries are only appended (inside the
 * caller's money transaction); issue 4's bank sync clears them.
 */
package org.purse.applet;

import javacard.framework.Util;

public final class Passbook {
    private final byte[] entries;
    /** [0] = count. An array, not a field, so the count is one logged byte write. */
    private final byte[] meta;

    public Passbook() {
        entries = new byte[(short) (Constants.PASSBOOK_ENTRIES * Constants.PB_ENTRY_LEN)];
        meta = new byte[1];
    }

    public short count() {
        return (short) (meta[0] & 0xFF);
    }

    /** FREE = 50 - count - (1 if IN is EXPECTING: an expectation reserves its credit entry). */
    public short free(boolean expecting) {
        return (short) (Constants.PASSBOOK_ENTRIES - count() - (expecting ? (short) 1 : (short) 0));
    }

    /** Inside the caller's transaction; caller checked free() >= 1. Returns the index. */
    public short append(byte[] entry, short off) {
        short n = count();
        Util.arrayCopy(entry, off, entries, (short) (n * Constants.PB_ENTRY_LEN), Constants.PB_ENTRY_LEN);
        meta[0] = (byte) (n + 1);
        return n;
    }

    /** DEBIT -> DEBIT_REFUNDED / EXCEPTION, rewritten in place (inside the caller's transaction). */
    public void setType(short index, byte type) {
        if (index >= (short) 0 && index < count()) {
            entries[(short) (index * Constants.PB_ENTRY_LEN + Constants.PB_TYPE)] = type;
        }
    }

    public short read(short first, short n, byte[] out, short off) {
        short len = (short) (n * Constants.PB_ENTRY_LEN);
        Util.arrayCopyNonAtomic(entries, (short) (first * Constants.PB_ENTRY_LEN), out, off, len);
        return len;
    }

    /** Issue 4 only (bank sync). */
    public void clear() {
        meta[0] = (byte) 0;
    }
}
