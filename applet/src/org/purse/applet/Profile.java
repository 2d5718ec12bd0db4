/*
 * purse: identity, limits, counters and secrets of the card (protocol.md 3). Persistent, allocated
 * once at install; filled at personalisation inside the caller's transaction.
 */
package org.purse.applet;

import javacard.framework.ISOException;
import javacard.framework.JCSystem;
import javacard.framework.OwnerPIN;
import javacard.framework.Util;
import javacard.security.Key;

public final class Profile {
    static final short OFF_LIFE = (short) 0;
    static final short OFF_SUITE = (short) 1;
    static final short OFF_ROLE = (short) 2;
    static final short OFF_FLAGS = (short) 3;
    static final short OFF_ACCOUNT = (short) 4;       // 8
    static final short OFF_NAME = (short) 12;         // 8
    static final short OFF_CURRENCY = (short) 20;     // 2
    static final short OFF_DECIMALS = (short) 22;
    static final short OFF_APP_ID = (short) 23;       // 8
    static final short OFF_MIN_TRANS = (short) 31;    // 4
    static final short OFF_MAX_TRANS = (short) 35;    // 4
    static final short OFF_BAD_KEY = (short) 39;
    static final short OFF_BAD_KEY_LIMIT = (short) 40;
    static final short OFF_TK_TRIES = (short) 41;
    static final short OFF_TK_SUITE = (short) 42;
    static final short OFF_ISSUER_ID = (short) 43;    // 3
    static final short OFF_NEXT_SERIAL = (short) 46;  // 5: nibble 0 unused, then 9 BCD digits
    static final short OFF_NEXT_ISSUER = (short) 51;  // 3
    static final short OFF_TXKEY_SET = (short) 54;
    static final short DATA_LEN = (short) 55;

    /** Read directly by the handlers (read-only use outside this class and Personalisation). */
    final byte[] data;
    private final Key tk;
    /** The secrets by reference number - 1: PIN, TXKEY, CREATION, APPROVAL. */
    private final OwnerPIN[] pins;
    /** Shared transient scratch (Purse.SCRATCH_LEN) for counter arithmetic (Issuer.allocateAccount). */
    final byte[] tmp;

    public Profile(CryptoSuite cs, byte[] tkBytes, short tkOff, byte tkLen, byte[] scratch) {
        data = new byte[DATA_LEN];
        byte tkSuite = tkLen == (byte) Constants.KEYLEN_TDES ? Constants.SUITE_TDES3 : Constants.SUITE_AES128;
        tk = cs.buildPersistentKey(tkSuite);
        cs.setKey(tk, tkBytes, tkOff);
        data[OFF_LIFE] = Constants.LIFE_BLANK;
        data[OFF_TK_SUITE] = tkSuite;
        data[OFF_TK_TRIES] = Constants.TK_TRIES;
        pins = new OwnerPIN[4];
        pins[0] = new OwnerPIN(Constants.PIN_TRIES, Constants.PIN_MAX);
        pins[1] = new OwnerPIN(Constants.TXKEY_TRIES, Constants.TXKEY_MAX);
        pins[2] = new OwnerPIN(Constants.SECRET_TRIES, Constants.SECRET_MAX);
        pins[3] = new OwnerPIN(Constants.SECRET_TRIES, Constants.SECRET_MAX);
        tmp = scratch;
    }

    public byte life() {
        return data[OFF_LIFE];
    }

    public byte suite() {
        return data[OFF_SUITE];
    }

    public byte role() {
        return data[OFF_ROLE];
    }

    public byte flags() {
        return data[OFF_FLAGS];
    }

    public byte tkSuite() {
        return data[OFF_TK_SUITE];
    }

    public boolean txkeySet() {
        return data[OFF_TXKEY_SET] != 0;
    }

    /** Read-only use outside this class and Personalisation. */
    public byte[] data() {
        return data;
    }

    /** Atomic copy into the profile (inside the personalisation transaction). */
    void set(short off, byte[] src, short srcOff, short len) {
        Util.arrayCopy(src, srcOff, data, off, len);
    }

    void setByte(short off, byte v) {
        data[off] = v;
    }

    public boolean isLocked() {
        return (short) (data[OFF_BAD_KEY] & 0xFF) >= (short) (data[OFF_BAD_KEY_LIMIT] & 0xFF);
    }

    /** Non-atomic on purpose: the count must survive the abort of whatever command failed. */
    public void badKeyIncrement() {
        short v = (short) (data[OFF_BAD_KEY] & 0xFF);
        if (v < (short) 255) {
            Util.arrayFillNonAtomic(data, OFF_BAD_KEY, (short) 1, (byte) (v + 1));
        }
    }

    /** A new SELECT starts a new holder session: no secret verified by an earlier program stays valid. */
    public void resetValidations() {
        for (short i = 0; i < (short) 4; i++) {
            pins[i].reset();
        }
    }

    /** The secret of ref (REF_PIN .. REF_APPROVAL, as callers check); null for CREATION and APPROVAL but on the center. */
    public OwnerPIN pin(byte ref) {
        if (ref > Constants.REF_TXKEY && data[OFF_ROLE] != Constants.ROLE_CENTER) {
            return null;
        }
        return pins[(short) (ref - 1)];
    }

    /**
     * FIG. 2 matrix (protocol.md 6.1), payer -> payee: center -> region; region -> center, branch;
     * branch -> region, user; user -> branch, user. Roles 1..4 only (center .. user): bit
     * 4 (payer - 1) + (payee - 1) of PAIRS.
     */
    public static boolean pairAllowed(byte payer, byte payee) {
        short x = (short) (payer - Constants.ROLE_CENTER);
        short y = (short) (payee - Constants.ROLE_CENTER);
        return (short) ((short) (x | y) & (short) ~3) == 0 && (short) ((short) (PAIRS >> (short) ((short) (x << 2) + y)) & 1) != 0;
    }

    /** Bits 1 (C->R), 4 (R->C), 6 (R->B), 9 (B->R), 11 (B->U), 14 (U->B), 15 (U->U). */
    private static final short PAIRS = (short) 0xCA52;

    public Key transportKey() {
        return tk;
    }

    public byte transportTries() {
        return data[OFF_TK_TRIES];
    }

    /** Counts one transport authentication attempt, outside any transaction; false if none left. */
    public boolean transportTry() {
        byte t = data[OFF_TK_TRIES];
        if (t <= 0) {
            return false;
        }
        Util.arrayFillNonAtomic(data, OFF_TK_TRIES, (short) 1, (byte) (t - 1));
        return true;
    }

    public void wipeTransport() {
        tk.clearKey();
        data[OFF_TK_TRIES] = (byte) 0;
    }
}
