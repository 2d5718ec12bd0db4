/*
 * purse: the four application keys and KEY_INFO (docs/protocol.md 3, 3.2, 12.2).
 * Key number n lives in logical slot n & 3, mapped to one of 5 persistent key objects by
 * MAP[0..3]; MAP[4] names the spare used for tear-safe replacement (issue 4).
 * Bank cards (center, region, branch) allocate 9 objects: MAP[5..8] is the key archive (number n in
 * archive slot n & 3 for n = CURRENT-7 .. CURRENT-4), ARCH = number of valid archive keys (12.3).
 */
package org.purse.applet;

import javacard.framework.JCSystem;
import javacard.framework.Util;
import javacard.security.Key;

public final class Keys {

    static final short PHYSICAL = (short) 5;
    static final short PHYSICAL_BANK = (short) 9;
    static final short SPARE = (short) 4;
    static final short ARCHIVE = (short) 5;
    // info: CURRENT(1) | DATE(2) | ARCH(1)
    static final short I_CURRENT = (short) 0;
    private static final short I_DATE = (short) 1;
    static final short I_ARCH = (short) 3;

    private final CryptoSuite cs;
    final Key[] objs;
    final byte[] map; // MAP; the archive's part of a key roll: Issuer.archive
    final byte[] info; // ARCH, the sync window and the key export: BankSync (bank roles)

    public Keys(CryptoSuite cs) {
        this.cs = cs;
        // references only: the key objects themselves are built at personalisation (allocate)
        objs = new Key[PHYSICAL_BANK];
        map = new byte[PHYSICAL_BANK];
        for (short i = 0; i < PHYSICAL_BANK; i++) {
            map[i] = (byte) i;
        }
        info = new byte[4];
    }

    /**
     * Key object of number n (the caller checked holds(n) or the sync window): active slot if (CURRENT - n) mod 256 <= 3, else archive slot
     * (bank cards); 6985 if that object was never allocated.
     */
    public Key get(byte n) {
        short d = (short) ((short) (info[I_CURRENT] - n) & 0xFF);
        short slot = (short) (n & 3);
        if (d > Constants.KEY_WINDOW && d <= (short) (Constants.KEY_WINDOW + Constants.KEY_ARCHIVE)) {
            slot = (short) (ARCHIVE + slot);
        }
        return at(slot);
    }

    /** Active-slot object of number n (personalisation: CURRENT not yet meaningful). */
    private Key objActive(byte n) {
        return at((short) (n & 3));
    }

    /** The object of logical slot (MAP); 6985 if never allocated. */
    private Key at(short slot) {
        Key k = objs[map[slot]];
        if (k == null) {
            Purse.conditions();
        }
        return k;
    }

    /**
     * Once, at personalisation (outside the personalisation transaction, so a torn one can retry):
     * the first n persistent key objects of the suite; n = 5, then 9 on bank cards (center, region,
     * branch: Issuer.allocate).
     */
    void allocate(byte suite, short n) {
        for (short i = 0; i < n; i++) {
            if (objs[i] == null) {
                objs[i] = cs.buildPersistentKey(suite);
            }
        }
    }

    /**
     * I1: keys current-3 .. current (oldest first, keyLen bytes each; RNG keys if keys is null: genesis,
     * Issuer.genesisKeys) and the KEY_INFO date.
     */
    public void install(byte current, byte[] keys, short keysOff, byte[] date, short dOff) {
        short kl = CryptoSuite.keyLen(CryptoSuite.suiteOf(objActive((byte) 0)));
        for (short d = 0; d < Constants.NUM_APPKEYS; d++) {
            Key k = objActive((byte) (current - 3 + d));
            if (keys == null) {
                cs.randomKey(k);
            } else {
                cs.setKey(k, keys, (short) (keysOff + (short) (d * kl)));
            }
        }
        info[I_CURRENT] = current;
        Util.arrayCopy(date, dOff, info, I_DATE, Constants.DATE_LEN);
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
        return pair(peerOldest, Constants.KEY_WINDOW);
    }

    /** k = m + d for d = 2, 1, 0 with k and k + 1 both within (CURRENT - n) mod 256 <= window; -1 if none. */
    short pair(byte peerOldest, short window) {
        for (short d = (short) 2; d >= 0; d--) {
            short k = (short) ((short) (peerOldest + d) & 0xFF);
            short age = (short) ((short) (info[I_CURRENT] - k) & 0xFF);
            if (age >= (short) 1 && age <= window) {
                return k; // k + 1 is one younger, age - 1 >= 0
            }
        }
        return (short) -1;
    }

    public void getDate(byte[] out, short off) {
        Util.arrayCopyNonAtomic(info, I_DATE, out, off, Constants.DATE_LEN);
    }

    /**
     * issue 4: new key numbered j = current + 1. The value goes into the spare object first
     * (non-transactional, unreferenced; call this before opening the transaction if possible), then
     * MAP[j & 3] = spare, spare = replaced object, CURRENT + 1, date -- inside the caller's
     * transaction, or inside one of its own if none is open. Bank cards archive the replaced key
     * (number j - 4) in archive slot j & 3 and make the dropped archive key (j - 8) the spare;
     * ARCH = min(ARCH + 1, 4) (12.3).
     */
    public void addNewest(byte[] key, short off, byte[] date, short dOff) {
        byte spare = map[SPARE];
        cs.setKey(at(SPARE), key, off);
        boolean own = JCSystem.getTransactionDepth() == 0;
        if (own) {
            JCSystem.beginTransaction();
        }
        byte n = (byte) (info[I_CURRENT] + 1);
        short slot = (short) (n & 3);
        if (!Issuer.archive(this, slot)) {
            map[SPARE] = map[slot];
        }
        map[slot] = spare;
        info[I_CURRENT] = n;
        Util.arrayCopy(date, dOff, info, I_DATE, Constants.DATE_LEN);
        if (own) {
            JCSystem.commitTransaction();
        }
    }
}
