/*
 * purse: the four application keys and KEY_INFO (docs/protocol.md 3, 3.2, 12.2).
 * Key number n lives in logical slot n & 3, mapped to one of 5 persistent key objects by
 * MAP[0..3]; MAP[4] names the spare used for tear-safe replacement (issue 4).
 */
package org.purse.applet;

import javacard.framework.ISOException;
import javacard.framework.JCSystem;
import javacard.framework.Util;
import javacard.security.Key;

public final class Keys {

    private static final short PHYSICAL = (short) 5;
    private static final short SPARE = (short) 4;
    // info: CURRENT(1) | DATE(2)
    private static final short I_CURRENT = (short) 0;
    private static final short I_DATE = (short) 1;

    private final CryptoSuite cs;
    private final Key[] objs;
    private final byte[] map;
    private final byte[] info;

    public Keys(CryptoSuite cs) {
        this.cs = cs;
        objs = new Key[PHYSICAL];
        map = new byte[PHYSICAL];
        for (short i = 0; i < PHYSICAL; i++) {
            map[i] = (byte) i;
        }
        info = new byte[3];
    }

    /** Key object of number n; 6985 if the keys were never allocated (blank card). */
    private Key obj(byte n) {
        Key k = objs[map[(short) (n & 3)]];
        if (k == null) {
            ISOException.throwIt(Constants.SW_CONDITIONS);
        }
        return k;
    }

    /** Once, at personalisation: 5 persistent key objects of the suite. */
    public void allocate(byte suite) {
        if (objs[0] != null) {
            return;
        }
        for (short i = 0; i < PHYSICAL; i++) {
            objs[i] = cs.buildPersistentKey(suite);
        }
    }

    /** Genesis: RNG keys first..first+3, CURRENT = first + 3, KEY_INFO date (caller's transaction). */
    public void generate(byte first, byte[] date, short dOff) {
        for (short d = 0; d < Constants.NUM_APPKEYS; d++) {
            cs.randomKey(obj((byte) (first + d)));
        }
        info[I_CURRENT] = (byte) (first + 3);
        Util.arrayCopy(date, dOff, info, I_DATE, Constants.DATE_LEN);
    }

    /** I1: keys current-3 .. current (oldest first, keyLen bytes each) and the KEY_INFO date. */
    public void install(byte current, byte[] keys, short keysOff, byte[] date, short dOff) {
        short kl = CryptoSuite.keyLen(CryptoSuite.suiteOf(obj((byte) 0)));
        for (short d = 0; d < Constants.NUM_APPKEYS; d++) {
            byte n = (byte) (current - 3 + d);
            cs.setKey(obj(n), keys, (short) (keysOff + (short) (d * kl)));
        }
        info[I_CURRENT] = current;
        Util.arrayCopy(date, dOff, info, I_DATE, Constants.DATE_LEN);
    }

    /** I1: the 4 keys oldest first, then the KEY_INFO date; returns 4 * keyLen + 2. */
    public short export(byte[] out, short off) {
        short o = off;
        byte c = info[I_CURRENT];
        for (short d = 0; d < Constants.NUM_APPKEYS; d++) {
            byte n = (byte) (c - 3 + d);
            o = (short) (o + cs.getKey(obj(n), out, o));
        }
        o = Util.arrayCopyNonAtomic(info, I_DATE, out, o, Constants.DATE_LEN);
        return (short) (o - off);
    }

    public byte current() {
        return info[I_CURRENT];
    }

    /** current - 3 (mod 256). */
    public byte oldest() {
        return (byte) (info[I_CURRENT] - Constants.KEY_WINDOW);
    }

    /** ((current - n) mod 256) <= 3. */
    public boolean holds(byte n) {
        return (short) ((short) (info[I_CURRENT] - n) & 0xFF) <= Constants.KEY_WINDOW;
    }

    /** Payer side of protocol.md 3.2: k = m + d for d = 2, 1, 0 with holds(k), holds(k+1); -1 if none. */
    public short choosePair(byte peerOldest) {
        for (short d = (short) 2; d >= 0; d--) {
            byte k = (byte) (peerOldest + d);
            if (holds(k) && holds((byte) (k + 1))) {
                return (short) (k & 0xFF);
            }
        }
        return (short) -1;
    }

    /** The key object of number n (the caller checked holds(n)). */
    public Key get(byte n) {
        return obj(n);
    }

    public void getDate(byte[] out, short off) {
        Util.arrayCopyNonAtomic(info, I_DATE, out, off, Constants.DATE_LEN);
    }

    /**
     * issue 4: new key numbered current + 1. The value goes into the spare object first
     * (non-transactional, unreferenced; call this before opening the transaction if possible), then
     * MAP[(current + 1) & 3] = spare, spare = replaced object, CURRENT + 1, date -- inside the
     * caller's transaction, or inside one of its own if none is open.
     */
    public void addNewest(byte[] key, short off, byte[] date, short dOff) {
        byte spare = map[SPARE];
        if (objs[spare] == null) {
            ISOException.throwIt(Constants.SW_CONDITIONS);
        }
        cs.setKey(objs[spare], key, off);
        boolean own = JCSystem.getTransactionDepth() == 0;
        if (own) {
            JCSystem.beginTransaction();
        }
        byte n = (byte) (info[I_CURRENT] + 1);
        short slot = (short) (n & 3);
        map[SPARE] = map[slot];
        map[slot] = spare;
        info[I_CURRENT] = n;
        Util.arrayCopy(date, dOff, info, I_DATE, Constants.DATE_LEN);
        if (own) {
            JCSystem.commitTransaction();
        }
    }
}
