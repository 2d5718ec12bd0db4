/*
 * purse: the balance record and its integrity check (protocol.md 3, F20).
 * CHECK = MAC8_K(K_INT, AMOUNT|CURRENCY|DECIMALS|LAST_INTEREST_DATE|RATE|SERIAL | ACCOUNT), the
 * fixed-length CBC-MAC of CryptoSuite.mac8Fixed (one doFinal).
 * Every change is computed in a transient copy and written with one atomic arrayCopy.
 * The record and account last checked or sealed since selection are kept in RAM: while the stored
 * ones equal them byte for byte, check() compares instead of recomputing the same deterministic MAC.
 * A record rolled back by an aborted transaction, or altered in EEPROM, differs and is MACed again.
 */
package org.purse.applet;

import javacard.framework.ISOException;
import javacard.framework.Util;
import javacard.security.Key;

public final class Balance {
    private static final short MAC_IN = (short) 25;   // fields(17) | account(8)
    private static final short TMP_LEN = (short) 33;

    private final CryptoSuite cs;
    /** Read directly by the handlers (read-only). */
    final byte[] record;
    private Key kInt;
    private final byte[] account;
    private final short accOff;
    private final byte[] tmp;
    /**
     * Balance's own part of the shared scratch, past every other user's: the record last checked or
     * sealed | the account it was checked with | SEEN_OK (SEEN_N bytes; cleared at deselect: none).
     */
    static final short SEEN = Slots.OC_LEN;
    private static final short SEEN_N = (short) (Constants.BAL_RECORD_LEN + Constants.ACCOUNT_LEN + 1); // 34
    static final short SEEN_END = (short) (SEEN + SEEN_N);
    private static final byte SEEN_OK = (byte) 1;

    public Balance(CryptoSuite cs, byte[] account, short accOff, byte[] scratch) {
        this.cs = cs;
        this.account = account;
        this.accOff = accOff;
        record = new byte[Constants.BAL_RECORD_LEN];
        tmp = scratch; // [0, 34) shared with Profile and Slots within a call; [SEEN, SEEN_END) its own
    }

    /** Allocates K_INT once (outside the personalisation transaction, so a torn genesis can retry). */
    void allocate(byte suite) {
        if (kInt == null) {
            kInt = cs.buildInternalKey(suite);
        }
    }

    /** Inside the personalisation transaction: fresh K_INT, zero amount, serial 0. */
    public void init(byte[] currency, short cOff, byte decimals, byte[] date, short dOff) {
        cs.random(tmp, (short) 0, (short) 24);
        cs.setKey(kInt, tmp, (short) 0);
        Util.arrayFillNonAtomic(tmp, (short) 0, TMP_LEN, (byte) 0);
        Util.arrayCopyNonAtomic(currency, cOff, tmp, Constants.BAL_CURRENCY, Constants.CURRENCY_LEN);
        tmp[Constants.BAL_DECIMALS] = decimals;
        Util.arrayCopyNonAtomic(date, dOff, tmp, Constants.BAL_INTEREST_DATE, Constants.DATE_LEN);
        seal();
    }

    /** CHECK of the fields at tmp[0..17) and the account into tmp[BAL_CHECK] (the account bytes it covers). */
    private void tag() {
        Util.arrayCopyNonAtomic(account, accOff, tmp, Constants.BAL_FIELDS_LEN, Constants.ACCOUNT_LEN);
        cs.mac8Fixed(kInt, tmp, (short) 0, MAC_IN, tmp, Constants.BAL_CHECK);
    }

    /** tmp[0..17) holds the new fields: adds CHECK and writes the record in one atomic copy. */
    private void seal() {
        tag();
        Util.arrayCopy(tmp, (short) 0, record, (short) 0, Constants.BAL_RECORD_LEN);
        remember();
    }

    /** tmp = record | account | SEEN_OK, the bytes the remembered copy holds. */
    private void stage() {
        Util.arrayCopyNonAtomic(record, (short) 0, tmp, (short) 0, Constants.BAL_RECORD_LEN);
        Util.arrayCopyNonAtomic(account, accOff, tmp, Constants.BAL_RECORD_LEN, Constants.ACCOUNT_LEN);
        tmp[(short) (SEEN_N - 1)] = SEEN_OK;
    }

    private void remember() {
        stage();
        Util.arrayCopyNonAtomic(tmp, (short) 0, tmp, SEEN, SEEN_N);
    }

    /** 9D11 on a CHECK mismatch (or no K_INT): the card then refuses every money command. */
    public void check() {
        if (kInt == null) {
            ISOException.throwIt(Constants.SW_INTEGRITY);
        }
        stage(); // leaves the fields at tmp[0..17), as update() expects
        if (Util.arrayCompare(tmp, (short) 0, tmp, SEEN, SEEN_N) == 0) {
            return; // checked or sealed by this card since its selection, unchanged since
        }
        tag();
        if (!CryptoSuite.equalsCT(tmp, Constants.BAL_CHECK, record, Constants.BAL_CHECK, Constants.MAC_LEN)) {
            ISOException.throwIt(Constants.SW_INTEGRITY);
        }
        remember();
    }

    /**
     * Privacy pseudonym (12.9): SIG = MAC8_K(K_INT, 50 | ACCOUNT | TID) with its first nibble forced
     * to F (never valid BCD, never an account). Padded to the same 32 bytes as the 25-byte check, the
     * 15-byte input never equals one: its pad byte 80 is at 15, the check's at 25.
     */
    public void sig(byte[] tid, short tOff, byte[] out, short o) {
        if (kInt == null) {
            Purse.conditions();
        }
        tmp[0] = Constants.SIG_TAG;
        Util.arrayCopyNonAtomic(account, accOff, tmp, (short) 1, Constants.ACCOUNT_LEN);
        Util.arrayCopyNonAtomic(tid, tOff, tmp, (short) 9, Constants.TID_LEN);
        cs.mac8Fixed(kInt, tmp, (short) 0, (short) 15, tmp, (short) 16);
        tmp[(short) 16] = (byte) (Constants.SIG_NIBBLE | (tmp[(short) 16] & 0x0F));
        Util.arrayCopyNonAtomic(tmp, (short) 16, out, o, Constants.ACCOUNT_LEN);
    }

    /** AMOUNT + sign * amt into out[o] (sign 1 or -1); false, out untouched, on overflow / underflow. */
    boolean plus(byte[] amt, short off, short sign, byte[] out, short o) {
        return Money32.addSub(record, Constants.BAL_AMOUNT, amt, off, out, o, sign);
    }

    public boolean canCredit(byte[] amt, short off) {
        return plus(amt, off, (short) 1, tmp, (short) 0);
    }

    public boolean canDebit(byte[] amt, short off) {
        return plus(amt, off, (short) -1, tmp, (short) 0);
    }

    /** Inside the caller's transaction: amount + amt, SERIAL + 1, CHECK; 9D06 on overflow. */
    public void credit(byte[] amt, short off) {
        update(amt, off, false);
        seal();
    }

    /**
     * check(), which leaves the record's fields in tmp; then amount -/+ amt there (9D05 / 9D06)
     * and SERIAL + 1.
     */
    private void update(byte[] amt, short off, boolean debit) {
        check();
        if (!plus(amt, off, debit ? (short) -1 : (short) 1, tmp, Constants.BAL_AMOUNT)) {
            ISOException.throwIt(debit ? Constants.SW_INSUFFICIENT_FUNDS : Constants.SW_OVERFLOW);
        }
        Money32.increment(tmp, Constants.BAL_SERIAL);
    }

    /**
     * issue 4 sync (12.7, card at 78), inside the caller's transaction: amount + amt, new
     * LAST_INTEREST_DATE, RATE, SERIAL + 1, CHECK; 9D06 on overflow.
     */
    public void syncCredit(byte[] amt, short off, byte[] date, short dOff, byte[] rate, short rOff) {
        update(amt, off, false);
        Util.arrayCopyNonAtomic(date, dOff, tmp, Constants.BAL_INTEREST_DATE, Constants.DATE_LEN);
        Util.arrayCopyNonAtomic(rate, rOff, tmp, Constants.BAL_RATE, Constants.RATE_LEN);
        seal();
    }

    /** Inside the caller's transaction: amount - amt, SERIAL + 1, CHECK; 9D05 on underflow. */
    public void debit(byte[] amt, short off) {
        update(amt, off, true);
        seal();
    }
}
