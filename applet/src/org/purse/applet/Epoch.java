/*
 * purse: CENTER_ADVANCE, INS 80 (protocol.md 12.3, F6). The center opens a new key epoch: a fresh
 * RNG key numbered CURRENT + 1 replaces the oldest (archived on bank cards by Keys.addNewest), the
 * KEY_INFO date moves strictly forward, optionally a new INTEREST rate; BAD_KEY = 0 (the center has
 * no bank above it: the approval secret is what unlocks it).
 */
package org.purse.applet;

import javacard.framework.APDU;
import javacard.framework.ISO7816;
import javacard.framework.ISOException;
import javacard.framework.JCSystem;
import javacard.framework.OwnerPIN;
import javacard.framework.Util;

public final class Epoch {
    private static final short CD = ISO7816.OFFSET_CDATA;
    // work buffer layout
    private static final short W_KEY = (short) 0;    // 24: the new key value (wiped after use)
    private static final short W_DATE = (short) 24;  // 2: KEY_INFO date

    private final Purse p;
    private final CryptoSuite cs;
    private final Keys keys;
    private final Profile prof;
    private final BankFiles bank;
    private final Session s;

    public Epoch(Purse p, CryptoSuite cs, Keys keys, Profile prof, BankFiles bank, Session s) {
        this.p = p;
        this.cs = cs;
        this.keys = keys;
        this.prof = prof;
        this.bank = bank;
        this.s = s;
    }

    /** Unsigned day numbers: a > b. */
    static boolean after(byte[] a, short ao, byte[] b, short bo) {
        short x = Util.getShort(a, ao);
        short y = Util.getShort(b, bo);
        // flip the sign bit: unsigned order becomes signed order
        return (short) (x ^ (short) 0x8000) > (short) (y ^ (short) 0x8000);
    }

    /** 80: DATE | RATE_FLAG | RATE (7) -> CURRENT | DATE (3). */
    public short advance(APDU apdu) {
        Purse.p1p2(apdu, (byte) 0, (byte) 0);
        Purse.recv(apdu, Constants.ADVANCE_DATA_LEN);
        p.requireActive();
        p.requireRole(Constants.ROLE_CENTER);
        // no LOCKED gate (12.3)
        OwnerPIN approval = prof.pin(Constants.REF_APPROVAL);
        if (!approval.isValidated()) {
            ISOException.throwIt(Constants.SW_APPROVAL_REQUIRED);
        }
        byte[] b = apdu.getBuffer();
        byte flag = b[(short) (CD + Constants.ADV_RATE_FLAG)];
        if (flag != (byte) 0 && flag != (byte) 1) {
            ISOException.throwIt(Constants.SW_WRONG_DATA);
        }
        byte[] w = s.work();
        keys.getDate(w, W_DATE);
        if (!after(b, (short) (CD + Constants.ADV_DATE), w, W_DATE)) {
            ISOException.throwIt(Constants.SW_DATE_BACKWARDS);
        }
        short kl = CryptoSuite.keyLen(prof.suite());
        cs.random(w, W_KEY, kl);
        JCSystem.beginTransaction();
        keys.addNewest(w, W_KEY, b, (short) (CD + Constants.ADV_DATE));
        if (flag == (byte) 1) {
            bank.setRate(b, (short) (CD + Constants.ADV_RATE));
        }
        prof.setByte(Profile.OFF_BAD_KEY, (byte) 0);
        JCSystem.commitTransaction();
        Util.arrayFillNonAtomic(w, W_KEY, Constants.KEYLEN_MAX, (byte) 0);
        approval.reset(); // one approval per epoch
        b[0] = keys.current();
        keys.getDate(b, (short) 1);
        return Constants.ADVANCE_RESP_LEN;
    }
}
