/*
 * purse: bank sync, INS 70-7E (protocol.md 12.4-12.7, 12.11). The FIG. 5 flow between a card and
 * the bank card above it, every packet under the session's one key K_S: S1, P5 (the card's
 * identity, its state and passbook digest) and P6 (interest, date, rate, missing keys, CLEAR, UNBLOCK)
 * or INVALIDATE, then SACK/SNACK.
 * Value moves like a transfer: the bank debits the interest first (OUT = SYNC, P6 stored), the card
 * credits it on P6 (IN = SYNC consumed), a SNACK refunds the bank. This class is the synced card's
 * side (70, 74, 78, 7E); the bank card's (72, 76) is BankSync, which the user-card applet
 * stubs (applet/src-user).
 */
package org.purse.applet;

import javacard.framework.APDU;
import javacard.framework.ISO7816;
import javacard.framework.ISOException;
import javacard.framework.JCSystem;
import javacard.framework.OwnerPIN;
import javacard.framework.Util;
import javacard.security.MessageDigest;

public final class Sync {
    private static final short CD = ISO7816.OFFSET_CDATA;
    // work buffer layout: WorkMap (HS_*, SY_*), with the reuse of the handshake's KDF context
    private static final short W_B1 = WorkMap.SY_B1;
    private static final short W_I = WorkMap.SY_I;
    private static final short W_I_DATE = WorkMap.SY_I_DATE;
    private static final short W_I_RATE = WorkMap.SY_I_RATE;
    private static final short W_I_FLAGS = WorkMap.SY_I_FLAGS;
    private static final short W_I_NK = WorkMap.SY_I_NK;
    private static final short W_I_KDATE = WorkMap.SY_I_KDATE;
    private static final short W_SHORT = WorkMap.SY_SHORT;
    private static final short W_TMP = WorkMap.SY_TMP;

    private final Purse p;
    private final CryptoSuite cs;
    private final Keys keys;
    private final Profile prof;
    private final Balance bal;
    private final Passbook pb;
    private final Slots slots;
    private final Session s;
    private final Handshake hs;

    public Sync(Purse p, CryptoSuite cs, Keys keys, Profile prof, Balance bal, Passbook pb, Slots slots,
            Session s, Handshake hs) {
        this.p = p;
        this.cs = cs;
        this.keys = keys;
        this.prof = prof;
        this.bal = bal;
        this.pb = pb;
        this.slots = slots;
        this.s = s;
        this.hs = hs;
    }

    // ------------------------------------------------------------------ helpers

    /** Sync pairs (12, bank -> synced card): center -> region / admin, region -> branch, branch -> user. */
    static boolean pairAllowed(byte bank, byte card) {
        switch (bank) {
            case Constants.ROLE_CENTER:
                return card == Constants.ROLE_REGION || card == Constants.ROLE_ADMIN;
            case Constants.ROLE_REGION:
                return card == Constants.ROLE_BRANCH;
            case Constants.ROLE_BRANCH:
                return card == Constants.ROLE_USER;
            default:
                return false;
        }
    }

    /** Date a before date b (unsigned 16-bit compare). */
    static boolean before(byte[] a, short ao, byte[] b, short bo) {
        return (short) (Util.getShort(a, ao) ^ (short) 0x8000) < (short) (Util.getShort(b, bo) ^ (short) 0x8000);
    }

    // ------------------------------------------------------------------ 70, 74, 78, 7E: synced card

    /**
     * 70 (row SC): DATE -> SUITE | oldest key number | RP; state W_S1. P1 00 needs the holder's PIN
     * validated (FIG. 5 block 502); P1 01 (PIN unblock at a branch) does not: the card then tells the
     * bank in P5 that its holder is not proven, and the bank does no more than an unblock (12.7).
     */
    public short cardInit(APDU apdu) {
        byte p1 = Purse.p1Of(apdu, Constants.SYNC_P1_PLAIN, Constants.SYNC_P1_UNBLOCK);
        Purse.recv(apdu, Constants.SYNC_INIT_CARD_LEN);
        p.requireActive(); // no LOCKED gate: a locked card must be able to sync
        if (prof.role() == Constants.ROLE_CENTER) {
            Purse.pairNotAllowed();
        }
        if (slots.outState() != Constants.SLOT_NONE) {
            ISOException.throwIt(Constants.SW_PENDING_OUT);
        }
        if (slots.inState() != Constants.SLOT_NONE) {
            ISOException.throwIt(Constants.SW_PAYEE_EXPECTING);
        }
        bal.check();
        if (p1 == Constants.SYNC_P1_PLAIN) {
            p.requirePin();
        }
        byte[] b = apdu.getBuffer();
        s.reset();
        Util.arrayCopyNonAtomic(b, CD, s.buf, Session.OFF_DATE, Constants.DATE_LEN);
        return hs.offer(b, Constants.SESSION_SYNC_CARD_W_S1);
    }

    /**
     * 74 (row S1): P1 00, the whole step: S1 -> P5, persists IN = SYNC (one transaction).
     * P1 01, its first half: S1 -> nothing (R2 and the digest); state W_P5. P1 02, its second
     * half (no data, only in W_P5): P5, persists IN = SYNC. The host sends the whole step
     * (~215 ms at most on a J3H145, docs/benchmarks.md); the halves are for slower chips. Between the halves no
     * command can change what P5 reports: OUT and IN are none (70), and every command that writes
     * the balance, the passbook or the exceptions needs a slot in use or its own session state.
     */
    public short cardS1(APDU apdu) {
        byte[] w = s.work;
        byte[] sb = s.buf;
        byte[] b = apdu.getBuffer();
        byte p1 = b[ISO7816.OFFSET_P1];
        // S1_WHOLE 00, S1_DIGEST 01, S1_P5 02
        if (b[ISO7816.OFFSET_P2] != 0 || (short) (p1 & 0xFF) > Constants.S1_P5) {
            Purse.wrongP1P2();
        }
        if (p1 == Constants.S1_P5) {
            // no command data: never receive (on T=0, P3 is Le here)
            hs.inState(Constants.SESSION_SYNC_CARD_W_P5);
            return cardP5(b, w, sb);
        }
        hs.inState(Constants.SESSION_SYNC_CARD_W_S1);
        short pktLen = Packets.packetLen(Constants.BODY_P1, hs.blk());
        Purse.recv(apdu, pktLen);
        slots.refuseSettled(b, (short) (CD + Constants.HDR_OFF_SID)); // one outcome per SID
        hs.openFirst(Constants.PT_S1, b, pktLen, Constants.KS_SY);
        if (!pairAllowed(sb[Session.OFF_PEER_ROLE], prof.role())) {
            Purse.pairNotAllowed();
        }
        // R1, R2 now (K_S came with S1)
        hs.randoms();
        // digest D over what the host collects (12.5.3); private: exceptions only. D stays 00 x 8
        // (the session was reset at 70) when there is nothing to collect
        boolean priv = (prof.flags() & Constants.FLAG_PRIVATE) != 0;
        short x = slots.exceptionCount();
        short fn = priv ? (short) 0 : pb.count();
        if ((short) (fn + x) != 0) {
            MessageDigest md = cs.sha;
            // no reset(): a doFinal ends every use, and a tear resets a MessageDigest (JC 3.0.4 API)
            if (!priv) {
                pb.digest(md);
            }
            // the tail through the APDU buffer (S1 in it is spent): exceptions | N' | X' | 7C | SID
            short t = slots.readExceptions(b, (short) 0);
            b[t] = (byte) fn;
            b[(short) (t + 1)] = (byte) x;
            b[(short) (t + 2)] = Constants.DIGEST_TAG;
            Util.arrayCopyNonAtomic(sb, Session.OFF_TID, b, (short) (t + 3), Constants.SID_LEN);
            md.doFinal(b, (short) 0, (short) (t + 3 + Constants.SID_LEN), b, (short) 0);
            Util.arrayCopyNonAtomic(b, (short) 0, sb, Session.OFF_DIGEST, Constants.MAC_LEN);
        }
        if (p1 == Constants.S1_DIGEST) {
            s.setState(Constants.SESSION_SYNC_CARD_W_P5);
            return (short) 0;
        }
        return cardP5(b, w, sb);
    }

    /**
     * 74's P5 into b[0]: its own identity and R2 (the P2 layout), then the commitment from the
     * session (D) and the card's state; then the IN slot (one transaction). Returns the P5
     * length. The session ends.
     */
    private short cardP5(byte[] b, byte[] w, byte[] sb) {
        byte[] d = prof.data;
        Util.arrayCopyNonAtomic(bal.record, (short) 0, w, (short) (W_B1 + Constants.P5_BALANCE),
                Constants.BAL_FIELDS_LEN);
        w[(short) (W_B1 + Constants.P5_CURRENT)] = keys.current();
        w[(short) (W_B1 + Constants.P5_PB_COUNT)] = (byte) pb.count();
        w[(short) (W_B1 + Constants.P5_EXC_COUNT)] = (byte) slots.exceptionCount();
        Util.arrayCopyNonAtomic(sb, Session.OFF_DIGEST, w, (short) (W_B1 + Constants.P5_DIGEST), Constants.MAC_LEN);
        w[(short) (W_B1 + Constants.P5_BAD_KEY)] = d[Profile.OFF_BAD_KEY];
        // the holder's proof, under K_S: the bank clears and pays only a proven holder (12.7)
        w[(short) (W_B1 + Constants.P5_HOLDER)] = prof.pin(Constants.REF_PIN).isValidated() ? Constants.HOLDER_PROVEN
                : (byte) 0;
        short len = hs.sealSecond(Constants.PT_P5, sb[Session.OFF_K], b, false, Constants.BODY_P5);
        // IN slot: SID, amount 0, bank account/name, R1, R2, k, own date, K_S
        Util.arrayFillNonAtomic(sb, Session.OFF_AMOUNT, Constants.AMOUNT_LEN, (byte) 0);
        slots.persistIn(sb, Constants.SLOT_SYNC);
        s.reset();
        return len;
    }

    /** 78 (row C6): P6 -> SACK | STATUS (keys, credit, CLEAR, BAD_KEY = 0); or INVALIDATE -> LIFE 7F. */
    public short cardP6(APDU apdu) {
        // the most used locals first (the low local slots have the short load forms)
        byte[] w = s.work;
        byte[] in = slots.in;
        Purse.p00(apdu);
        short pktLen = Purse.recvUpTo(apdu, Constants.PKT_P6_MAX);
        short blk = hs.blk();
        short kl = CryptoSuite.keyLen(prof.suite());
        // NK of a P6 from its length (the padded body length is unique per NK: the smallest that fits), or -1
        // and its body length (-1: no P6 is that long)
        short nk = -1;
        short bodyLen = -1;
        for (short t = Constants.SYNC_KEYS_MAX; t >= 0; t--) {
            short l = (short) (Constants.BODY_P6_FIXED + (short) (t * kl));
            if (Packets.packetLen(l, blk) == pktLen) {
                nk = t;
                bodyLen = l;
            }
        }
        if (pktLen != Packets.packetLen(Constants.BODY_INVALIDATE, blk) && nk < 0) {
            Purse.wrongLength();
        }
        p.requireActive(); // no LOCKED gate
        byte[] b = apdu.getBuffer();
        byte type = b[(short) (CD + Constants.HDR_OFF_TYPE)];
        if (type != Constants.PT_P6 && type != Constants.PT_INVALIDATE) {
            p.badPacket();
        }
        slots.requireIn(Constants.SLOT_SYNC, b);
        boolean inv = type == Constants.PT_INVALIDATE;
        if (inv) {
            bodyLen = Constants.BODY_INVALIDATE;
        }
        // both bodies: R2, APP, CODE at the same offsets, the bank account right after the card's
        short acc = (short) (W_B1 + (inv ? Constants.INV_CARD_ACCOUNT : Constants.P6_CARD_ACCOUNT));
        if (!hs.openSlot(type, in, b, pktLen, bodyLen, W_B1)
                || Util.arrayCompare(w, W_B1, in, Slots.S_R2, Constants.RANDOM_LEN) != 0
                || !hs.appIdOk(w, (short) (W_B1 + Constants.P6_APP))
                || w[(short) (W_B1 + Constants.P6_CODE)] != (inv ? Constants.CODE_INVALIDATE
                        : Constants.CODE_SYNC_CREDIT)
                || Util.arrayCompare(w, acc, prof.data, Profile.OFF_ACCOUNT, Constants.ACCOUNT_LEN) != 0
                || Util.arrayCompare(w, (short) (acc + Constants.ACCOUNT_LEN), in, Slots.S_ACCOUNT,
                        Constants.ACCOUNT_LEN) != 0) {
            p.badPacket();
        }
        if (inv) {
            JCSystem.beginTransaction();
            prof.setByte(Profile.OFF_LIFE, Constants.LIFE_INVALIDATED);
            slots.close(slots.in);
            return (short) 0;
        }
        byte flags = w[(short) (W_B1 + Constants.P6_FLAGS)];
        byte first = w[(short) (W_B1 + Constants.P6_FIRST)];
        if (w[(short) (W_B1 + Constants.P6_NK)] != (byte) nk || (flags & (byte) 0xF8) != 0) {
            p.badPacket();
        }
        // keys: j = CURRENT + 1 installs; a number at or below CURRENT (a torn earlier attempt installed it) skips
        byte cur = keys.current();
        for (short t = 0; t < nk; t++) {
            byte j = (byte) (first + t);
            if (j == (byte) (cur + 1)) {
                cur = j;
            } else if ((short) ((short) (cur - j) & 0xFF) > Constants.SYNC_KEYS_MAX) {
                p.badPacket();
            }
        }
        // dates only move forward
        bal.check();
        byte[] r = bal.record;
        keys.getDate(w, W_TMP);
        if (before(w, (short) (W_B1 + Constants.P6_DATE), r, Constants.BAL_INTEREST_DATE)
                || (nk > 0 && before(w, (short) (W_B1 + Constants.P6_KEY_DATE), w, W_TMP))) {
            ISOException.throwIt(Constants.SW_DATE_BACKWARDS);
        }
        short amt = (short) (W_B1 + Constants.P6_AMOUNT);
        if (!bal.canCredit(w, amt)) {
            ISOException.throwIt(Constants.SW_OVERFLOW);
        }
        boolean clear = (flags & Constants.P6F_CLEAR) != 0;
        boolean pay = !Money32.isZero(w, amt);
        if (pay && !clear && pb.free(false) < (short) 1) {
            ISOException.throwIt(Constants.SW_PASSBOOK_FULL);
        }
        // keep the scalars, then install the missing keys (one transaction each: keys are not value)
        Util.arrayCopyNonAtomic(w, amt, w, W_I, (short) 6); // I | DATE (23..24 reserved)
        Util.arrayCopyNonAtomic(w, (short) (W_B1 + Constants.P6_RATE), w, W_I_RATE, Constants.RATE_LEN);
        w[W_I_FLAGS] = flags;
        w[W_I_NK] = (byte) nk;
        Util.arrayCopyNonAtomic(w, (short) (W_B1 + Constants.P6_KEY_DATE), w, W_I_KDATE, Constants.DATE_LEN);
        for (short t = 0; t < nk; t++) {
            byte j = (byte) (first + t);
            if (j == (byte) (keys.current() + 1)) {
                keys.addNewest(w, (short) (W_B1 + Constants.P6_KEYS + (short) (t * kl)), w, W_I_KDATE);
            }
        }
        Util.arrayFillNonAtomic(w, W_B1, (short) (Constants.P6_KEYS + (short) (nk * kl)), (byte) 0);
        // SACK into the APDU buffer, INTEREST_IN entry (card stores R1)
        hs.shortBody(W_SHORT, in, Slots.S_R1, Constants.CODE_SACK, w, W_I, prof.data, Profile.OFF_ACCOUNT, in,
                Slots.S_DATE);
        short len = hs.sealSlot(Constants.PT_SACK, in, W_SHORT, b, (short) 0);
        if (pay) {
            Passbook.build(w, W_B1, in, Slots.S_R1, w, W_I_DATE, Constants.PB_TYPE_INTEREST_IN, w, W_I, bal, (short) 1);
        }
        JCSystem.beginTransaction();
        bal.syncCredit(w, W_I, w, W_I_DATE, w, W_I_RATE);
        if (clear) {
            pb.clear();
            slots.clearExceptions();
        }
        if (pay) {
            pb.append(w, W_B1);
        }
        Passbook.zero(prof.data, Profile.OFF_BAD_KEY);
        slots.settleIn(Constants.OUTCOME_ACK, b);
        s.reset();
        prof.pin(Constants.REF_PIN).reset(); // the holder's PIN entry served this sync only
        if ((w[W_I_FLAGS] & Constants.P6F_UNBLOCK) != 0) {
            s.buf[Session.OFF_UNBLOCK_OK] = (byte) 1;
        }
        // SACK | the STATUS after it (4.3): the host needs no GET_STATUS to report the sync
        p.writeStatus(w);
        return Util.arrayCopyNonAtomic(w, (short) 0, b, len, Constants.STATUS_LEN);
    }

    /** 7E (row U): new PIN (P2 01) or TXKEY (P2 02) right after a P6 with UNBLOCK; one transaction. */
    public short unblock(APDU apdu) {
        byte[] b = apdu.getBuffer();
        byte ref = b[ISO7816.OFFSET_P2];
        if (b[ISO7816.OFFSET_P1] != 0 || (ref != Constants.REF_PIN && ref != Constants.REF_TXKEY)) {
            Purse.wrongP1P2();
        }
        Purse.recv(apdu, Constants.UNBLOCK_DATA_LEN);
        p.requireActive();
        byte[] sb = s.buf;
        if (sb[Session.OFF_UNBLOCK_OK] != (byte) 1) {
            ISOException.throwIt(Constants.SW_SECURITY_STATUS);
        }
        short l = (short) (b[CD] & 0xFF);
        if (l < Constants.PIN_MIN || l > (ref == Constants.REF_PIN ? Constants.PIN_MAX : Constants.TXKEY_MAX)) {
            Purse.wrongData();
        }
        OwnerPIN pin = prof.pin(ref);
        JCSystem.beginTransaction();
        pin.update(b, (short) (CD + 1), (byte) l);
        pin.resetAndUnblock();
        if (ref == Constants.REF_TXKEY) {
            prof.setByte(Profile.OFF_TXKEY_SET, (byte) 1);
        }
        JCSystem.commitTransaction();
        sb[Session.OFF_UNBLOCK_OK] = (byte) 0;
        return (short) 0;
    }
}
