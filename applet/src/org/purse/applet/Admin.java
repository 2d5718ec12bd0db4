/*
 * purse: administration card to card, INS 82-88 (protocol.md 12.8, F18, F19), plus
 * READ_BAD_CARDS (8A) and SET_PRIVACY (8C, 12.9).
 * Admin card: 82 P1 00 (REQ) -> 84 (A1 -> A2 | A3) -> 88 (A4 -> RESULT | COUNT | ACCOUNT).
 * Bank card:  82 P1 01 (SUITE | m -> A1) -> 86 (A2 | A3 -> A4, the op in one transaction).
 * Keys as a transfer: K_A = KDF(AK[k], "PURSE HS", SID | k) (work keys 0/1),
 * K_S = KDF(AK[k+1], "PURSE AD", R1 | R2 | SID) (work keys 2/3). Transient on both cards: no slot.
 */
package org.purse.applet;

import javacard.framework.APDU;
import javacard.framework.ISO7816;
import javacard.framework.ISOException;
import javacard.framework.JCSystem;
import javacard.framework.Util;

public final class Admin {
    private static final short CD = ISO7816.OFFSET_CDATA;
    // work buffer layout
    private static final short W_B1 = (short) 0;    // 48: A1 / A2 body (P1 / P2 layout)
    private static final short W_B2 = (short) 48;   // 48: A3 / A4 body
    // Handshake.W_CTX = 196, 22: KDF context

    private final Purse p;
    private final Keys keys;
    private final Profile prof;
    private final Passbook pb;
    private final Slots slots;
    private final BankFiles bank;
    private final Session s;
    private final Handshake hs;

    public Admin(Purse p, Keys keys, Profile prof, Passbook pb, Slots slots,
            BankFiles bank, Session s, Handshake hs) {
        this.p = p;
        this.keys = keys;
        this.prof = prof;
        this.pb = pb;
        this.slots = slots;
        this.bank = bank;
        this.s = s;
        this.hs = hs;
    }

    static boolean isBankRole(byte role) {
        return role == Constants.ROLE_CENTER || role == Constants.ROLE_REGION || role == Constants.ROLE_BRANCH;
    }

    /** After the peer identity checks of Handshake (9D0E, 9D0F, 9D0D): the peer ROLE must be accepted (9D04). */
    private void peerRole(boolean wantBank) {
        byte role = s.buf()[Session.OFF_PEER_ROLE];
        if (wantBank ? !isBankRole(role) : role != Constants.ROLE_ADMIN) {
            ISOException.throwIt(Constants.SW_PAIR_NOT_ALLOWED);
        }
    }

    private static boolean zero(byte[] a, short off, short len) {
        byte acc = 0;
        for (short i = 0; i < len; i++) {
            acc = (byte) (acc | a[(short) (off + i)]);
        }
        return acc == 0;
    }

    /** OP 01..04 and PARAMS well-formed (12.8); false -> 6A80. params at o (16 bytes). */
    private static boolean paramsOk(byte op, byte[] a, short o) {
        short a8 = (short) (o + Constants.ACCOUNT_LEN);
        switch (op) {
            case Constants.OP_BAD_CARD_ADD:
            case Constants.OP_BAD_CARD_REMOVE:
                return Bcd.isValidAccount(a, o) && zero(a, a8, Constants.ACCOUNT_LEN);
            case Constants.OP_SET_RATE:
                return zero(a, (short) (o + Constants.RATE_LEN), (short) 12);
            case Constants.OP_SET_RANGE:
                // bounds are not account numbers (the default HIGH ends 99999999): BCD, no Luhn
                return Bcd.isBcd(a, o, (short) 16) && Bcd.isBcd(a, a8, (short) 16)
                        && Util.arrayCompare(a, o, a, a8, Constants.BC_ACC_OFF) == 0
                        && BankFiles.compare(a, o, a, a8) <= (short) 0;
            default:
                return false;
        }
    }

    // ------------------------------------------------------------------ 82

    /** 82: admin (P1 00) REQ -> SUITE | m; bank (P1 01) SUITE | m -> A1. */
    public short init(APDU apdu) {
        byte p1 = Purse.p1Of(apdu, Constants.ADMIN_P1_ADMIN, Constants.ADMIN_P1_BANK);
        s.reset(); // any INIT ends every session
        return p1 == Constants.ADMIN_P1_ADMIN ? adminInit(apdu) : bankInit(apdu);
    }

    /** Row AI. */
    private short adminInit(APDU apdu) {
        Purse.recv(apdu, Constants.ADMIN_REQ_LEN);
        p.requireMoney();
        if (prof.role() != Constants.ROLE_ADMIN) {
            ISOException.throwIt(Constants.SW_WRONG_ROLE);
        }
        if (!prof.pin(Constants.REF_PIN).isValidated()) {
            ISOException.throwIt(Constants.SW_PIN_REQUIRED);
        }
        byte[] b = apdu.getBuffer();
        if (!paramsOk(b[(short) (CD + Constants.AREQ_OP)], b, (short) (CD + Constants.AREQ_PARAMS))) {
            ISOException.throwIt(Constants.SW_WRONG_DATA);
        }
        byte[] sb = s.buf();
        Util.arrayCopyNonAtomic(b, CD, sb, Session.OFF_REQ, Constants.ADMIN_REQ_LEN);
        return hs.offer(b, Constants.SESSION_ADMIN_W_A1);
    }

    /** Row BI. */
    private short bankInit(APDU apdu) {
        Purse.recv(apdu, Constants.ADMIN_BANK_INIT_LEN);
        p.requireMoney();
        if (!isBankRole(prof.role())) {
            ISOException.throwIt(Constants.SW_WRONG_ROLE);
        }
        byte[] b = apdu.getBuffer();
        short k = b[CD] == prof.suite() ? keys.choosePair(b[(short) (CD + 1)]) : (short) -1;
        if (k < 0) {
            p.noCommonKeys();
        }
        short len = hs.sealFirst(Constants.PT_A1, (byte) k, b, (short) (CD + 2), false);
        s.setState(Constants.SESSION_BANK_W_A2A3);
        return len;
    }

    // ------------------------------------------------------------------ 84 (admin)

    /** Row AO: A1 -> A2 | A3 (128). */
    public short op(APDU apdu) {
        short pktLen = hs.recvFirst(apdu, Constants.SESSION_ADMIN_W_A1);
        p.requireMoney();
        byte[] b = apdu.getBuffer();
        byte[] sb = s.buf();
        byte[] w = s.work();
        byte k = hs.openFirst(Constants.PT_A1, b, pktLen);
        peerRole(true);
        if (!prof.pin(Constants.REF_PIN).isValidated()) {
            ISOException.throwIt(Constants.SW_PIN_REQUIRED);
        }
        hs.answer(Constants.LABEL_AD_0, Constants.LABEL_AD_1, false);
        // A2 (K_A): P2 layout, admin identity + R2
        short len = hs.sealSecond(Constants.PT_A2, k, b, false);
        // A3 (K_S): R2 | APP_ID | CODE 09 | OP | PARAMS | admin ACCOUNT | DATE
        Util.arrayCopyNonAtomic(sb, Session.OFF_R2, w, (short) (W_B2 + Constants.A3_R2), Constants.RANDOM_LEN);
        Util.arrayCopyNonAtomic(prof.data(), Profile.OFF_APP_ID, w, (short) (W_B2 + Constants.A3_APP),
                Constants.APP_ID_LEN);
        w[(short) (W_B2 + Constants.A3_CODE)] = Constants.CODE_ADMIN_OP;
        Util.arrayCopyNonAtomic(sb, Session.OFF_REQ, w, (short) (W_B2 + Constants.A3_OP),
                (short) (1 + Constants.ADMIN_PARAMS_LEN)); // OP | PARAMS
        Util.arrayCopyNonAtomic(prof.data(), Profile.OFF_ACCOUNT, w, (short) (W_B2 + Constants.A3_ACCOUNT),
                Constants.ACCOUNT_LEN);
        Util.arrayCopyNonAtomic(sb, (short) (Session.OFF_REQ + Constants.AREQ_DATE), w,
                (short) (W_B2 + Constants.A3_DATE), Constants.DATE_LEN);
        len = (short) (len + hs.sealS(Constants.PT_A3, W_B2, Constants.BODY_A3, b, len));
        prof.pin(Constants.REF_PIN).reset(); // one PIN per admin op
        s.setState(Constants.SESSION_ADMIN_W_A4);
        return len;
    }

    // ------------------------------------------------------------------ 86 (bank)

    /** Row AP: A2 | A3 -> A4; the op in one transaction. */
    public short apply(APDU apdu) {
        hs.step(apdu, Constants.SESSION_BANK_W_A2A3);
        Purse.recv(apdu, Constants.PKT_A2A3);
        p.requireMoney();
        byte[] b = apdu.getBuffer();
        byte[] sb = s.buf();
        byte[] w = s.work();
        byte k = hs.openSecond(Constants.PT_A2, b);
        peerRole(false);
        hs.accept(Constants.LABEL_AD_0, Constants.LABEL_AD_1, false);
        if (!hs.openS(Constants.PT_A3, b, (short) (CD + Constants.PKT_P2), Constants.PKT_A3, Constants.BODY_A3, W_B2)
                || Util.arrayCompare(w, (short) (W_B2 + Constants.A3_R2), sb, Session.OFF_R2, Constants.RANDOM_LEN) != 0
                || !hs.appIdOk(w, (short) (W_B2 + Constants.A3_APP))
                || w[(short) (W_B2 + Constants.A3_CODE)] != Constants.CODE_ADMIN_OP
                || Util.arrayCompare(w, (short) (W_B2 + Constants.A3_ACCOUNT), sb, Session.OFF_PEER_ACCOUNT,
                        Constants.ACCOUNT_LEN) != 0) {
            p.badPacket();
        }
        byte op = w[(short) (W_B2 + Constants.A3_OP)];
        short par = (short) (W_B2 + Constants.A3_PARAMS);
        byte result;
        JCSystem.beginTransaction();
        switch (op) {
            case Constants.OP_BAD_CARD_ADD:
                result = bank.add(w, par, keys.current());
                break;
            case Constants.OP_BAD_CARD_REMOVE:
                result = bank.remove(w, par, keys.current());
                break;
            case Constants.OP_SET_RATE:
                result = bank.setRate(w, par);
                break;
            case Constants.OP_SET_RANGE:
                result = bank.setRange(w, par);
                break;
            default:
                // an admin card never seals another OP (checked at its 82)
                ISOException.throwIt(Constants.SW_WRONG_DATA);
                return (short) 0;
        }
        JCSystem.commitTransaction();
        // A4 (K_S): R1 | APP_ID | CODE 0A | OP | RESULT | COUNT | PARAMS | bank ACCOUNT | KEYNUM
        // built over the A3 body in place: OP and PARAMS move from 17/18 to 17/21
        Util.arrayCopyNonAtomic(w, par, w, (short) (W_B1 + Constants.A4_PARAMS), Constants.ADMIN_PARAMS_LEN);
        Util.arrayCopyNonAtomic(sb, Session.OFF_R1, w, (short) (W_B1 + Constants.A4_R1), Constants.RANDOM_LEN);
        Util.arrayCopyNonAtomic(prof.data(), Profile.OFF_APP_ID, w, (short) (W_B1 + Constants.A4_APP),
                Constants.APP_ID_LEN);
        w[(short) (W_B1 + Constants.A4_CODE)] = Constants.CODE_ADMIN_RESULT;
        w[(short) (W_B1 + Constants.A4_OP)] = op;
        w[(short) (W_B1 + Constants.A4_RESULT)] = result;
        Util.setShort(w, (short) (W_B1 + Constants.A4_COUNT), bank.count());
        Util.arrayCopyNonAtomic(prof.data(), Profile.OFF_ACCOUNT, w, (short) (W_B1 + Constants.A4_ACCOUNT),
                Constants.ACCOUNT_LEN);
        w[(short) (W_B1 + Constants.A4_KEYNUM)] = keys.current();
        short len = hs.sealS(Constants.PT_A4, W_B1, Constants.BODY_A4, b, (short) 0);
        s.reset();
        return len;
    }

    // ------------------------------------------------------------------ 88 (admin)

    /** Row AK: A4 -> RESULT | COUNT | bank ACCOUNT (11). */
    public short ack(APDU apdu) {
        hs.step(apdu, Constants.SESSION_ADMIN_W_A4);
        Purse.recv(apdu, Constants.PKT_A4);
        p.requireMoney();
        byte[] b = apdu.getBuffer();
        byte[] sb = s.buf();
        byte[] w = s.work();
        if (!hs.openS(Constants.PT_A4, b, CD, Constants.PKT_A4, Constants.BODY_A4, W_B1)
                || Util.arrayCompare(w, (short) (W_B1 + Constants.A4_R1), sb, Session.OFF_R1, Constants.RANDOM_LEN) != 0
                || !hs.appIdOk(w, (short) (W_B1 + Constants.A4_APP))
                || w[(short) (W_B1 + Constants.A4_CODE)] != Constants.CODE_ADMIN_RESULT
                || w[(short) (W_B1 + Constants.A4_OP)] != sb[(short) (Session.OFF_REQ + Constants.AREQ_OP)]
                || Util.arrayCompare(w, (short) (W_B1 + Constants.A4_PARAMS), sb,
                        (short) (Session.OFF_REQ + Constants.AREQ_PARAMS), Constants.ADMIN_PARAMS_LEN) != 0
                || Util.arrayCompare(w, (short) (W_B1 + Constants.A4_ACCOUNT), sb, Session.OFF_PEER_ACCOUNT,
                        Constants.ACCOUNT_LEN) != 0) {
            p.badPacket();
        }
        b[0] = w[(short) (W_B1 + Constants.A4_RESULT)];
        Util.arrayCopyNonAtomic(w, (short) (W_B1 + Constants.A4_COUNT), b, (short) 1, (short) 2);
        Util.arrayCopyNonAtomic(w, (short) (W_B1 + Constants.A4_ACCOUNT), b, (short) 3, Constants.ACCOUNT_LEN);
        s.reset();
        return Constants.ADMIN_ACK_RESP_LEN;
    }

    // ------------------------------------------------------------------ 8A, 8C

    /** 8A: P1 page 0..29 -> COUNT | RATE | LOW | HIGH | ARCH | CURRENT | up to 40 entries. No PIN. */
    public short readBadCards(APDU apdu) {
        byte[] b = apdu.getBuffer();
        short page = (short) (b[ISO7816.OFFSET_P1] & 0xFF);
        if (b[ISO7816.OFFSET_P2] != 0 || page >= Constants.BC_PAGES) {
            ISOException.throwIt(Constants.SW_WRONG_P1P2);
        }
        // no command data: never receive (on T=0, P3 is Le here)
        p.requireActive();
        if (!isBankRole(prof.role()) || !bank.allocated()) {
            ISOException.throwIt(Constants.SW_WRONG_ROLE);
        }
        return bank.readPage(page, keys.arch(), keys.current(), b, (short) 0);
    }

    /** 8C: P1 01 private / 00 public. User card, PIN, empty passbook, OUT and IN none. */
    public short setPrivacy(APDU apdu) {
        byte p1 = Purse.p1Of(apdu, Constants.PRIVACY_OFF, Constants.PRIVACY_ON);
        // no command data
        p.requireActive();
        if (prof.role() != Constants.ROLE_USER) {
            ISOException.throwIt(Constants.SW_WRONG_ROLE);
        }
        if (!prof.pin(Constants.REF_PIN).isValidated()) {
            ISOException.throwIt(Constants.SW_PIN_REQUIRED);
        }
        if (pb.count() != 0 || slots.outSlot()[Slots.S_STATE] != Constants.SLOT_NONE
                || slots.inSlot()[Slots.S_STATE] != Constants.SLOT_NONE) {
            ISOException.throwIt(Constants.SW_CONDITIONS);
        }
        byte f = prof.flags();
        f = p1 == Constants.PRIVACY_ON ? (byte) (f | Constants.FLAG_PRIVATE) : (byte) (f & (byte) ~Constants.FLAG_PRIVATE);
        JCSystem.beginTransaction();
        prof.setByte(Profile.OFF_FLAGS, f);
        JCSystem.commitTransaction();
        return (short) 0;
    }
}
