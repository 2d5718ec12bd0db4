/*
 * purse: card-to-card transfer, INS 40-54 (protocol.md 6). Checks run in the order of 6.2; each
 * money step is exactly one JCSystem transaction (payer: debit, clear; payee: expect, credit).
 * Steps 5 and 6 (48, 4A) and the resume commands run from the persistent slots only.
 */
package org.purse.applet;

import javacard.framework.APDU;
import javacard.framework.ISO7816;
import javacard.framework.ISOException;
import javacard.framework.JCSystem;
import javacard.framework.Util;
import javacard.security.Key;

public final class Transfer {
    private static final short CD = ISO7816.OFFSET_CDATA;
    // work buffer layout
    private static final short W_B1 = (short) 0;      // 48: P1 / P2 body
    private static final short W_B2 = (short) 48;     // 32: P3 / P4 / ACK / NACK body
    private static final short W_CTX = (short) 80;    // 22: KDF context
    private static final short W_ENTRY = (short) 104; // 42: passbook entry

    private final Purse p;
    private final CryptoSuite cs;
    private final Packets pk;
    private final Keys keys;
    private final Profile prof;
    private final Balance bal;
    private final Passbook pb;
    private final Slots slots;
    private final Session s;

    public Transfer(Purse p, CryptoSuite cs, Packets pk, Keys keys, Profile prof, Balance bal, Passbook pb,
            Slots slots, Session s) {
        this.p = p;
        this.cs = cs;
        this.pk = pk;
        this.keys = keys;
        this.prof = prof;
        this.bal = bal;
        this.pb = pb;
        this.slots = slots;
        this.s = s;
    }

    // ------------------------------------------------------------------ helpers

    private Key key(byte slot) {
        return cs.workKey(prof.suite(), slot);
    }

    private short blk() {
        return CryptoSuite.blockLen(prof.suite());
    }

    /** K_A = KDF(AK[k], "PURSE HS", TID | k) into work keys 0/1. */
    private void deriveHandshake() {
        byte[] sb = s.buf();
        byte[] w = s.work();
        Util.arrayCopyNonAtomic(sb, Session.OFF_TID, w, W_CTX, Constants.TID_LEN);
        w[(short) (W_CTX + 6)] = sb[Session.OFF_K];
        cs.deriveInto(keys.get(sb[Session.OFF_K]), Constants.LABEL_HS_0, Constants.LABEL_HS_1, w, W_CTX, (short) 7,
                key((byte) 0), key((byte) 1));
    }

    /** K_S = KDF(AK[k+1], "PURSE TX", R1 | R2 | TID): bytes into the session (to persist), keys into work keys 2/3. */
    private void deriveSession() {
        byte[] sb = s.buf();
        byte[] w = s.work();
        Util.arrayCopyNonAtomic(sb, Session.OFF_R1, w, W_CTX, (short) 16); // R1 | R2
        Util.arrayCopyNonAtomic(sb, Session.OFF_TID, w, (short) (W_CTX + 16), Constants.TID_LEN);
        short kl = CryptoSuite.keyLen(prof.suite());
        cs.kdf(keys.get((byte) (sb[Session.OFF_K] + 1)), Constants.LABEL_TX_0, Constants.LABEL_TX_1, w, W_CTX,
                (short) 22, sb, Session.OFF_KS, (short) (2 * kl));
        cs.setKey(key((byte) 2), sb, Session.OFF_KS);
        cs.setKey(key((byte) 3), sb, (short) (Session.OFF_KS + kl));
    }

    /** 31-byte body: random | APP_ID | CODE | AMOUNT | ACCOUNT | DATE (protocol.md 6.3). */
    private void shortBody(byte[] w, byte[] rnd, short rOff, byte code, byte[] amt, short aOff, byte[] acc, short accOff,
            byte[] date, short dOff) {
        Util.arrayCopyNonAtomic(rnd, rOff, w, (short) (W_B2 + Constants.PS_RANDOM), Constants.RANDOM_LEN);
        Util.arrayCopyNonAtomic(prof.data(), Profile.OFF_APP_ID, w, (short) (W_B2 + Constants.PS_APP), Constants.APP_ID_LEN);
        w[(short) (W_B2 + Constants.PS_CODE)] = code;
        Util.arrayCopyNonAtomic(amt, aOff, w, (short) (W_B2 + Constants.PS_AMOUNT), Constants.AMOUNT_LEN);
        Util.arrayCopyNonAtomic(acc, accOff, w, (short) (W_B2 + Constants.PS_ACCOUNT), Constants.ACCOUNT_LEN);
        Util.arrayCopyNonAtomic(date, dOff, w, (short) (W_B2 + Constants.PS_DATE), Constants.DATE_LEN);
    }

    /** Fields of a received 31-byte body (date is informative and not checked). */
    private boolean shortBodyOk(byte[] w, byte[] rnd, short rOff, byte code, byte[] amt, short aOff, byte[] acc,
            short accOff) {
        return Util.arrayCompare(w, (short) (W_B2 + Constants.PS_RANDOM), rnd, rOff, Constants.RANDOM_LEN) == 0
                && Util.arrayCompare(w, (short) (W_B2 + Constants.PS_APP), prof.data(), Profile.OFF_APP_ID,
                        Constants.APP_ID_LEN) == 0
                && w[(short) (W_B2 + Constants.PS_CODE)] == code
                && Util.arrayCompare(w, (short) (W_B2 + Constants.PS_AMOUNT), amt, aOff, Constants.AMOUNT_LEN) == 0
                && Util.arrayCompare(w, (short) (W_B2 + Constants.PS_ACCOUNT), acc, accOff, Constants.ACCOUNT_LEN) == 0;
    }

    /** P1 / P2 body: [R1] | APP_ID | NAME | ACCOUNT | ROLE | FLAGS | CURRENCY (| R2 for P2). */
    private void identityBody(byte[] w) {
        byte[] d = prof.data();
        Util.arrayCopyNonAtomic(s.buf(), Session.OFF_R1, w, (short) (W_B1 + Constants.P1_R1), Constants.RANDOM_LEN);
        Util.arrayCopyNonAtomic(d, Profile.OFF_APP_ID, w, (short) (W_B1 + Constants.P1_APP), Constants.APP_ID_LEN);
        Util.arrayCopyNonAtomic(d, Profile.OFF_NAME, w, (short) (W_B1 + Constants.P1_NAME), Constants.NAME_LEN);
        ownId(s.buf(), Session.OFF_TID, w, (short) (W_B1 + Constants.P1_ACCOUNT));
        w[(short) (W_B1 + Constants.P1_ROLE)] = prof.role();
        w[(short) (W_B1 + Constants.P1_FLAGS)] = prof.flags();
        Util.arrayCopyNonAtomic(d, Profile.OFF_CURRENCY, w, (short) (W_B1 + Constants.P1_CURRENCY), Constants.CURRENCY_LEN);
    }

    /** Own identity field (12.9): ACCOUNT, or SIG(TID) when FLAGS bit1 (private) is set. */
    private void ownId(byte[] tid, short tOff, byte[] out, short o) {
        if ((prof.flags() & Constants.FLAG_PRIVATE) != 0) {
            bal.sig(tid, tOff, out, o);
        } else {
            Util.arrayCopyNonAtomic(prof.data(), Profile.OFF_ACCOUNT, out, o, Constants.ACCOUNT_LEN);
        }
    }

    /** Peer identity from an opened P1/P2 body: NAME (9D0E), ACCOUNT (9D0F), CURRENCY (9D0D); stored in the session. */
    private void peerIdentity(byte[] w) {
        byte[] d = prof.data();
        short name = (short) (W_B1 + Constants.P1_NAME);
        if (!Bcd.isPrintable(w, name, Constants.NAME_LEN)
                || Util.arrayCompare(w, name, d, Profile.OFF_NAME, Constants.NAME_LEN) == 0) {
            ISOException.throwIt(Constants.SW_BAD_NAME);
        }
        if (Util.arrayCompare(w, (short) (W_B1 + Constants.P1_ACCOUNT), d, Profile.OFF_ACCOUNT,
                Constants.ACCOUNT_LEN) == 0) {
            ISOException.throwIt(Constants.SW_SAME_CARD);
        }
        if (Util.arrayCompare(w, (short) (W_B1 + Constants.P1_CURRENCY), d, Profile.OFF_CURRENCY,
                Constants.CURRENCY_LEN) != 0) {
            ISOException.throwIt(Constants.SW_CURRENCY_MISMATCH);
        }
        byte[] sb = s.buf();
        Util.arrayCopyNonAtomic(w, (short) (W_B1 + Constants.P1_ACCOUNT), sb, Session.OFF_PEER_ACCOUNT,
                Constants.ACCOUNT_LEN);
        Util.arrayCopyNonAtomic(w, name, sb, Session.OFF_PEER_NAME, Constants.NAME_LEN);
        sb[Session.OFF_PEER_ROLE] = w[(short) (W_B1 + Constants.P1_ROLE)];
        sb[Session.OFF_PEER_FLAGS] = w[(short) (W_B1 + Constants.P1_FLAGS)];
    }

    private boolean appIdOk(byte[] w, short off) {
        return Util.arrayCompare(w, off, prof.data(), Profile.OFF_APP_ID, Constants.APP_ID_LEN) == 0;
    }

    /** Passbook entry in work: counterparty from a slot or the session, amount, new balance, TID, k. */
    private void entry(byte[] w, byte[] src, short acc, short name, short rnd, byte[] date, short dOff, byte type,
            byte[] amt, short aOff, byte[] tid, short tOff, byte k) {
        Util.arrayCopyNonAtomic(src, acc, w, (short) (W_ENTRY + Constants.PB_ACCOUNT), Constants.ACCOUNT_LEN);
        Util.arrayCopyNonAtomic(src, name, w, (short) (W_ENTRY + Constants.PB_NAME), Constants.NAME_LEN);
        Util.arrayCopyNonAtomic(src, rnd, w, (short) (W_ENTRY + Constants.PB_RANDOM), Constants.RANDOM_LEN);
        Util.arrayCopyNonAtomic(date, dOff, w, (short) (W_ENTRY + Constants.PB_DATE), Constants.DATE_LEN);
        w[(short) (W_ENTRY + Constants.PB_TYPE)] = type;
        Util.arrayCopyNonAtomic(amt, aOff, w, (short) (W_ENTRY + Constants.PB_AMOUNT), Constants.AMOUNT_LEN);
        Util.arrayCopyNonAtomic(tid, tOff, w, (short) (W_ENTRY + Constants.PB_TID), Constants.TID_LEN);
        w[(short) (W_ENTRY + Constants.PB_KEYNUM)] = k;
    }

    /** Payer holder checks of row R (re-run at step 4): funds, PIN, TXKEY, APPROVAL. */
    private void payerHolderChecks(byte[] amt, short off) {
        bal.check();
        if (!bal.canDebit(amt, off)) {
            ISOException.throwIt(Constants.SW_INSUFFICIENT_FUNDS);
        }
        byte[] d = prof.data();
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

    private void requireFree() {
        if (pb.free(slots.inExpecting()) < (short) 1) {
            ISOException.throwIt(Constants.SW_PASSBOOK_FULL);
        }
    }

    // ------------------------------------------------------------------ 40 .. 4A

    /** 40 (row E): AMOUNT | DATE -> SUITE | oldest key number. */
    public short payeeInit(APDU apdu) {
        Purse.p1p2(apdu, (byte) 0, (byte) 0);
        Purse.recv(apdu, (short) 6);
        p.requireMoney();
        if (prof.role() == Constants.ROLE_ADMIN) {
            ISOException.throwIt(Constants.SW_PAIR_NOT_ALLOWED);
        }
        if (slots.inExpecting()) {
            ISOException.throwIt(Constants.SW_PAYEE_EXPECTING);
        }
        requireFree();
        byte[] b = apdu.getBuffer();
        if (Money32.isZero(b, CD)) {
            ISOException.throwIt(Constants.SW_WRONG_DATA);
        }
        bal.check();
        if (!bal.canCredit(b, CD)) {
            ISOException.throwIt(Constants.SW_OVERFLOW);
        }
        s.reset();
        byte[] sb = s.buf();
        Util.arrayCopyNonAtomic(b, CD, sb, Session.OFF_AMOUNT, Constants.AMOUNT_LEN);
        Util.arrayCopyNonAtomic(b, (short) (CD + 4), sb, Session.OFF_DATE, Constants.DATE_LEN);
        s.setState(Constants.SESSION_PAYEE_W_P1);
        b[0] = prof.suite();
        b[1] = keys.oldest();
        return (short) 2;
    }

    /** 42 (row R): AMOUNT | DATE | peer SUITE | peer oldest -> P1. */
    public short payerInit(APDU apdu) {
        Purse.p1p2(apdu, (byte) 0, (byte) 0);
        Purse.recv(apdu, (short) 8);
        p.requireMoney();
        if (prof.role() == Constants.ROLE_ADMIN) {
            ISOException.throwIt(Constants.SW_PAIR_NOT_ALLOWED);
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
            ISOException.throwIt(Constants.SW_WRONG_DATA);
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
        byte[] sb = s.buf();
        Util.arrayCopyNonAtomic(b, CD, sb, Session.OFF_AMOUNT, Constants.AMOUNT_LEN);
        Util.arrayCopyNonAtomic(b, (short) (CD + 4), sb, Session.OFF_DATE, Constants.DATE_LEN);
        sb[Session.OFF_K] = (byte) k;
        cs.random(sb, Session.OFF_TID, Constants.TID_LEN);
        cs.random(sb, Session.OFF_R1, Constants.RANDOM_LEN);
        deriveHandshake();
        byte[] w = s.work();
        identityBody(w);
        short len = pk.seal(Constants.PT_P1, (byte) k, sb, Session.OFF_TID, key((byte) 0), key((byte) 1), w, W_B1,
                Constants.BODY_P1, b, (short) 0);
        s.setState(Constants.SESSION_PAYER_W_P2P3);
        return len;
    }

    /** 44 (row P1): P1 -> P2 | P3; persists IN = EXPECTING (transaction 1 of the payee). */
    public short payeeP1(APDU apdu) {
        Purse.p1p2(apdu, (byte) 0, (byte) 0);
        if (s.state() != Constants.SESSION_PAYEE_W_P1) {
            ISOException.throwIt(Constants.SW_CONDITIONS);
        }
        short pktLen = Packets.packetLen(Constants.BODY_P1, blk());
        Purse.recv(apdu, pktLen);
        byte[] b = apdu.getBuffer();
        byte[] sb = s.buf();
        byte[] w = s.work();
        if (b[(short) (CD + Constants.HDR_OFF_TYPE)] != Constants.PT_P1) {
            p.badPacket();
        }
        byte k = b[(short) (CD + Constants.HDR_OFF_KEYNUM)];
        if (!keys.holds(k) || !keys.holds((byte) (k + 1))) {
            p.noCommonKeys();
        }
        sb[Session.OFF_K] = k;
        Util.arrayCopyNonAtomic(b, (short) (CD + Constants.HDR_OFF_SID), sb, Session.OFF_TID, Constants.TID_LEN);
        deriveHandshake();
        if (!pk.open(Constants.PT_P1, k, sb, Session.OFF_TID, key((byte) 0), key((byte) 1), b, CD, pktLen,
                Constants.BODY_P1, w, W_B1)
                || !appIdOk(w, (short) (W_B1 + Constants.P1_APP))) {
            p.badPacket();
        }
        peerIdentity(w);
        if (!Profile.pairAllowed(sb[Session.OFF_PEER_ROLE], prof.role())) {
            ISOException.throwIt(Constants.SW_PAIR_NOT_ALLOWED);
        }
        // a mint since step 1 may have used the last free entry
        requireFree();
        Util.arrayCopyNonAtomic(w, (short) (W_B1 + Constants.P1_R1), sb, Session.OFF_R1, Constants.RANDOM_LEN);
        cs.random(sb, Session.OFF_R2, Constants.RANDOM_LEN);
        deriveSession();
        // P2 (K_A) then P3 (K_S)
        identityBody(w);
        Util.arrayCopyNonAtomic(sb, Session.OFF_R2, w, (short) (W_B1 + Constants.P2_R2), Constants.RANDOM_LEN);
        short len = pk.seal(Constants.PT_P2, k, sb, Session.OFF_TID, key((byte) 0), key((byte) 1), w, W_B1,
                Constants.BODY_P2, b, (short) 0);
        shortBody(w, sb, Session.OFF_R2, Constants.CODE_REQUEST, sb, Session.OFF_AMOUNT, prof.data(),
                Profile.OFF_ACCOUNT, sb, Session.OFF_DATE);
        ownId(sb, Session.OFF_TID, w, (short) (W_B2 + Constants.PS_ACCOUNT));
        len = (short) (len + pk.seal(Constants.PT_P3, k, sb, Session.OFF_TID, key((byte) 2), key((byte) 3), w, W_B2,
                Constants.BODY_SHORT, b, len));
        slots.stageIn(sb);
        JCSystem.beginTransaction();
        slots.commitIn();
        JCSystem.commitTransaction();
        s.reset();
        return len;
    }

    /** 46 (row P2P3): P2 | P3 -> P4; debits and persists OUT = PENDING (transaction 1 of the payer). */
    public short payerP2P3(APDU apdu) {
        Purse.p1p2(apdu, (byte) 0, (byte) 0);
        if (s.state() != Constants.SESSION_PAYER_W_P2P3) {
            ISOException.throwIt(Constants.SW_CONDITIONS);
        }
        Purse.recv(apdu, Constants.PKT_P2P3);
        byte[] b = apdu.getBuffer();
        byte[] sb = s.buf();
        byte[] w = s.work();
        byte k = sb[Session.OFF_K];
        if (!pk.open(Constants.PT_P2, k, sb, Session.OFF_TID, key((byte) 0), key((byte) 1), b, CD, Constants.PKT_P2,
                Constants.BODY_P2, w, W_B1)
                || Util.arrayCompare(w, (short) (W_B1 + Constants.P2_R1), sb, Session.OFF_R1, Constants.RANDOM_LEN) != 0
                || !appIdOk(w, (short) (W_B1 + Constants.P2_APP))) {
            p.badPacket();
        }
        peerIdentity(w);
        if (!Profile.pairAllowed(prof.role(), sb[Session.OFF_PEER_ROLE])) {
            ISOException.throwIt(Constants.SW_PAIR_NOT_ALLOWED);
        }
        Util.arrayCopyNonAtomic(w, (short) (W_B1 + Constants.P2_R2), sb, Session.OFF_R2, Constants.RANDOM_LEN);
        deriveSession();
        if (!pk.open(Constants.PT_P3, k, sb, Session.OFF_TID, key((byte) 2), key((byte) 3), b,
                (short) (CD + Constants.PKT_P2), Constants.PKT_SHORT, Constants.BODY_SHORT, w, W_B2)
                || !shortBodyOk(w, sb, Session.OFF_R2, Constants.CODE_REQUEST, w, (short) (W_B2 + Constants.PS_AMOUNT),
                        sb, Session.OFF_PEER_ACCOUNT)) {
            p.badPacket();
        }
        if (Util.arrayCompare(w, (short) (W_B2 + Constants.PS_AMOUNT), sb, Session.OFF_AMOUNT,
                Constants.AMOUNT_LEN) != 0) {
            ISOException.throwIt(Constants.SW_AMOUNT_MISMATCH);
        }
        payerHolderChecks(sb, Session.OFF_AMOUNT);
        requireFree();
        // P4 into the APDU buffer (the input is consumed), DEBIT entry, then stage OUT
        byte[] d = prof.data();
        shortBody(w, sb, Session.OFF_R2, Constants.CODE_CREDIT, sb, Session.OFF_AMOUNT, d, Profile.OFF_ACCOUNT, sb,
                Session.OFF_DATE);
        ownId(sb, Session.OFF_TID, w, (short) (W_B2 + Constants.PS_ACCOUNT));
        short len = pk.seal(Constants.PT_P4, k, sb, Session.OFF_TID, key((byte) 2), key((byte) 3), w, W_B2,
                Constants.BODY_SHORT, b, (short) 0);
        entry(w, sb, Session.OFF_PEER_ACCOUNT, Session.OFF_PEER_NAME, Session.OFF_R2, sb, Session.OFF_DATE,
                Constants.PB_TYPE_DEBIT, sb, Session.OFF_AMOUNT, sb, Session.OFF_TID, k);
        Money32.sub(bal.record(), Constants.BAL_AMOUNT, sb, Session.OFF_AMOUNT, w,
                (short) (W_ENTRY + Constants.PB_NEW_BALANCE));
        slots.stageOut(sb, b, (short) 0, pb.nextIndex());
        JCSystem.beginTransaction();
        bal.debit(sb, Session.OFF_AMOUNT);
        pb.append(w, W_ENTRY);
        slots.commitOut();
        JCSystem.commitTransaction();
        if (prof.role() == Constants.ROLE_CENTER) {
            prof.pin(Constants.REF_APPROVAL).reset(); // one approval per payout
        }
        s.reset();
        return len;
    }

    /** 48 (row P4): P4 -> ACK; credits (transaction 2 of the payee). Runs from the IN slot. */
    public short payeeP4(APDU apdu) {
        Purse.p1p2(apdu, (byte) 0, (byte) 0);
        Purse.recv(apdu, Constants.PKT_SHORT);
        p.requireActive(); // 12.10 item 1: finishing an authenticated step is not gated by LOCKED
        byte[] b = apdu.getBuffer();
        if (b[(short) (CD + Constants.HDR_OFF_TYPE)] != Constants.PT_P4) {
            p.badPacket();
        }
        short sid = (short) (CD + Constants.HDR_OFF_SID);
        byte kind = slots.outcomeOf(b, sid);
        if (kind == Constants.OUTCOME_ACK) {
            ISOException.throwIt(Constants.SW_ALREADY_CREDITED);
        }
        if (kind != 0 || !slots.inIs(Constants.SLOT_EXPECTING, b, sid)) {
            ISOException.throwIt(Constants.SW_UNKNOWN_TRANSFER);
        }
        byte[] in = slots.inSlot();
        byte[] w = s.work();
        byte k = in[Slots.S_K];
        Slots.loadKeys(cs, in, key((byte) 2), key((byte) 3));
        if (!pk.open(Constants.PT_P4, k, in, Slots.S_TID, key((byte) 2), key((byte) 3), b, CD, Constants.PKT_SHORT,
                Constants.BODY_SHORT, w, W_B2)
                || !shortBodyOk(w, in, Slots.S_R2, Constants.CODE_CREDIT, in, Slots.S_AMOUNT, in, Slots.S_ACCOUNT)) {
            p.badPacket();
        }
        bal.check();
        if (!bal.canCredit(in, Slots.S_AMOUNT)) {
            ISOException.throwIt(Constants.SW_OVERFLOW);
        }
        // ACK into the APDU buffer, CREDIT entry (payee stores R1)
        shortBody(w, in, Slots.S_R1, Constants.CODE_ACK, in, Slots.S_AMOUNT, prof.data(), Profile.OFF_ACCOUNT, in,
                Slots.S_DATE);
        ownId(in, Slots.S_TID, w, (short) (W_B2 + Constants.PS_ACCOUNT));
        short len = pk.seal(Constants.PT_ACK, k, in, Slots.S_TID, key((byte) 2), key((byte) 3), w, W_B2,
                Constants.BODY_SHORT, b, (short) 0);
        entry(w, in, Slots.S_ACCOUNT, Slots.S_NAME, Slots.S_R1, in, Slots.S_DATE, Constants.PB_TYPE_CREDIT, in,
                Slots.S_AMOUNT, in, Slots.S_TID, k);
        Money32.add(bal.record(), Constants.BAL_AMOUNT, in, Slots.S_AMOUNT, w,
                (short) (W_ENTRY + Constants.PB_NEW_BALANCE));
        JCSystem.beginTransaction();
        bal.credit(in, Slots.S_AMOUNT);
        pb.append(w, W_ENTRY);
        slots.clearIn();
        slots.pushOutcome(in, Slots.S_TID, Constants.OUTCOME_ACK, b, (short) 0);
        JCSystem.commitTransaction();
        slots.wipeInKeys();
        return len;
    }

    /** 4A (row ACK): ACK clears OUT; NACK refunds A and marks the DEBIT 06 (transaction 2 of the payer). */
    public short payerAck(APDU apdu) {
        Purse.p1p2(apdu, (byte) 0, (byte) 0);
        Purse.recv(apdu, Constants.PKT_SHORT);
        p.requireActive(); // 12.10 item 1
        byte[] b = apdu.getBuffer();
        byte type = b[(short) (CD + Constants.HDR_OFF_TYPE)];
        if (type != Constants.PT_ACK && type != Constants.PT_NACK) {
            p.badPacket();
        }
        if (!slots.outIs(Constants.SLOT_PENDING, b, (short) (CD + Constants.HDR_OFF_SID))) {
            ISOException.throwIt(Constants.SW_UNKNOWN_TRANSFER);
        }
        byte[] out = slots.outSlot();
        byte[] w = s.work();
        Slots.loadKeys(cs, out, key((byte) 2), key((byte) 3));
        byte code = type == Constants.PT_ACK ? Constants.CODE_ACK : Constants.CODE_NACK;
        if (!pk.open(type, out[Slots.S_K], out, Slots.S_TID, key((byte) 2), key((byte) 3), b, CD, Constants.PKT_SHORT,
                Constants.BODY_SHORT, w, W_B2)
                || !shortBodyOk(w, out, Slots.S_R1, code, out, Slots.S_AMOUNT, out, Slots.S_ACCOUNT)) {
            p.badPacket();
        }
        if (type == Constants.PT_NACK) {
            bal.check();
            if (!bal.canCredit(out, Slots.S_AMOUNT)) {
                ISOException.throwIt(Constants.SW_OVERFLOW);
            }
        }
        JCSystem.beginTransaction();
        if (type == Constants.PT_NACK) {
            bal.credit(out, Slots.S_AMOUNT);
            pb.setType(slots.outPassbookIndex(), Constants.PB_TYPE_DEBIT_REFUNDED);
        }
        slots.clearOut();
        JCSystem.commitTransaction();
        slots.wipeOutKeys();
        return (short) 0;
    }

    // ------------------------------------------------------------------ 4C .. 54

    /** 4C: P1 00 forgets the transient session; P1 01 | TID drops the IN expectation and returns a stored NACK. */
    public short abort(APDU apdu) {
        byte[] b = apdu.getBuffer();
        byte p1 = b[ISO7816.OFFSET_P1];
        if (b[ISO7816.OFFSET_P2] != 0 || (p1 != Constants.ABORT_SESSION && p1 != Constants.ABORT_EXPECTED)) {
            ISOException.throwIt(Constants.SW_WRONG_P1P2);
        }
        if (p1 == Constants.ABORT_SESSION) {
            // no command data: never receive (on T=0, P3 is Le here)
            s.reset();
            return (short) 0;
        }
        Purse.recv(apdu, Constants.TID_LEN);
        p.requireActive();
        if (slots.inIs(Constants.SLOT_SYNC, b, CD)) {
            return p.sync().abortSync(b); // 12.6: a SNACK instead of a NACK
        }
        if (!slots.inIs(Constants.SLOT_EXPECTING, b, CD)) {
            ISOException.throwIt(Constants.SW_UNKNOWN_TRANSFER);
        }
        byte[] in = slots.inSlot();
        byte[] w = s.work();
        Slots.loadKeys(cs, in, key((byte) 2), key((byte) 3));
        shortBody(w, in, Slots.S_R1, Constants.CODE_NACK, in, Slots.S_AMOUNT, prof.data(), Profile.OFF_ACCOUNT, in,
                Slots.S_DATE);
        ownId(in, Slots.S_TID, w, (short) (W_B2 + Constants.PS_ACCOUNT));
        short len = pk.seal(Constants.PT_NACK, in[Slots.S_K], in, Slots.S_TID, key((byte) 2), key((byte) 3), w, W_B2,
                Constants.BODY_SHORT, b, (short) 0);
        JCSystem.beginTransaction();
        slots.clearIn();
        slots.pushOutcome(in, Slots.S_TID, Constants.OUTCOME_NACK, b, (short) 0);
        JCSystem.commitTransaction();
        slots.wipeInKeys();
        return len;
    }

    /** 50: TID -> the stored P4 (payer with OUT = PENDING(TID)). */
    public short resumeGetP4(APDU apdu) {
        Purse.p1p2(apdu, (byte) 0, (byte) 0);
        Purse.recv(apdu, Constants.TID_LEN);
        p.requireActive();
        byte[] b = apdu.getBuffer();
        if (!slots.outIs(Constants.SLOT_PENDING, b, CD) && !slots.outIs(Constants.SLOT_SYNC, b, CD)) {
            ISOException.throwIt(Constants.SW_UNKNOWN_TRANSFER);
        }
        return slots.getOutPacket(b, (short) 0); // P4, or the bank's stored P6 (12.6)
    }

    /** 52: TID -> the stored ACK or NACK (payee with TID in OUTCOMES). */
    public short resumeGetOutcome(APDU apdu) {
        Purse.p1p2(apdu, (byte) 0, (byte) 0);
        Purse.recv(apdu, Constants.TID_LEN);
        p.requireActive();
        byte[] b = apdu.getBuffer();
        byte[] w = s.work();
        short len = slots.getOutcome(b, CD, w, (short) 0);
        if (len < 0) {
            ISOException.throwIt(Constants.SW_UNKNOWN_TRANSFER);
        }
        Util.arrayCopyNonAtomic(w, (short) 0, b, (short) 0, len);
        return len;
    }

    /** 54: TID; PIN. OUT = PENDING(TID) -> exception entry, DEBIT entry -> 07, OUT = none (one transaction). */
    public short pendingToException(APDU apdu) {
        Purse.p1p2(apdu, (byte) 0, (byte) 0);
        Purse.recv(apdu, Constants.TID_LEN);
        p.requireMoney();
        if (!prof.pin(Constants.REF_PIN).isValidated()) {
            ISOException.throwIt(Constants.SW_PIN_REQUIRED);
        }
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
        slots.clearOut();
        JCSystem.commitTransaction();
        slots.wipeOutKeys();
        return (short) 0;
    }
}
