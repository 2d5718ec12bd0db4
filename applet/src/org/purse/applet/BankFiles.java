/*
 * purse: the bank files of center / region / branch cards (protocol.md 12.8, F16-F18).
 * BAD_CARD: 1 200 entries of 5 bytes = account bytes 4..7 (low 8 digits) | KEYNUM at listing,
 * unsorted; removal moves the last entry into the hole. META: COUNT(2) | RATE(4) | LOW(8) | HIGH(8).
 * Allocated at personalisation for bank roles only (user / admin cards never call allocate()).
 * Every mutator runs inside the caller's transaction (Admin, Personalisation).
 */
package org.purse.applet;

import javacard.framework.ISOException;
import javacard.framework.Util;

public final class BankFiles {
    static final short M_COUNT = (short) 0;
    static final short M_RATE = (short) 2;
    static final short M_LOW = (short) 6;
    static final short M_HIGH = (short) 14;
    static final short META_LEN = (short) 22;

    private byte[] bad;
    private byte[] meta;

    public BankFiles() {
    }

    /** Once, at personalisation of a bank role (outside the transaction: a torn genesis can retry). */
    public void allocate() {
        if (bad == null) {
            bad = new byte[(short) (Constants.BAD_CARD_MAX * Constants.BC_ENTRY_LEN)];
        }
        if (meta == null) {
            meta = new byte[META_LEN];
        }
    }

    public boolean allocated() {
        return meta != null;
    }

    private void need() {
        if (meta == null) {
            Purse.wrongRole();
        }
    }

    /** Inside the personalisation transaction (once): COUNT 0, RATE 0, range own[0..4) | 00000000 .. 99999999. */
    public void initDefaults(byte[] account, short o) {
        need();
        // logged writes only (a torn personalisation rolls them back with the rest). COUNT and RATE
        // are 0 already: META is allocated zero on a blank card and only ever written here first.
        Util.arrayCopy(account, o, meta, M_LOW, Constants.BC_ACC_OFF);
        Util.arrayCopy(account, o, meta, M_HIGH, Constants.BC_ACC_OFF);
        for (short i = 0; i < Constants.BC_ACC_LEN; i++) {
            meta[(short) (M_HIGH + Constants.BC_ACC_OFF + i)] = (byte) 0x99;
        }
    }

    public short count() {
        return meta == null ? (short) 0 : Util.getShort(meta, M_COUNT);
    }

    /** LOW <= account <= HIGH (packed BCD compares like unsigned bytes). False on a non-bank card. */
    public boolean inRange(byte[] a, short o) {
        if (meta == null) {
            return false;
        }
        return compare(meta, M_LOW, a, o) <= (short) 0 && compare(a, o, meta, M_HIGH) <= (short) 0;
    }

    /** Unsigned compare of two 8-byte accounts: -1, 0, 1. */
    static short compare(byte[] a, short ao, byte[] b, short bo) {
        for (short i = 0; i < Constants.ACCOUNT_LEN; i++) {
            short x = (short) (a[(short) (ao + i)] & 0xFF);
            short y = (short) (b[(short) (bo + i)] & 0xFF);
            if (x != y) {
                return x < y ? (short) -1 : (short) 1;
            }
        }
        return (short) 0;
    }

    /** Index of the entry whose 4 bytes equal account bytes 4..7, or -1 (also on a non-bank card). */
    public short find(byte[] a, short o) {
        if (meta == null) {
            return (short) -1;
        }
        return indexOf(bad, count(), a, (short) (o + Constants.BC_ACC_OFF));
    }

    /** Index of the first of n 5-byte entries of list whose 4 account bytes equal a[ao..ao + 4), or -1. */
    private static short indexOf(byte[] list, short n, byte[] a, short ao) {
        short e = 0;
        for (short i = 0; i < n; i++) {
            if (Util.arrayCompare(list, e, a, ao, Constants.BC_ACC_LEN) == 0) {
                return i;
            }
            e = (short) (e + Constants.BC_ENTRY_LEN);
        }
        return (short) -1;
    }

    /**
     * Batched BAD_CARD_ADD (protocol.md 12.8 "Batches"): n accounts PREFIX(4) | n x LOW(4) at a[o].
     * Every account is range-checked (9D21 refuses the whole batch); one already listed (or earlier
     * in the batch) is no change; the new entries are built in scratch (>= n x 5 bytes) and appended
     * by one write, COUNT by a second, in the caller's transaction (9D23 if they do not all fit: nothing is
     * written). acc[accOff] (8): scratch account. Bit i (MSB first) of bits[bo] set: account i newly
     * listed (the caller zeroed the bits). Returns the number added.
     */
    public short addBatch(byte[] a, short o, short n, byte keynum, byte[] acc, short accOff, byte[] scratch,
            byte[] bits, short bo) {
        need();
        Util.arrayCopyNonAtomic(a, o, acc, accOff, Constants.BC_ACC_OFF);
        short lowAt = (short) (accOff + Constants.BC_ACC_OFF);
        short src = (short) (o + Constants.BC_ACC_OFF);
        short added = 0;
        short c = count();
        for (short i = 0; i < n; i++) {
            Util.arrayCopyNonAtomic(a, src, acc, lowAt, Constants.BC_ACC_LEN);
            if (!inRange(acc, accOff)) {
                ISOException.throwIt(Constants.SW_ACCOUNT_OUT_OF_RANGE);
            }
            if (indexOf(bad, c, acc, lowAt) < (short) 0 && indexOf(scratch, added, acc, lowAt) < (short) 0) {
                short e = (short) (added * Constants.BC_ENTRY_LEN);
                Util.arrayCopyNonAtomic(acc, lowAt, scratch, e, Constants.BC_ACC_LEN);
                scratch[(short) (e + Constants.BC_KEYNUM)] = keynum;
                added++;
                short bi = (short) (bo + (short) (i >> 3));
                bits[bi] = (byte) (bits[bi] | (byte) ((short) 0x80 >> (short) (i & 7)));
            }
            src = (short) (src + Constants.BC_ACC_LEN);
        }
        if (added > (short) (Constants.BAD_CARD_MAX - c)) {
            ISOException.throwIt(Constants.SW_BAD_CARD_LIST_FULL);
        }
        if (added > (short) 0) {
                Util.arrayCopy(scratch, (short) 0, bad, (short) (c * Constants.BC_ENTRY_LEN),
                    (short) (added * Constants.BC_ENTRY_LEN));
            Util.setShort(meta, M_COUNT, (short) (c + added));
            }
        return added;
    }

    /** KEYNUM stored with entry i. */
    public byte keynumAt(short i) {
        return bad[(short) (i * Constants.BC_ENTRY_LEN + Constants.BC_KEYNUM)];
    }

    /**
     * BAD_CARD_ADD: 9D21 if outside VALID_ACCOUNT, RESULT_NO_CHANGE if listed, 9D23 if full, else the
     * entry (account bytes 4..7 | keynum) is appended: RESULT_DONE.
     */
    public byte add(byte[] a, short o, byte keynum) {
        need();
        if (!inRange(a, o)) {
            ISOException.throwIt(Constants.SW_ACCOUNT_OUT_OF_RANGE);
        }
        if (find(a, o) >= (short) 0) {
            return Constants.RESULT_NO_CHANGE;
        }
        short n = count();
        if (n >= Constants.BAD_CARD_MAX) {
            ISOException.throwIt(Constants.SW_BAD_CARD_LIST_FULL);
        }
        short e = (short) (n * Constants.BC_ENTRY_LEN);
        Util.arrayCopy(a, (short) (o + Constants.BC_ACC_OFF), bad, e, Constants.BC_ACC_LEN);
        bad[(short) (e + Constants.BC_KEYNUM)] = keynum;
        Util.setShort(meta, M_COUNT, (short) (n + 1));
        return Constants.RESULT_DONE;
    }

    /**
     * BAD_CARD_REMOVE: 9D24 unless listed and (current - KEYNUM) mod 256 >= 7 (the card's keys have
     * expired even for a sync window). The last entry moves into the hole.
     */
    public byte remove(byte[] a, short o, byte current) {
        need();
        short i = find(a, o);
        if (i < (short) 0
                || (short) ((short) (current - keynumAt(i)) & 0xFF) < Constants.BAD_CARD_EXPIRY) {
            ISOException.throwIt(Constants.SW_NOT_LISTED);
        }
        short last = (short) (count() - 1);
        if (i != last) {
            Util.arrayCopy(bad, (short) (last * Constants.BC_ENTRY_LEN), bad, (short) (i * Constants.BC_ENTRY_LEN),
                    Constants.BC_ENTRY_LEN);
        }
        Util.setShort(meta, M_COUNT, last);
        return Constants.RESULT_DONE;
    }

    /** SET_RATE: RESULT_NO_CHANGE if equal. */
    public byte setRate(byte[] r, short o) {
        need();
        if (Util.arrayCompare(meta, M_RATE, r, o, Constants.RATE_LEN) == 0) {
            return Constants.RESULT_NO_CHANGE;
        }
        Util.arrayCopy(r, o, meta, M_RATE, Constants.RATE_LEN);
        return Constants.RESULT_DONE;
    }

    /**
     * SET_RANGE LOW(8) | HIGH(8) at o: caller checked LOW <= HIGH, same prefix, valid accounts (at
     * ADMIN_INIT). 6985 if the prefix changes while the list is not empty. RESULT_NO_CHANGE if equal.
     */
    public byte setRange(byte[] r, short o) {
        need();
        if (Util.arrayCompare(meta, M_LOW, r, o, Constants.RANGE_LEN) == 0) {
            return Constants.RESULT_NO_CHANGE;
        }
        if (count() > (short) 0 && Util.arrayCompare(meta, M_LOW, r, o, Constants.BC_ACC_OFF) != 0) {
            Purse.conditions();
        }
        Util.arrayCopy(r, o, meta, M_LOW, Constants.RANGE_LEN);
        return Constants.RESULT_DONE;
    }

    /** INTEREST rate (4 bytes); zeros on a non-bank card. */
    public void rate(byte[] out, short o) {
        if (meta == null) {
            Util.arrayFillNonAtomic(out, o, Constants.RATE_LEN, (byte) 0);
            return;
        }
        Util.arrayCopyNonAtomic(meta, M_RATE, out, o, Constants.RATE_LEN);
    }

    /**
     * READ_BAD_CARDS page: COUNT | RATE | LOW | HIGH | ARCH | CURRENT | entries [40 page, 40 page + 40)
     * of [0, COUNT). Caller checked the role and page < 30. Returns the length (24 + n * 5).
     */
    public short readPage(short page, byte arch, byte current, byte[] out, short o) {
        need();
        Util.arrayCopyNonAtomic(meta, M_COUNT, out, (short) (o + Constants.RBC_COUNT), (short) 22);
        out[(short) (o + Constants.RBC_ARCH)] = arch;
        out[(short) (o + Constants.RBC_CURRENT)] = current;
        short first = (short) (page * Constants.BC_PAGE);
        short n = (short) (count() - first);
        if (n < (short) 0) {
            n = 0;
        }
        if (n > Constants.BC_PAGE) {
            n = Constants.BC_PAGE;
        }
        short len = (short) (n * Constants.BC_ENTRY_LEN);
        // len 0 past COUNT: first * 5 <= 5 800 still lies within the list
        Util.arrayCopyNonAtomic(bad, (short) (first * Constants.BC_ENTRY_LEN), out,
                (short) (o + Constants.RBC_HEADER_LEN), len);
        return (short) (Constants.RBC_HEADER_LEN + len);
    }
}
