/*
 * purse: the bank card's side of sync, INS 72, 76 (protocol.md 12.4-12.7): S1, then P5 and the
 * host's passbook digest -> P6 (interest debited, OUT = SYNC) or INVALIDATE. Center,
 * region and branch cards only: the user-card applet (applet/src-user) replaces this class with a
 * stub that answers 6D00. 7A (SACK / SNACK) is Transfer's payerAck, shared with 4A.
 */
package org.purse.applet;

import javacard.framework.APDU;
import javacard.framework.ISO7816;
import javacard.framework.ISOException;
import javacard.framework.JCSystem;
import javacard.framework.Util;

public final class BankSync {
    private static final short CD = ISO7816.OFFSET_CDATA;
    // work buffer layout: WorkMap (HS_*, SY_*), as Sync
    private static final short W_B1 = WorkMap.SY_B1;
    // 76 opens P5 at W_B1 and copies its commitment (P5_BALANCE .. the end) to SY_C, where the P6
    // built at W_B1 leaves it: W_P5 + P5_x addresses a commitment field there (only those, x >= 44)
    private static final short W_P5 = (short) (WorkMap.SY_C - Constants.P5_BALANCE);
    private static final short W_TMP = WorkMap.SY_TMP;

    private final Purse p;
    private final CryptoSuite cs;
    private final Keys keys;
    private final Profile prof;
    private final Balance bal;
    private final Passbook pb;
    private final Slots slots;
    private final Session s;
    private final BankFiles files;
    private final Handshake hs;

    public BankSync(Purse p, CryptoSuite cs, Keys keys, Profile prof, Balance bal, Passbook pb,
            Slots slots, Session s, BankFiles files, Handshake hs) {
        this.p = p;
        this.cs = cs;
        this.keys = keys;
        this.prof = prof;
        this.bal = bal;
        this.pb = pb;
        this.slots = slots;
        this.s = s;
        this.files = files;
        this.hs = hs;
    }

    // ------------------------------------------------------------------ bank-only parts of Keys and Slots

    /** Sync window of a bank card (12.3): ((CURRENT - n) mod 256) <= 3 + ARCH. */
    static boolean holdsSync(Keys keys, byte n) {
        byte[] info = keys.info;
        return (short) ((short) (info[Keys.I_CURRENT] - n) & 0xFF) <= (short) (Constants.KEY_WINDOW + info[Keys.I_ARCH]);
    }

    /**
     * Bank side of 12.3: Keys.choosePair within the sync window of a bank card, ((CURRENT - n) mod
     * 256) <= 3 + ARCH.
     */
    static short chooseSyncPair(Keys keys, byte peerOldest) {
        return keys.pair(peerOldest, (short) (Constants.KEY_WINDOW + keys.info[Keys.I_ARCH]));
    }

    /** P6 and I1: keys first .. first + n - 1 (each within the sync window), keyLen bytes each; returns n * keyLen. */
    static short exportKeys(CryptoSuite cs, Keys keys, byte first, short n, byte[] out, short off) {
        short o = off;
        for (short i = 0; i < n; i++) {
            o = (short) (o + cs.getKey(keys.get((byte) (first + i)), out, o));
        }
        return (short) (o - off);
    }

    /**
     * Bank at 76 (12.7 step 6): session fields (SID, I, card, randoms, k, date), the passbook
     * index pb the ring protects, and the P6 as sent into OUT, staged non-atomically (two writes)
     * while the state is NONE. 6985 without the bank packet store.
     */
    static void stageSyncOut(Slots slots, byte[] s, byte[] pkt, short pktOff, short len, short pb) {
        if (slots.outPkt == null || len > Constants.PKT_P6_MAX) {
            Purse.conditions();
        }
        slots.stageOut(s, pb, len);
        Util.arrayCopyNonAtomic(pkt, pktOff, slots.outPkt, (short) 0, len);
    }

    // ------------------------------------------------------------------ 72, 76, 7A: bank card

    /**
     * 72 (row SB): SUITE | m | RP | DATE -> S1; state W_P5. The operator's PIN (FIG. 5 block 501)
     * must be validated; it stays validated for further syncs in this card session (a bank terminal
     * serves many cards), except after an unblock (12.7 step 5).
     */
    public short bankInit(APDU apdu) {
        byte[] b = apdu.getBuffer();
        byte p1 = Purse.p1Of(apdu, Constants.SYNC_P1_PLAIN, Constants.SYNC_P1_UNBLOCK);
        Purse.recv(apdu, Constants.SYNC_INIT_BANK_LEN);
        p.requireMoney();
        if (!Admin.isBankRole(prof.role())) {
            Purse.wrongRole();
        }
        if (slots.outState() != Constants.SLOT_NONE) {
            ISOException.throwIt(Constants.SW_PENDING_OUT);
        }
        bal.check();
        if (p1 == Constants.SYNC_P1_UNBLOCK && prof.role() != Constants.ROLE_BRANCH) {
            Purse.wrongRole();
        }
        p.requirePin();
        if (b[CD] != prof.suite()) {
            ISOException.throwIt(Constants.SW_NO_COMMON_KEYS); // no BAD_KEY on the bank (12.3)
        }
        byte m = b[(short) (CD + 1)];
        short k = chooseSyncPair(keys, m);
        if (k < 0) {
            short behind = (short) ((short) (keys.current() - (byte) (m + 3)) & 0xFF);
            ISOException.throwIt(behind >= (short) 1 && behind <= (short) 127 ? Constants.SW_KEYS_TOO_OLD
                    : Constants.SW_NO_COMMON_KEYS);
        }
        s.reset();
        byte[] sb = s.buf;
        sb[Session.OFF_SYNC_P1] = p1;
        Util.arrayCopyNonAtomic(b, (short) (CD + 10), sb, Session.OFF_DATE, Constants.DATE_LEN);
        short len = hs.sealFirst(Constants.PT_S1, (byte) k, b, (short) (CD + 2), false, Constants.KS_SY);
        s.setState(Constants.SESSION_SYNC_BANK_W_P5);
        return len;
    }

    /** 76 (row SP + 12.7): P5 | D' -> P6 (interest debited, OUT = SYNC) or INVALIDATE (no change). */
    public short bankP5(APDU apdu) {
        byte[] sb = s.buf;
        byte[] w = s.work;
        hs.step(apdu, Constants.SESSION_SYNC_BANK_W_P5);
        // P5 is PKT_P5 long in both suites (openSecond checks it against BODY_P5 and the block)
        Purse.recv(apdu, (short) (Constants.PKT_P5 + Constants.MAC_LEN));
        p.requireMoney();
        byte[] b = apdu.getBuffer();
        // D', the host's digest of what it collected (12.5.3), right after P5
        Util.arrayCopyNonAtomic(b, (short) (CD + Constants.PKT_P5), sb, Session.OFF_DIGEST, Constants.MAC_LEN);
        byte[] d = prof.data;
        hs.openSecond(Constants.PT_P5, b, Constants.BODY_P5);
        if (!Sync.pairAllowed(prof.role(), sb[Session.OFF_PEER_ROLE])) {
            Purse.pairNotAllowed();
        }
        hs.accept();
        if (Util.arrayCompare(w, (short) (W_B1 + Constants.P5_BALANCE + Constants.BAL_CURRENCY), d,
                Profile.OFF_CURRENCY, Constants.CURRENCY_LEN) != 0) {
            p.badPacket();
        }
        Util.arrayCopyNonAtomic(w, (short) (W_B1 + Constants.P5_BALANCE), w, WorkMap.SY_C, Constants.P5_COMMIT_LEN);
        // the card's account, checked against its identity: in the session (P5's own is the same bytes)
        short acc = Session.OFF_PEER_ACCOUNT;
        // admin cards carry their own issuer id (1.1): outside any bank's range, synced by the center only
        if (sb[Session.OFF_PEER_ROLE] != Constants.ROLE_ADMIN && !files.inRange(sb, acc)) {
            ISOException.throwIt(Constants.SW_ACCOUNT_OUT_OF_RANGE);
        }
        if (files.find(sb, acc) >= 0) {
            // listed: INVALIDATE under K_S, no persistent change on the bank
            head(sb, w, d, Constants.CODE_INVALIDATE, Constants.INV_CARD_ACCOUNT);
            short len = hs.sealS(Constants.PT_INVALIDATE, W_B1, Constants.BODY_INVALIDATE, b, (short) 0);
            s.reset();
            return len;
        }
        // a card whose holder did not prove the PIN gets an unblock-only sync, or nothing
        if (w[(short) (W_P5 + Constants.P5_HOLDER)] != Constants.HOLDER_PROVEN
                && sb[Session.OFF_SYNC_P1] != Constants.SYNC_P1_UNBLOCK) {
            ISOException.throwIt(Constants.SW_PIN_REQUIRED);
        }
        bal.check();
        return buildP6(b, sb, w, d);
    }

    /**
     * The fields INVALIDATE and P6 share at W_B1: R2, APP, CODE (same offsets in both), the card's
     * account (P5's, in the session) at ca, the bank's own right after it.
     */
    private void head(byte[] sb, byte[] w, byte[] d, byte code, short ca) {
        ca = (short) (W_B1 + ca);
        Util.arrayCopyNonAtomic(sb, Session.OFF_R2, w, (short) (W_B1 + Constants.P6_R2), Constants.RANDOM_LEN);
        Util.arrayCopyNonAtomic(d, Profile.OFF_APP_ID, w, (short) (W_B1 + Constants.P6_APP), Constants.APP_ID_LEN);
        w[(short) (W_B1 + Constants.P6_CODE)] = code;
        Util.arrayCopyNonAtomic(sb, Session.OFF_PEER_ACCOUNT, w, ca, Constants.ACCOUNT_LEN);
        Util.arrayCopyNonAtomic(d, Profile.OFF_ACCOUNT, w, (short) (ca + Constants.ACCOUNT_LEN), Constants.ACCOUNT_LEN);
    }

    /** 12.7 steps 1-6 (after every check of row SP passed). */
    private short buildP6(byte[] b, byte[] sb, byte[] w, byte[] d) {
        short o = W_B1;
        // 1. privacy, CLEAR
        boolean priv = (sb[Session.OFF_PEER_FLAGS] & Constants.FLAG_PRIVATE) != 0;
        short n = (short) (w[(short) (W_P5 + Constants.P5_PB_COUNT)] & 0xFF);
        boolean proven = w[(short) (W_P5 + Constants.P5_HOLDER)] == Constants.HOLDER_PROVEN;
        // the counts are in the digested message: D' = D says the host holds exactly the card's items
        boolean clear = proven
                && CryptoSuite.equalsCT(sb, Session.OFF_DIGEST, w, (short) (W_P5 + Constants.P5_DIGEST),
                        Constants.MAC_LEN);
        // P6 header fields
        head(sb, w, d, Constants.CODE_SYNC_CREDIT, Constants.P6_CARD_ACCOUNT);
        Util.arrayFillNonAtomic(w, (short) (o + Constants.P6_DATE + 2), (short) 2, (byte) 0); // 23..24 reserved
        files.rate(w, (short) (o + Constants.P6_RATE));
        keys.getDate(w, (short) (o + Constants.P6_KEY_DATE)); // the bank's date
        short amt = (short) (o + Constants.P6_AMOUNT);
        short date = (short) (o + Constants.P6_DATE);
        short lid = (short) (W_P5 + Constants.P5_BALANCE + Constants.BAL_INTEREST_DATE);
        short cardAmt = (short) (W_P5 + Constants.P5_BALANCE + Constants.BAL_AMOUNT);
        // 2. days and I = floor(AMOUNT * RATE * days / 2^32)
        Util.arrayFillNonAtomic(w, amt, Constants.AMOUNT_LEN, (byte) 0);
        boolean later = Sync.before(w, lid, w, (short) (o + Constants.P6_KEY_DATE));
        boolean ok = true;
        if (later && !priv) { // private: no interest (I stays 0, not deferred)
            short days = (short) (Util.getShort(w, (short) (o + Constants.P6_KEY_DATE)) - Util.getShort(w, lid));
            ok = interest(w, cardAmt, w, (short) (o + Constants.P6_RATE), days, w, amt);
        }
        // 3. deferral / privacy; new date = max(bank date, LAST_INTEREST_DATE)
        byte flags = (byte) 0;
        if (!priv && (!proven || !ok || Money32.compare(w, amt, bal.record, Constants.BAL_AMOUNT) > 0
                || !Money32.addSub(w, cardAmt, w, amt, w, W_TMP, (short) 1)
                || (!clear && n >= Constants.PASSBOOK_ENTRIES))) {
            Util.arrayFillNonAtomic(w, amt, Constants.AMOUNT_LEN, (byte) 0);
            flags = Constants.P6F_DEFERRED;
        }
        Util.arrayCopyNonAtomic(w, flags != 0 || !later ? lid : (short) (o + Constants.P6_KEY_DATE), w, date,
                Constants.DATE_LEN);
        // 4. NK = bank CURRENT - card CURRENT if <= 6
        byte cardCur = w[(short) (W_P5 + Constants.P5_CURRENT)];
        short nk = (short) ((short) (keys.current() - cardCur) & 0xFF);
        if (nk > Constants.SYNC_KEYS_MAX) {
            nk = 0;
        }
        // 5. flags
        if (clear) {
            flags |= Constants.P6F_CLEAR;
        }
        boolean unblock = sb[Session.OFF_SYNC_P1] == Constants.SYNC_P1_UNBLOCK;
        if (unblock) {
            flags |= Constants.P6F_UNBLOCK;
        }
        w[(short) (o + Constants.P6_FLAGS)] = flags;
        w[(short) (o + Constants.P6_NK)] = (byte) nk;
        w[(short) (o + Constants.P6_FIRST)] = nk == 0 ? (byte) 0 : (byte) (cardCur + 1);
        short kl = exportKeys(cs, keys, (byte) (cardCur + 1), nk, w, (short) (o + Constants.P6_KEYS));
        // 6. seal P6, stage OUT, one transaction
        Util.arrayCopyNonAtomic(w, amt, sb, Session.OFF_AMOUNT, Constants.AMOUNT_LEN);
        short len = hs.sealS(Constants.PT_P6, o, (short) (Constants.BODY_P6_FIXED + kl), b, (short) 0);
        Util.arrayCopyNonAtomic(w, date, w, W_TMP, Constants.DATE_LEN); // entry date
        Util.arrayFillNonAtomic(w, o, (short) (Constants.P6_KEYS + kl), (byte) 0); // key bytes out of RAM
        if (unblock) {
            prof.pin(Constants.REF_PIN).reset();
        }
        boolean pay = !Money32.isZero(sb, Session.OFF_AMOUNT);
        if (pay) {
            Passbook.build(w, W_B1, sb, Session.OFF_R2, w, W_TMP, Constants.PB_TYPE_INTEREST_OUT, sb, Session.OFF_AMOUNT,
                    bal, (short) -1);
        }
        // the ring protects the INTEREST_OUT entry the transaction appends at nextIndex (a SNACK
        // refund marks it 06), or with nothing to protect the newest entry
        short prot = pb.nextIndex();
        if (!pay) {
            prot = (short) (prot - 1);
            if (prot < 0) {
                prot = (short) (prot + Constants.PASSBOOK_ENTRIES);
            }
        }
        stageSyncOut(slots, sb, b, (short) 0, len, prot);
        JCSystem.beginTransaction();
        if (pay) {
            bal.debit(sb, Session.OFF_AMOUNT);
            pb.append(w, o);
        }
        slots.open(slots.out, sb, Constants.SLOT_SYNC);
        JCSystem.commitTransaction();
        s.reset();
        return len;
    }

    /**
     * issue 4: out = floor(bal * rate * days / 2^32) (rate in 2^-32 per day, protocol.md 12.2);
     * false (out untouched) if the result exceeds 2^32 - 1. days is unsigned.
     * Column sums, short arithmetic only: term t = (i, j, l, h) is byte h of bal[i] * rate[j]
     * (byte 0 = least significant) times byte l of days, a 16-bit value at byte i + j + l + h.
     * Pass 0 only checks that bytes 8 and 9 of the product are zero; pass 1 writes bytes 4..7.
     */
    static boolean interest(byte[] bal, short bOff, byte[] rate, short rOff, short days, byte[] out, short outOff) {
        for (short pass = 0; pass < (short) 2; pass++) {
            short carry = (short) 0;
            for (short k = 0; k < (short) 10; k++) {
                short sum = carry;
                for (short t = 0; t < (short) 64; t++) {
                    // i = t >> 4 (bal byte), j = (t >> 2) & 3 (rate byte), l = (t >> 1) & 1 (days), h = t & 1
                    short e = (short) (k - (short) (t >> 4) - (short) ((short) (t >> 2) & 3)
                            - (short) ((short) (t >> 1) & 1) - (short) (t & 1)); // byte e of the term feeds byte k
                    if ((short) (e & (short) -2) == 0) {
                        short z = (short) (Money32.u(bal[(short) (bOff + 3 - (short) (t >> 4))])
                                * Money32.u(rate[(short) (rOff + 3 - (short) ((short) (t >> 2) & 3))]));
                        z = (short) ((short) ((short) (z >> (short) ((short) (t & 1) << 3)) & 0xFF)
                                * (short) ((short) (days >> (short) ((short) (t & 2) << 2)) & 0xFF));
                        sum = (short) (sum + (short) ((short) (z >> (short) (e << 3)) & 0xFF));
                    }
                }
                // at most 64 terms of <= 255 per byte: sum < 16 320 + carry
                if (k >= (short) 8 && (short) (sum & 0xFF) != 0) {
                    return false;
                }
                if (pass == (short) 1 && k >= (short) 4 && k < (short) 8) {
                    out[(short) (outOff + 7 - k)] = (byte) sum;
                }
                carry = (short) ((sum >> 8) & 0xFF);
            }
        }
        return true;
    }
}
