/*
 * purse: the 50-entry passbook (protocol.md 3.1, F14). Entries are only appended (inside the
 * caller's money transaction); issue 4's bank sync clears them.
 */
package org.purse.applet;

import javacard.framework.Util;
import javacard.security.MessageDigest;

public final class Passbook {
    private final byte[] entries;
    /**
     * [0] = count, [1] = ring (bank roles, issue 4 12.2), [2] = head: physical index of the oldest
     * entry (0 unless ring). An array, not fields, so each is one logged byte write.
     */
    final byte[] meta; // the ring (bank roles): Issuer.personalised, Issuer.ringFree
    static final short M_COUNT = (short) 0;
    static final short M_RING = (short) 1;
    static final short M_HEAD = (short) 2;
    /** Gives the ring the DEBIT referenced by a pending OUT (never overwritten). */
    Slots slots;

    public Passbook() {
        entries = new byte[(short) (Constants.PASSBOOK_ENTRIES * Constants.PB_ENTRY_LEN)];
        meta = new byte[3];
    }

    /** Once, at install: the ring protects the DEBIT of a pending OUT. */
    void link(Slots s) {
        slots = s;
    }

    public boolean isRing() {
        return meta[M_RING] != 0;
    }

    /** Physical index of logical entry i (0 = oldest). */
    public short physical(short i) {
        short x = (short) ((short) (meta[M_HEAD] & 0xFF) + i);
        return x >= Constants.PASSBOOK_ENTRIES ? (short) (x - Constants.PASSBOOK_ENTRIES) : x;
    }

    /** Physical index the next append writes (what a pending OUT records as its DEBIT index). */
    public short nextIndex() {
        short n = count();
        return n < Constants.PASSBOOK_ENTRIES ? physical(n) : (short) (meta[M_HEAD] & 0xFF);
    }

    public short count() {
        return (short) (meta[M_COUNT] & 0xFF);
    }

    /**
     * FREE = 50 - count - (1 if IN is EXPECTING: an expectation reserves its credit entry).
     * Ring: the appends left before the DEBIT of a pending OUT would be overwritten (50 if none).
     */
    public short free(boolean expecting) {
        short r = expecting ? (short) 1 : (short) 0;
        if (!isRing()) {
            return (short) (Constants.PASSBOOK_ENTRIES - count() - r);
        }
        return (short) (Issuer.ringFree(this) - r);
    }

    /**
     * Entry built at w[o] (transfer, sync): counterparty ACCOUNT | NAME, RANDOM (at rnd), TID and k
     * from src (a slot, or the session: the same layout), DATE, TYPE, AMOUNT; NEW_BALANCE = bal's
     * AMOUNT + sign * AMOUNT (the caller checked it fits).
     */
    static void build(byte[] w, short o, byte[] src, short rnd, byte[] date, short dOff, byte type, byte[] amt,
            short aOff, Balance bal, short sign) {
        // ACCOUNT | NAME: adjacent in both
        Util.arrayCopyNonAtomic(src, Slots.S_ACCOUNT, w, (short) (o + Constants.PB_ACCOUNT),
                (short) (Constants.ACCOUNT_LEN + Constants.NAME_LEN));
        Util.arrayCopyNonAtomic(src, rnd, w, (short) (o + Constants.PB_RANDOM), Constants.RANDOM_LEN);
        Util.arrayCopyNonAtomic(date, dOff, w, (short) (o + Constants.PB_DATE), Constants.DATE_LEN);
        w[(short) (o + Constants.PB_TYPE)] = type;
        Util.arrayCopyNonAtomic(amt, aOff, w, (short) (o + Constants.PB_AMOUNT), Constants.AMOUNT_LEN);
        Util.arrayCopyNonAtomic(src, Slots.S_TID, w, (short) (o + Constants.PB_TID), Constants.TID_LEN);
        w[(short) (o + Constants.PB_KEYNUM)] = src[Slots.S_K];
        bal.plus(amt, aOff, sign, w, (short) (o + Constants.PB_NEW_BALANCE));
    }

    /**
     * Inside the caller's transaction; caller checked free() >= 1. Returns the physical index.
     * Ring, full: the oldest entry is overwritten (never the protected DEBIT: free() said so).
     */
    public short append(byte[] entry, short off) {
        short n = count();
        short i = nextIndex();
        Util.arrayCopy(entry, off, entries, (short) (i * Constants.PB_ENTRY_LEN), Constants.PB_ENTRY_LEN);
        if (n < Constants.PASSBOOK_ENTRIES) {
            meta[M_COUNT] = (byte) (n + 1);
        } else {
            meta[M_HEAD] = (byte) physical((short) 1);
        }
        return i;
    }

    /** DEBIT -> DEBIT_REFUNDED / EXCEPTION, rewritten in place (inside the caller's transaction). index: physical. */
    public void setType(short index, byte type) {
        short h = (short) (meta[M_HEAD] & 0xFF);
        short logical = (short) (index - h);
        if (logical < 0) {
            logical = (short) (logical + Constants.PASSBOOK_ENTRIES);
        }
        if (index >= (short) 0 && index < Constants.PASSBOOK_ENTRIES && logical < count()) {
            entries[(short) (index * Constants.PB_ENTRY_LEN + Constants.PB_TYPE)] = type;
        }
    }

    /** Logical entries first .. first + n - 1 (0 = oldest), ring-aware. */
    public short read(short first, short n, byte[] out, short off) {
        short o = off;
        for (short i = 0; i < n; i++) {
            Util.arrayCopyNonAtomic(entries, (short) (physical((short) (first + i)) * Constants.PB_ENTRY_LEN), out, o,
                    Constants.PB_ENTRY_LEN);
            o = (short) (o + Constants.PB_ENTRY_LEN);
        }
        return (short) (o - off);
    }

    /**
     * The passbook digest (protocol.md 12.5.3) over all entries, oldest first, straight from the
     * persistent array: one update per contiguous run (two when a ring wraps).
     */
    void digest(MessageDigest md) {
        short h = (short) ((short) (meta[M_HEAD] & 0xFF) * Constants.PB_ENTRY_LEN);
        short all = (short) (count() * Constants.PB_ENTRY_LEN);
        short run = (short) ((short) (Constants.PASSBOOK_ENTRIES * Constants.PB_ENTRY_LEN) - h);
        if (run > all) {
            run = all;
        }
        if (run > 0) {
            md.update(entries, h, run);
        }
        if (all > run) {
            md.update(entries, (short) 0, (short) (all - run));
        }
    }

    /** Issue 4 only (bank sync): inside the caller's transaction. */
    public void clear() {
        zero(meta, M_COUNT);
        zero(meta, M_HEAD);
    }

    /**
     * a[i] = 0, written only if it is not 0 already: a card pays for every persistent write, the
     * same value or not, and a sync clears bytes that are mostly 0 (an empty passbook, no
     * exceptions, no bad keys, a head that only a bank's ring moves).
     */
    static void zero(byte[] a, short i) {
        if (a[i] != 0) {
            a[i] = (byte) 0;
        }
    }
}
