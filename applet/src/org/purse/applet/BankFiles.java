/*
 * purse: the bank files of center / region / branch cards (protocol.md 12.8, F16-F18).
 * BAD_CARD: 1 200 entries of 5 bytes = account bytes 4..7 (low 8 digits) | KEYNUM at listing,
 * unsorted; removal moves the last entry into the hole. META: COUNT(2) | RATE(4) | LOW(8) | HIGH(8).
 * LINK: the duplicate index, 32 chains by hash() of the 4 account bytes: per entry i a short at 2i
 * (entry index + 1 of the next entry in its chain, 0 ends it), then the 32 chain heads (same
 * coding). Every entry in [0, COUNT) lies in exactly the chain of its hash; a lookup walks one chain.
 * Allocated at personalisation for bank roles only (user / admin cards never call allocate()).
 * Every mutator runs inside the caller's transaction (Admin, Personalisation): list and index
 * change together or not at all.
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
    static final short CHAINS = (short) 32;
    static final short L_HEADS = (short) (Constants.BAD_CARD_MAX * 2);
    static final short HEADS_LEN = (short) (CHAINS * 2);
    static final short LINK_LEN = (short) (L_HEADS + HEADS_LEN);

    private byte[] bad;
    private byte[] meta;
    private byte[] link;

    public BankFiles() {
    }

    /** Once, at personalisation of a bank role (outside the transaction: a torn genesis can retry). */
    public void allocate() {
        if (bad == null) {
            bad = new byte[(short) (Constants.BAD_CARD_MAX * Constants.BC_ENTRY_LEN)];
        }
        if (link == null) {
            link = new byte[LINK_LEN]; // all zero: 32 empty chains
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
        return lookup(a, (short) (o + Constants.BC_ACC_OFF));
    }

    /**
     * Chain of 4 account bytes (the low 8 digits, packed BCD; the prefix is the bank's own): a
     * cheap mix that spreads sequential, strided and random serials near evenly over the 32 chains.
     */
    static short hash(byte[] a, short o) {
        short x = (short) (a[(short) (o + 3)] & 0xFF);
        return (short) ((short) (x + (short) (x >> 5) + (short) ((a[(short) (o + 2)] & 0xFF) << 3)
                + (short) ((a[(short) (o + 1)] & 0xFF) * 5) + (a[o] & 0xFF)) & (short) (CHAINS - 1));
    }

    /** Offset in LINK of the head of the chain of the 4 account bytes at a[o]. */
    private static short headAt(byte[] a, short o) {
        return (short) (L_HEADS + (short) (hash(a, o) << 1));
    }

    /** Index of the listed entry whose 4 bytes equal a[ao..ao + 4), or -1: one chain walked. */
    private short lookup(byte[] a, short ao) {
        short i = Util.getShort(link, headAt(a, ao));
        while (i != (short) 0) {
            i--;
            if (Util.arrayCompare(bad, (short) (i * Constants.BC_ENTRY_LEN), a, ao, Constants.BC_ACC_LEN) == 0) {
                return i;
            }
            i = Util.getShort(link, (short) (i << 1));
        }
        return (short) -1;
    }

    /** Offset in LINK of the short that points to listed entry i (its chain head or its predecessor's link). */
    private short slotOf(short i) {
        short at = headAt(bad, (short) (i * Constants.BC_ENTRY_LEN));
        short v;
        while ((v = Util.getShort(link, at)) != (short) (i + 1)) {
            at = (short) ((short) (v - 1) << 1);
        }
        return at;
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
     * BAD_CARD_ADD of n accounts PREFIX(4) | n x LOW(4) at a[o] (protocol.md 12.8 "Batches"; a
     * single ADD is PREFIX | LOW = its ACCOUNT, n = 1). Every account is range-checked (9D21 refuses
     * the whole batch); one already listed (or earlier in the batch) is no change; the new entries
     * are built in scratch and appended by one write, in the caller's transaction (9D23 if they do
     * not all fit: nothing is written). Then the index: the chain heads copied to scratch[0..64),
     * the new entries' links built after them and each new entry made its chain's head, written
     * back by two writes; COUNT by a fourth. scratch: >= max(n x 5, 64 + n x 2) bytes.
     * acc[accOff] (8): scratch account. Bit i (MSB first) of bits[bo] set: account i newly
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
            if (lookup(acc, lowAt) < (short) 0 && indexOf(scratch, added, acc, lowAt) < (short) 0) {
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
            Util.arrayCopyNonAtomic(link, L_HEADS, scratch, (short) 0, HEADS_LEN);
            short e = (short) (c * Constants.BC_ENTRY_LEN);
            short l = HEADS_LEN;
            for (short i = c; i < (short) (c + added); i++) {
                short h = (short) (hash(bad, e) << 1);
                Util.setShort(scratch, l, Util.getShort(scratch, h));
                Util.setShort(scratch, h, (short) (i + 1));
                e = (short) (e + Constants.BC_ENTRY_LEN);
                l = (short) (l + 2);
            }
            Util.arrayCopy(scratch, HEADS_LEN, link, (short) (c << 1), (short) (added << 1));
            Util.arrayCopy(scratch, (short) 0, link, L_HEADS, HEADS_LEN);
            Util.setShort(meta, M_COUNT, (short) (c + added));
        }
        return added;
    }

    /** KEYNUM stored with entry i. */
    public byte keynumAt(short i) {
        return bad[(short) (i * Constants.BC_ENTRY_LEN + Constants.BC_KEYNUM)];
    }

    /**
     * BAD_CARD_REMOVE: 9D24 unless listed and (current - KEYNUM) mod 256 >= 7 (the card's keys have
     * expired even for a sync window). Entry i leaves its chain; the last entry moves into the hole
     * and takes its own place in its chain at the new index (at most 5 writes).
     */
    public byte remove(byte[] a, short o, byte current) {
        need();
        short i = find(a, o);
        if (i < (short) 0
                || (short) ((short) (current - keynumAt(i)) & 0xFF) < Constants.BAD_CARD_EXPIRY) {
            ISOException.throwIt(Constants.SW_NOT_LISTED);
        }
        short at = (short) (i << 1);
        Util.setShort(link, slotOf(i), Util.getShort(link, at));
        short last = (short) (count() - 1);
        if (i != last) {
            Util.arrayCopy(bad, (short) (last * Constants.BC_ENTRY_LEN), bad, (short) (i * Constants.BC_ENTRY_LEN),
                    Constants.BC_ENTRY_LEN);
            Util.setShort(link, slotOf(last), (short) (i + 1));
            Util.setShort(link, at, Util.getShort(link, (short) (last << 1)));
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
     * of [0, COUNT). Caller checked the role and page < 30 (30 for the header alone). Returns the length (24 + n * 5).
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
        // len 0 past COUNT: first * 5 <= 6 000 (page 30: the header alone, a SELECT's) stays within the list
        Util.arrayCopyNonAtomic(bad, (short) (first * Constants.BC_ENTRY_LEN), out,
                (short) (o + Constants.RBC_HEADER_LEN), len);
        return (short) (Constants.RBC_HEADER_LEN + len);
    }
}
