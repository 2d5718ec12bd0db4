/*
 * purse: card-to-card transfer, SELECT's payee hello and INS 42-54 (protocol.md 6). Checks run in the order of 6.2; each
 * money step is exactly one JCSystem transaction (payer: debit, clear; payee: expect, credit).
 * Steps 5 and 6 (48, 4A) and the resume commands run from the persistent slots only.
 */
package org.purse.applet;

import javacard.framework.APDU;
import javacard.framework.ISO7816;
import javacard.framework.ISOException;
import javacard.framework.JCSystem;
import javacard.framework.Util;

public final class Transfer {
    private static final short CD = ISO7816.OFFSET_CDATA;
    // work buffer layout: WorkMap (HS_*, TR_*)
    private static final short W_B2 = WorkMap.TR_B2;
    private static final short W_ENTRY = WorkMap.TR_ENTRY;
    private static final short W_TMP = WorkMap.SY_TMP;

    private final Purse p;
    private final Keys keys;
    private final Profile prof;
    private final Balance bal;
    private final Passbook pb;
    private final Slots slots;
    private final Session s;
    private final Handshake hs;

    public Transfer(Purse p, Keys keys, Profile prof, Balance bal, Passbook pb,
            Slots slots, Session s, Handshake hs) {
        this.p = p;
        this.keys = keys;
        this.prof = prof;
        this.bal = bal;
        this.pb = pb;
        this.slots = slots;
        this.s = s;
        this.hs = hs;
    }

    // ------------------------------------------------------------------ helpers

    /** Payer holder checks of row R (re-run at step 4): funds, PIN, TXKEY, APPROVAL. */
    private void payerHolderChecks(byte[] amt, short off) {
        bal.check();
        if (!bal.canDebit(amt, off)) {
            ISOException.throwIt(Constants.SW_INSUFFICIENT_FUNDS);
        }
        byte[] d = prof.data;
        if (Money32.compare(amt, off, d, Profile.OFF_MIN_TRANS) > 0
                && !prof.pin(Constants.REF_PIN).isValidated()) {
            ISOException.throwIt(Constants.SW_PIN_REQUIRED);
        }
        if (Money32.compare(amt, off, d, Profile.OFF_MAX_TRANS) > 0
                && (!prof.txkeySet() || !prof.pin(Constants.REF_TXKEY).isValidated())) {
            ISOException.throwIt(Constants.SW_TXKEY_REQUIRED);
        }
        if (prof.role() == Constants.ROLE_CENTER && !prof.pin(Constants.REF_APPROVAL).isValidated()) {
            ISOException.throwIt(Constants.SW_APPROVAL_REQUIRED);
        }
    }

    /**
     * A short body at work[W_B2] from x, a session buffer or the IN slot (same offsets): random at
     * rOff, code, x's AMOUNT and DATE, the own account or ID for x's TID.
     */
    private void ownShort(byte[] x, short rOff, byte code) {
        hs.shortBody(W_B2, x, rOff, code, x, Slots.S_AMOUNT, prof.data, Profile.OFF_ACCOUNT, x, Slots.S_DATE);
        hs.ownId(x, Slots.S_TID, s.work, (short) (W_B2 + Constants.PS_ACCOUNT));
    }

    private void requireFree() {
        if (pb.free(slots.inExpecting()) < (short) 1) {
            ISOException.throwIt(Constants.SW_PASSBOOK_FULL);
        }
    }

    // ------------------------------------------------------------------ SELECT, 42 .. 4A

    /**
     * SELECT: arms the payee session W_P1 with a fresh RP and answers oldest key number | RP at
     * b[off] (protocol.md 6.1 step 0); returns the answer's length. Any card, any life: row E's
     * checks run at 44, and any other session (42, 70, 82, 10, 14 ...) replaces this one.
     */
    public short arm(byte[] b, short off) {
        return hs.offerAt(b, off, Constants.SESSION_PAYEE_W_P1);
    }

    /** 42 (row R): AMOUNT | DATE | peer SUITE | peer oldest | peer RP -> P1. */
    public short payerInit(APDU apdu) {
        Purse.cmd(apdu, Constants.PAYER_INIT_LEN);
        p.requireMoney();
        if (prof.role() == Constants.ROLE_ADMIN) {
            Purse.pairNotAllowed();
        }
        if (slots.outPending()) {
            ISOException.throwIt(Constants.SW_PENDING_OUT);
        }
        if (slots.inState() == Constants.SLOT_SYNC) {
            ISOException.throwIt(Constants.SW_PAYEE_EXPECTING); // balance and passbook as committed in P5 (12.6)
        }
        requireFree();
        byte[] b = apdu.getBuffer();
        if (Money32.isZero(b, CD)) {
            Purse.wrongData();
        }
        payerHolderChecks(b, CD);
        short k = b[(short) (CD + 6)] == prof.suite() ? keys.choosePair(b[(short) (CD + 7)]) : (short) -1;
        if (k < 0) {
            // 12.10 item 4: 9D25 when this payer is the older card, 9D02 otherwise; BAD_KEY + 1 either way
            short ahead = (short) ((short) (b[(short) (CD + 7)] - keys.current()) & 0xFF);
            if (b[(short) (CD + 6)] == prof.suite() && ahead >= (short) 1 && ahead <= (short) 127) {
                prof.badKeyIncrement();
                ISOException.throwIt(Constants.SW_KEYS_TOO_OLD);
            }
            p.noCommonKeys();
        }
        s.reset();
        byte[] sb = s.buf;
        Util.arrayCopyNonAtomic(b, CD, sb, Session.OFF_AMOUNT, Constants.AMOUNT_LEN);
        Util.arrayCopyNonAtomic(b, (short) (CD + 4), sb, Session.OFF_DATE, Constants.DATE_LEN);
        short len = hs.sealFirst(Constants.PT_P1, (byte) k, b, (short) (CD + 8), true, Constants.KS_TX);
        s.setState(Constants.SESSION_PAYER_W_P2P3);
        return len;
    }

    /**
     * 44 (rows E then P1): AMOUNT | DATE | P1 -> P2 (with the request), in the W_P1 session SELECT armed;
     * persists IN = EXPECTING (transaction 1 of the payee).
     */
    public short payeeP1(APDU apdu) {
        byte[] sb = s.buf;
        byte[] b = apdu.getBuffer();
        hs.step(apdu, Constants.SESSION_PAYEE_W_P1);
        short pktLen = Packets.packetLen(Constants.BODY_P1, hs.blk());
        Purse.recv(apdu, (short) (Constants.PAYEE_P1_PKT + pktLen));
        // row E on AMOUNT | DATE at b[CD], before P1 is looked at; both into the session
        p.requireMoney();
        if (prof.role() == Constants.ROLE_ADMIN) {
            Purse.pairNotAllowed();
        }
        if (slots.inExpecting()) {
            ISOException.throwIt(Constants.SW_PAYEE_EXPECTING);
        }
        requireFree();
        if (Money32.isZero(b, CD)) {
            Purse.wrongData();
        }
        // no balance integrity check here: 44 moves no value, and 48 checks the record (9D11)
        // before its credit; this overflow precheck on the record as stored only fails early
        if (!bal.canCredit(b, CD)) {
            ISOException.throwIt(Constants.SW_OVERFLOW);
        }
        Util.arrayCopyNonAtomic(b, CD, sb, Session.OFF_AMOUNT, Constants.AMOUNT_LEN);
        Util.arrayCopyNonAtomic(b, (short) (CD + 4), sb, Session.OFF_DATE, Constants.DATE_LEN);
        short at = (short) (CD + Constants.PAYEE_P1_PKT);
        // a settled TID never gets a second expectation (no BAD_KEY); any other old P1 fails its MAC (RP)
        slots.refuseSettled(b, (short) (at + Constants.HDR_OFF_SID));
        byte k = hs.openFirstAt(Constants.PT_P1, b, at, pktLen, Constants.KS_TX);
        if (!Profile.pairAllowed(sb[Session.OFF_PEER_ROLE], prof.role())) {
            Purse.pairNotAllowed();
        }
        hs.randoms();
        // P2 with the request: own identity | R2 | AMOUNT, under K_S
        Util.arrayCopyNonAtomic(sb, Session.OFF_AMOUNT, s.work, (short) (Handshake.W_B1 + Constants.P2_AMOUNT),
                Constants.AMOUNT_LEN);
        short len = hs.sealSecond(Constants.PT_P2, k, b, true, Constants.BODY_P2_TX);
        slots.persistIn(sb, Constants.SLOT_EXPECTING);
        s.reset();
        return len;
    }

    /** 46 (row P2P3): P2 (with the request) -> P4; debits and persists OUT = PENDING (transaction 1 of the payer). */
    public short payerP2P3(APDU apdu) {
        hs.step(apdu, Constants.SESSION_PAYER_W_P2P3);
        Purse.recv(apdu, Packets.packetLen(Constants.BODY_P2_TX, hs.blk()));
        byte[] b = apdu.getBuffer();
        byte[] sb = s.buf;
        byte[] w = s.work;
        hs.openSecond(Constants.PT_P2, b, Constants.BODY_P2_TX);
        if (!Profile.pairAllowed(prof.role(), sb[Session.OFF_PEER_ROLE])) {
            Purse.pairNotAllowed();
        }
        hs.accept();
        if (Util.arrayCompare(w, (short) (Handshake.W_B1 + Constants.P2_AMOUNT), sb, Session.OFF_AMOUNT,
                Constants.AMOUNT_LEN) != 0) {
            ISOException.throwIt(Constants.SW_AMOUNT_MISMATCH);
        }
        payerHolderChecks(sb, Session.OFF_AMOUNT);
        requireFree();
        // P4 into the APDU buffer (the input is consumed), DEBIT entry, then stage OUT
        byte[] d = prof.data;
        ownShort(sb, Session.OFF_R2, Constants.CODE_CREDIT);
        short len = hs.sealS(Constants.PT_P4, W_B2, Constants.BODY_SHORT, b, (short) 0);
        Passbook.build(w, W_ENTRY, sb, Session.OFF_R2, sb, Session.OFF_DATE, Constants.PB_TYPE_DEBIT, sb,
                Session.OFF_AMOUNT, bal, (short) -1);
        slots.stageOut(sb, pb.nextIndex(), Constants.PKT_SHORT);
        Util.arrayCopyNonAtomic(b, (short) 0, slots.out, Slots.O_P4, Constants.PKT_SHORT);
        JCSystem.beginTransaction();
        bal.debit(sb, Session.OFF_AMOUNT);
        pb.append(w, W_ENTRY);
        slots.open(slots.out, sb, Constants.SLOT_PENDING);
        JCSystem.commitTransaction();
        // one secret entry authorises one payment (F12, as EMV): the PIN above MIN_TRANS, the
        // transaction key above MAX_TRANS, the approval for a center payout are used up
        if (Money32.compare(sb, Session.OFF_AMOUNT, d, Profile.OFF_MIN_TRANS) > 0) {
            prof.pin(Constants.REF_PIN).reset();
        }
        if (Money32.compare(sb, Session.OFF_AMOUNT, d, Profile.OFF_MAX_TRANS) > 0) {
            prof.pin(Constants.REF_TXKEY).reset();
        }
        if (prof.role() == Constants.ROLE_CENTER) {
            prof.pin(Constants.REF_APPROVAL).reset();
        }
        s.reset();
        return len;
    }

    /** 48 (row P4): P4 -> ACK; credits (transaction 2 of the payee). Runs from the IN slot. */
    public short payeeP4(APDU apdu) {
        Purse.cmd(apdu, Constants.PKT_SHORT);
        p.requireActive(); // 12.10 item 1: finishing an authenticated step is not gated by LOCKED
        byte[] b = apdu.getBuffer();
        if (b[(short) (CD + Constants.HDR_OFF_TYPE)] != Constants.PT_P4) {
            p.badPacket();
        }
        slots.requireIn(Constants.SLOT_EXPECTING, b);
        byte[] in = slots.in;
        byte[] w = s.work;
        if (!hs.openSlot(Constants.PT_P4, in, b, Constants.PKT_SHORT, Constants.BODY_SHORT, W_B2)
                || !hs.shortBodyOk(W_B2, in, Slots.S_R2, Constants.CODE_CREDIT, in, Slots.S_AMOUNT, in,
                        Slots.S_ACCOUNT)) {
            p.badPacket();
        }
        bal.check();
        if (!bal.canCredit(in, Slots.S_AMOUNT)) {
            ISOException.throwIt(Constants.SW_OVERFLOW);
        }
        // ACK into the APDU buffer, CREDIT entry (payee stores R1)
        ownShort(in, Slots.S_R1, Constants.CODE_ACK);
        short len = hs.sealSlot(Constants.PT_ACK, in, W_B2, b, (short) 0);
        Passbook.build(w, W_ENTRY, in, Slots.S_R1, in, Slots.S_DATE, Constants.PB_TYPE_CREDIT, in, Slots.S_AMOUNT,
                bal, (short) 1);
        JCSystem.beginTransaction();
        bal.credit(in, Slots.S_AMOUNT);
        pb.append(w, W_ENTRY);
        slots.settleIn(Constants.OUTCOME_ACK, b);
        return len;
    }

    /**
     * 4A (row ACK, sync false): ACK clears OUT; NACK refunds A and marks the DEBIT 06 (transaction 2
     * of the payer). 7A (row SA, sync true, a bank): SACK clears OUT; SNACK (amount 0) refunds I
     * (INTEREST_OUT -> 06), if any. One transaction; no LOCKED gate (12.10 item 1). Both run from
     * the OUT slot alone: all of the work buffer is free.
     */
    public short payerAck(APDU apdu, boolean sync) {
        byte[] w = s.work;
        byte[] out = slots.out;
        // NACK = ACK + 1, SNACK = SACK + 1, in packet types and in codes
        byte pos = sync ? Constants.PT_SACK : Constants.PT_ACK;
        byte type = hs.recvOutcome(apdu, pos, (byte) (pos + 1), sync ? Constants.SLOT_SYNC : Constants.SLOT_PENDING);
        boolean neg = type != pos;
        boolean zero = sync && neg; // a SNACK carries amount 0
        if (sync) {
            Util.arrayFillNonAtomic(w, W_TMP, Constants.AMOUNT_LEN, (byte) 0);
        }
        if (!hs.openSlot(type, out, apdu.getBuffer(), Constants.PKT_SHORT, Constants.BODY_SHORT, W_B2)
                || !hs.shortBodyOk(W_B2, out, Slots.S_R1,
                        (byte) ((sync ? Constants.CODE_SACK : Constants.CODE_ACK) + (neg ? 1 : 0)),
                        zero ? w : out, zero ? W_TMP : Slots.S_AMOUNT, out, Slots.S_ACCOUNT)) {
            p.badPacket();
        }
        // a transfer's amount is never 0 (42)
        return hs.settleOut(neg && !Money32.isZero(out, Slots.S_AMOUNT));
    }

    // ------------------------------------------------------------------ 4C .. 54

    /** 4C: P1 00 forgets the transient session; P1 01 | TID drops the IN expectation and returns a stored NACK. */
    public short abort(APDU apdu) {
        byte[] b = apdu.getBuffer();
        byte p1 = Purse.p1Of(apdu, Constants.ABORT_SESSION, Constants.ABORT_EXPECTED);
        if (p1 == Constants.ABORT_SESSION) {
            // no command data: never receive (on T=0, P3 is Le here)
            s.reset();
            return (short) 0;
        }
        Purse.recv(apdu, Constants.TID_LEN);
        p.requireActive();
        slots.refuseSettled(b, CD); // never a second outcome for a TID
        // IN = SYNC (12.6): a SNACK (CODE 08, amount 0, the card's own account) instead of a NACK;
        // value-neutral either way: the card never credited
        boolean sync = slots.inIs(Constants.SLOT_SYNC, b, CD);
        if (!sync && !slots.inIs(Constants.SLOT_EXPECTING, b, CD)) {
            ISOException.throwIt(Constants.SW_UNKNOWN_TRANSFER);
        }
        byte[] in = slots.in;
        byte[] w = s.work;
        hs.slotKeys(in);
        if (sync) {
            Util.arrayFillNonAtomic(w, W_TMP, Constants.AMOUNT_LEN, (byte) 0);
            hs.shortBody(W_B2, in, Slots.S_R1, Constants.CODE_SNACK, w, W_TMP, prof.data, Profile.OFF_ACCOUNT, in,
                    Slots.S_DATE);
        } else {
            ownShort(in, Slots.S_R1, Constants.CODE_NACK);
        }
        // stored in OUTCOMES (kind NACK), IN = none, one transaction
        return hs.nackIn(b, hs.sealSlot(sync ? Constants.PT_SNACK : Constants.PT_NACK, in, W_B2, b, (short) 0));
    }

    /** 50: TID -> the stored P4 (payer with OUT = PENDING(TID)). */
    public short resumeGetP4(APDU apdu) {
        Purse.cmd(apdu, Constants.TID_LEN);
        p.requireActive();
        byte[] b = apdu.getBuffer();
        if (!slots.outIs(Constants.SLOT_PENDING, b, CD) && !slots.outIs(Constants.SLOT_SYNC, b, CD)) {
            ISOException.throwIt(Constants.SW_UNKNOWN_TRANSFER);
        }
        return slots.getOutPacket(b, (short) 0); // P4, or the bank's stored P6 (12.6)
    }

    /** 52: TID -> the stored ACK or NACK (payee with TID in OUTCOMES). */
    public short resumeGetOutcome(APDU apdu) {
        Purse.cmd(apdu, Constants.TID_LEN);
        p.requireActive();
        byte[] b = apdu.getBuffer();
        // the TID is found before the stored packet is copied over it
        short len = slots.getOutcome(b, CD, b, (short) 0);
        if (len < 0) {
            ISOException.throwIt(Constants.SW_UNKNOWN_TRANSFER);
        }
        return len;
    }

    /** 54: TID; PIN. OUT = PENDING(TID) -> exception entry, DEBIT entry -> 07, OUT = none (one transaction). */
    public short pendingToException(APDU apdu) {
        Purse.cmd(apdu, Constants.TID_LEN);
        p.requireMoney();
        p.requirePin();
        byte[] b = apdu.getBuffer();
        if (slots.inState() == Constants.SLOT_SYNC) {
            ISOException.throwIt(Constants.SW_PAYEE_EXPECTING); // 12.6
        }
        if (!slots.outIs(Constants.SLOT_PENDING, b, CD)) {
            ISOException.throwIt(Constants.SW_UNKNOWN_TRANSFER);
        }
        if (slots.exceptionCount() >= Constants.EXCEPTIONS) {
            ISOException.throwIt(Constants.SW_EXCEPTION_LOG_FULL);
        }
        JCSystem.beginTransaction();
        slots.addException(Constants.EXC_REASON_FORCED);
        pb.setType(slots.outPassbookIndex(), Constants.PB_TYPE_EXCEPTION);
        slots.close(slots.out);
        return (short) 0;
    }
}
