/*
 * purse: administration card to card, INS 82-88 (protocol.md 12.8, F18, F19), plus
 * READ_BAD_CARDS (8A) and CENTER_ADVANCE (80, 12.3). (SET_PRIVACY, 8C, a user-card command: Purse.)
 * Admin card: 82 P1 00 (REQ) -> 84 (A1 -> A2) -> 88 (A4 -> RESULT | COUNT | ACCOUNT).
 * Bank card:  82 P1 01 (SUITE | m -> A1) -> 86 (A2 -> A4, the op in one transaction).
 * Batched BAD_CARD_ADD after an ADD op (12.8 "Batches"), P1 01, P2 n: admin 84 (A4 | A6, accounts ->
 * BATCH_ACK | A5), bank 86 (A5 -> A6, the n adds in one transaction), admin 88 (A6 -> BATCH_ACK).
 * Keys as a transfer: K_S = KDF(AK[k + 1], 'A' | SID | k | RP) (work key 2), every packet
 * of the session under it. Transient on both cards: no slot.
 */
package org.purse.applet;

import javacard.framework.APDU;
import javacard.framework.ISO7816;
import javacard.framework.ISOException;
import javacard.framework.JCSystem;
import javacard.framework.OwnerPIN;
import javacard.framework.Util;
import javacard.security.Key;

public final class Admin {
    private static final short CD = ISO7816.OFFSET_CDATA;
    // work buffer layout: WorkMap (HS_*, AD_*, ADM_* admin card, BNK_* bank, EP_* CENTER_ADVANCE)
    private static final short W_B1 = WorkMap.HS_B1;
    private static final short W_A5_ADM = WorkMap.ADM_A5;
    private static final short W_A5 = WorkMap.BNK_A5;
    private static final short W_ACC = WorkMap.BNK_ACC;
    private static final short W_A6 = WorkMap.BNK_A6;
    private static final short W_EPOCH_KEY = WorkMap.EP_KEY;
    private static final short W_EPOCH_DATE = WorkMap.EP_DATE;

    private final Purse p;
    private final CryptoSuite cs;
    private final Keys keys;
    private final Profile prof;
    private final Passbook pb;
    private final Slots slots;
    private final BankFiles bank;
    private final Session s;
    private final Handshake hs;

    public Admin(Purse p, CryptoSuite cs, Keys keys, Profile prof, Passbook pb, Slots slots,
            BankFiles bank, Session s, Handshake hs) {
        this.p = p;
        this.cs = cs;
        this.keys = keys;
        this.prof = prof;
        this.pb = pb;
        this.slots = slots;
        this.bank = bank;
        this.s = s;
        this.hs = hs;
    }

    static boolean isBankRole(byte role) {
        return role >= Constants.ROLE_CENTER && role <= Constants.ROLE_BRANCH; // center, region, branch
    }

    /** After the peer identity checks of Handshake (9D0E, 9D0F, 9D0D): the peer ROLE must be accepted (9D04). */
    private void peerRole(boolean wantBank) {
        byte role = s.buf()[Session.OFF_PEER_ROLE];
        if (wantBank ? !isBankRole(role) : role != Constants.ROLE_ADMIN) {
            ISOException.throwIt(Constants.SW_PAIR_NOT_ALLOWED);
        }
    }

    /** A4 / A5 / A6 body at w[o] starts R | APP_ID | CODE (R = R1 in A4 and A6, R2 in A5). */
    private void head(byte[] w, short o, short rOff, byte code) {
        Util.arrayCopyNonAtomic(s.buf(), rOff, w, o, Constants.RANDOM_LEN);
        Util.arrayCopyNonAtomic(prof.data(), Profile.OFF_APP_ID, w, (short) (o + Constants.A4_APP), Constants.APP_ID_LEN);
        w[(short) (o + Constants.A4_CODE)] = code;
    }

    /** A4 / A6: COUNT at w[c], bank ACCOUNT | KEYNUM (the current key) at w[a]. */
    private void tail(byte[] w, short c, short a) {
        Util.setShort(w, c, bank.count());
        Util.arrayCopyNonAtomic(prof.data(), Profile.OFF_ACCOUNT, w, a, Constants.ACCOUNT_LEN);
        w[(short) (a + Constants.ACCOUNT_LEN)] = keys.current();
    }

    /**
     * Opens the packet at b[pktOff] under K_S into work[o]; true if it opened and its body starts
     * with our R (session offset rOff), our APP_ID and code.
     */
    private boolean openHead(byte type, byte[] b, short pktOff, short pktLen, short bodyLen, short o, short rOff,
            byte code) {
        byte[] w = s.work();
        byte[] sb = s.buf();
        Key ks = hs.key((byte) 2); // the session's K_S
        return hs.pk.open(type, sb[Session.OFF_K], sb, Session.OFF_TID, ks, ks, b, pktOff, pktLen, bodyLen, w, o)
                && Util.arrayCompare(w, o, sb, rOff, Constants.RANDOM_LEN) == 0
                && hs.appIdOk(w, (short) (o + Constants.A4_APP)) && w[(short) (o + Constants.A4_CODE)] == code;
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
        byte[] b = apdu.getBuffer();
        if (p1 == Constants.ADMIN_P1_ADMIN) {
            // row AI
            Purse.recv(apdu, Constants.ADMIN_REQ_LEN);
            p.requireMoney();
            p.requireRole(Constants.ROLE_ADMIN);
            p.requirePin();
            if (!paramsOk(b[(short) (CD + Constants.AREQ_OP)], b, (short) (CD + Constants.AREQ_PARAMS))) {
                Purse.wrongData();
            }
            Util.arrayCopyNonAtomic(b, CD, s.buf(), Session.OFF_REQ, Constants.ADMIN_REQ_LEN);
            return hs.offer(b, Constants.SESSION_ADMIN_W_A1);
        }
        // row BI
        Purse.recv(apdu, Constants.ADMIN_BANK_INIT_LEN);
        p.requireMoney();
        if (!isBankRole(prof.role())) {
            Purse.wrongRole();
        }
        short k = b[CD] == prof.suite() ? keys.choosePair(b[(short) (CD + 1)]) : (short) -1;
        if (k < 0) {
            p.noCommonKeys();
        }
        short len = hs.sealFirst(Constants.PT_A1, (byte) k, b, (short) (CD + 2), false, Constants.KS_AD);
        s.setState(Constants.SESSION_BANK_W_A2);
        return len;
    }

    // ------------------------------------------------------------------ 84 (admin)

    /** Row AO: A1 -> A2 (96 AES, 88 TDES). */
    public short op(APDU apdu) {
        if (apdu.getBuffer()[ISO7816.OFFSET_P1] == Constants.ADMIN_P1_MORE) {
            return opMore(apdu);
        }
        // responder: step, then receive exactly the first packet (P1 layout)
        hs.step(apdu, Constants.SESSION_ADMIN_W_A1);
        short pktLen = Packets.packetLen(Constants.BODY_P1, hs.blk());
        Purse.recv(apdu, pktLen);
        p.requireMoney();
        byte[] b = apdu.getBuffer();
        byte[] sb = s.buf();
        byte[] w = s.work();
        byte k = hs.openFirst(Constants.PT_A1, b, pktLen, Constants.KS_AD);
        peerRole(true);
        p.requirePin();
        hs.randoms();
        // A2: the P2 layout (admin identity + R2), then CODE 09 | OP | PARAMS | DATE, the REQ as stored
        w[(short) (W_B1 + Constants.A2_CODE)] = Constants.CODE_ADMIN_OP;
        Util.arrayCopyNonAtomic(sb, Session.OFF_REQ, w, (short) (W_B1 + Constants.A2_OP), Constants.ADMIN_REQ_LEN);
        short len = hs.sealSecond(Constants.PT_A2, k, b, false, Constants.BODY_A2);
        prof.pin(Constants.REF_PIN).reset(); // one PIN per admin op
        s.setState(Constants.SESSION_ADMIN_W_A4);
        return len;
    }

    // ------------------------------------------------------------------ 86 (bank)

    /** Row AP: A2 -> A4; the op in one transaction. */
    public short apply(APDU apdu) {
        if (apdu.getBuffer()[ISO7816.OFFSET_P1] == Constants.ADMIN_P1_MORE) {
            return applyMore(apdu);
        }
        hs.step(apdu, Constants.SESSION_BANK_W_A2);
        Purse.recv(apdu, Packets.packetLen(Constants.BODY_A2, hs.blk()));
        p.requireMoney();
        byte[] b = apdu.getBuffer();
        byte[] sb = s.buf();
        byte[] w = s.work();
        hs.openSecond(Constants.PT_A2, b, Constants.BODY_A2);
        peerRole(false);
        hs.accept();
        if (w[(short) (W_B1 + Constants.A2_CODE)] != Constants.CODE_ADMIN_OP) {
            p.badPacket();
        }
        byte op = w[(short) (W_B1 + Constants.A2_OP)];
        short par = (short) (W_B1 + Constants.A2_PARAMS);
        byte result;
        JCSystem.beginTransaction();
        switch (op) {
            case Constants.OP_BAD_CARD_ADD:
                // a batch of one (PREFIX | LOW = the ACCOUNT; the packet in b is spent: scratch):
                // 1 added = RESULT_DONE (00), 0 = RESULT_NO_CHANGE (01)
                result = (byte) (Constants.RESULT_NO_CHANGE
                        - bank.addBatch(w, par, (short) 1, keys.current(), w, W_ACC, b, w, W_A6));
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
                Purse.wrongData();
                return (short) 0;
        }
        JCSystem.commitTransaction();
        // A4 (K_S): R1 | APP_ID | CODE 0A | OP | RESULT | COUNT | PARAMS | bank ACCOUNT | KEYNUM
        // built over the A2 body in place: PARAMS move from 46 to 21 (before anything overwrites them)
        Util.arrayCopyNonAtomic(w, par, w, (short) (W_B1 + Constants.A4_PARAMS), Constants.ADMIN_PARAMS_LEN);
        head(w, W_B1, Session.OFF_R1, Constants.CODE_ADMIN_RESULT);
        w[(short) (W_B1 + Constants.A4_OP)] = op;
        w[(short) (W_B1 + Constants.A4_RESULT)] = result;
        tail(w, (short) (W_B1 + Constants.A4_COUNT), (short) (W_B1 + Constants.A4_ACCOUNT));
        short len = hs.sealS(Constants.PT_A4, W_B1, Constants.BODY_A4, b, (short) 0);
        if (op == Constants.OP_BAD_CARD_ADD) {
            // the session goes on: batches of more accounts under the same K_S (86 P1 01)
            sb[Session.OFF_ADMIN_SEQ] = (byte) 0;
            s.setState(Constants.SESSION_BANK_W_A5);
        } else {
            s.reset();
        }
        return len;
    }

    // ------------------------------------------------------------------ 88 (admin)

    /** Row AK: A4 -> RESULT | COUNT | bank ACCOUNT (11); P1 01: row BK, A6 -> BATCH_ACK (17). */
    public short ack(APDU apdu) {
        byte[] b = apdu.getBuffer();
        if (b[ISO7816.OFFSET_P1] == Constants.ADMIN_P1_MORE) {
            Purse.p1p2(apdu, Constants.ADMIN_P1_MORE, (byte) 0);
            if (s.state() != Constants.SESSION_ADMIN_W_A6) {
                Purse.conditions();
            }
            short a6 = Packets.packetLen(Constants.BODY_A6, hs.blk());
            Purse.recv(apdu, a6);
            p.requireMoney();
            batchResult(b, false, a6);
            s.reset();
            return Constants.BATCH_ACK_LEN;
        }
        hs.step(apdu, Constants.SESSION_ADMIN_W_A4);
        Purse.recv(apdu, Constants.PKT_A4);
        p.requireMoney();
        byte[] w = s.work();
        openA4(b);
        Util.arrayCopyNonAtomic(w, (short) (W_B1 + Constants.A4_RESULT), b, (short) 0, (short) 3); // RESULT | COUNT
        Util.arrayCopyNonAtomic(w, (short) (W_B1 + Constants.A4_ACCOUNT), b, (short) 3, Constants.ACCOUNT_LEN);
        s.reset();
        return Constants.ADMIN_ACK_RESP_LEN;
    }

    /** A4 at b[CD] opened into work[W_B1] and checked against REQ and the peer (9D03 +BK). */
    private void openA4(byte[] b) {
        byte[] sb = s.buf();
        byte[] w = s.work();
        if (!openHead(Constants.PT_A4, b, CD, Constants.PKT_A4, Constants.BODY_A4, W_B1, Session.OFF_R1,
                Constants.CODE_ADMIN_RESULT)
                || w[(short) (W_B1 + Constants.A4_OP)] != sb[(short) (Session.OFF_REQ + Constants.AREQ_OP)]
                || Util.arrayCompare(w, (short) (W_B1 + Constants.A4_PARAMS), sb,
                        (short) (Session.OFF_REQ + Constants.AREQ_PARAMS), Constants.ADMIN_PARAMS_LEN) != 0
                || Util.arrayCompare(w, (short) (W_B1 + Constants.A4_ACCOUNT), sb, Session.OFF_PEER_ACCOUNT,
                        Constants.ACCOUNT_LEN) != 0) {
            p.badPacket();
        }
    }

    // ------------------------------------------------------------------ batches (84 / 86 / 88 P1 01)

    /**
     * The bank's answer at b[CD] (A4 of the ADD op if first, else the A6 of the last A5) opened and
     * checked (9D03 +BK); BATCH_ACK = N | COUNT | BITS | bank ACCOUNT into b[0] (an A4 as N = 1).
     */
    private void batchResult(byte[] b, boolean first, short prevLen) {
        byte[] sb = s.buf();
        byte[] w = s.work();
        if (first) {
            openA4(b);
            b[0] = (byte) 1;
            Util.arrayCopyNonAtomic(w, (short) (W_B1 + Constants.A4_COUNT), b, (short) 1, (short) 2);
            Util.arrayFillNonAtomic(b, (short) 3, Constants.BATCH_BITS_LEN, (byte) 0);
            if (w[(short) (W_B1 + Constants.A4_RESULT)] == Constants.RESULT_DONE) {
                b[3] = (byte) 0x80;
            }
            Util.arrayCopyNonAtomic(w, (short) (W_B1 + Constants.A4_ACCOUNT), b, (short) 9, Constants.ACCOUNT_LEN);
            return;
        }
        if (!openHead(Constants.PT_A6, b, CD, prevLen, Constants.BODY_A6, W_B1, Session.OFF_R1,
                Constants.CODE_ADMIN_BATCH_RESULT)
                || w[(short) (W_B1 + Constants.A6_SEQ)] != sb[Session.OFF_ADMIN_SEQ]
                || w[(short) (W_B1 + Constants.A6_N)] != sb[Session.OFF_ADMIN_N]
                || Util.arrayCompare(w, (short) (W_B1 + Constants.A6_ACCOUNT), sb, Session.OFF_PEER_ACCOUNT,
                        Constants.ACCOUNT_LEN) != 0) {
            p.badPacket();
        }
        Util.arrayCopyNonAtomic(w, (short) (W_B1 + Constants.A6_N), b, (short) 0, Constants.BATCH_ACK_LEN);
    }

    /** The n of 84 / 86 P1 01 (P2, 1..BATCH_MAX; else 6A86). */
    private static short batchN(APDU apdu) {
        short n = (short) (apdu.getBuffer()[ISO7816.OFFSET_P2] & 0xFF);
        if (n < (short) 1 || n > Constants.BATCH_MAX) {
            Purse.wrongP1P2();
        }
        return n;
    }

    /**
     * Row BO, admin 84 P1 01 P2 n: (A4 | A6) | PREFIX(4) | n x LOW(4) -> BATCH_ACK of that answer | A5
     * (SEQ + 1, the n accounts, each a valid account: 6A80). Only in an ADD session.
     */
    private short opMore(APDU apdu) {
        short n = batchN(apdu);
        byte[] sb = s.buf();
        byte st = s.state();
        boolean first = st == Constants.SESSION_ADMIN_W_A4;
        // SEQ never wraps: a session takes 255 batches (11,730 accounts, more than a list holds), so
        // a recorded A5 or A6 of this session never carries the SEQ expected again
        if ((!first && st != Constants.SESSION_ADMIN_W_A6)
                || sb[(short) (Session.OFF_REQ + Constants.AREQ_OP)] != Constants.OP_BAD_CARD_ADD
                || sb[Session.OFF_ADMIN_SEQ] == Constants.BATCH_SEQ_LAST) {
            Purse.conditions();
        }
        short prevLen = first ? Constants.PKT_A4 : Packets.packetLen(Constants.BODY_A6, hs.blk());
        short lows = (short) (n * Constants.BATCH_LOW_LEN);
        Purse.recv(apdu, (short) (prevLen + Constants.BC_ACC_OFF + lows));
        p.requireMoney();
        byte[] b = apdu.getBuffer();
        byte[] w = s.work();
        batchResult(b, first, prevLen);
        // A5 (K_S): R2 | APP_ID | CODE 0B | SEQ | N | PREFIX | n x LOW
        short src = (short) (CD + prevLen);
        head(w, W_A5_ADM, Session.OFF_R2, Constants.CODE_ADMIN_BATCH);
        byte seq = (byte) (sb[Session.OFF_ADMIN_SEQ] + 1);
        w[(short) (W_A5_ADM + Constants.A5_SEQ)] = seq;
        w[(short) (W_A5_ADM + Constants.A5_N)] = (byte) n;
        Util.arrayCopyNonAtomic(b, src, w, (short) (W_A5_ADM + Constants.A5_PREFIX), (short) (Constants.BC_ACC_OFF + lows));
        Util.arrayCopyNonAtomic(b, src, w, W_B1, Constants.BC_ACC_OFF);
        src = (short) (src + Constants.BC_ACC_OFF);
        for (short i = 0; i < n; i++) {
            Util.arrayCopyNonAtomic(b, src, w, (short) (W_B1 + Constants.BC_ACC_OFF), Constants.BATCH_LOW_LEN);
            if (!Bcd.isValidAccount(w, W_B1)) {
                Purse.wrongData();
            }
            src = (short) (src + Constants.BATCH_LOW_LEN);
        }
        short len = hs.sealS(Constants.PT_A5, W_A5_ADM, (short) (Constants.A5_LOWS + lows), b,
                Constants.BATCH_ACK_LEN);
        sb[Session.OFF_ADMIN_SEQ] = seq;
        sb[Session.OFF_ADMIN_N] = (byte) n;
        s.setState(Constants.SESSION_ADMIN_W_A6);
        return (short) (Constants.BATCH_ACK_LEN + len);
    }

    /**
     * Row BA, bank 86 P1 01 P2 n: A5 (SEQ = last + 1, N = n, R2 echo, APP_ID: 9D03 +BK) -> the n adds
     * in one transaction (BankFiles.addBatch: 9D21 / 9D23 refuse the whole batch) -> A6.
     */
    private short applyMore(APDU apdu) {
        short n = batchN(apdu);
        byte[] sb = s.buf();
        if (s.state() != Constants.SESSION_BANK_W_A5 || sb[Session.OFF_ADMIN_SEQ] == Constants.BATCH_SEQ_LAST) {
            Purse.conditions(); // SEQ never wraps (opMore)
        }
        short bodyLen = (short) (Constants.A5_LOWS + (short) (n * Constants.BATCH_LOW_LEN));
        short pktLen = Packets.packetLen(bodyLen, hs.blk());
        Purse.recv(apdu, pktLen);
        p.requireMoney();
        byte[] b = apdu.getBuffer();
        byte[] w = s.work();
        byte seq = (byte) (sb[Session.OFF_ADMIN_SEQ] + 1);
        if (!openHead(Constants.PT_A5, b, CD, pktLen, bodyLen, W_A5, Session.OFF_R2, Constants.CODE_ADMIN_BATCH)
                || w[(short) (W_A5 + Constants.A5_SEQ)] != seq || w[(short) (W_A5 + Constants.A5_N)] != (byte) n) {
            p.badPacket();
        }
        Util.arrayFillNonAtomic(w, W_A6, Constants.BODY_A6, (byte) 0);
        // the packet in the APDU buffer is spent: scratch for the new entries and the index
        JCSystem.beginTransaction();
        bank.addBatch(w, (short) (W_A5 + Constants.A5_PREFIX), n, keys.current(), w, W_ACC, b, w,
                (short) (W_A6 + Constants.A6_BITS));
        JCSystem.commitTransaction();
        sb[Session.OFF_ADMIN_SEQ] = seq;
        // A6 (K_S): R1 | APP_ID | CODE 0C | SEQ | N | COUNT | BITS | bank ACCOUNT | KEYNUM
        head(w, W_A6, Session.OFF_R1, Constants.CODE_ADMIN_BATCH_RESULT);
        w[(short) (W_A6 + Constants.A6_SEQ)] = seq;
        w[(short) (W_A6 + Constants.A6_N)] = (byte) n;
        tail(w, (short) (W_A6 + Constants.A6_COUNT), (short) (W_A6 + Constants.A6_ACCOUNT));
        return hs.sealS(Constants.PT_A6, W_A6, Constants.BODY_A6, b, (short) 0);
    }

    // ------------------------------------------------------------------ 8A

    /** 8A: P1 page 0..29 -> COUNT | RATE | LOW | HIGH | ARCH | CURRENT | up to 40 entries. No PIN. */
    public short readBadCards(APDU apdu) {
        byte[] b = apdu.getBuffer();
        short page = (short) (b[ISO7816.OFFSET_P1] & 0xFF);
        if (b[ISO7816.OFFSET_P2] != 0 || page >= Constants.BC_PAGES) {
            Purse.wrongP1P2();
        }
        // no command data: never receive (on T=0, P3 is Le here)
        p.requireActive();
        if (!isBankRole(prof.role())) {
            Purse.wrongRole(); // and readPage's 9D12 if the files were never allocated
        }
        return bank.readPage(page, keys.info[Keys.I_ARCH], keys.current(), b, (short) 0);
    }

    // ------------------------------------------------------------------ 80 (center)
    // CENTER_ADVANCE (protocol.md 12.3, F6). The center opens a new key epoch: a fresh RNG key
    // numbered CURRENT + 1 replaces the oldest (archived on bank cards by Keys.addNewest), the
    // KEY_INFO date moves strictly forward, optionally a new INTEREST rate; BAD_KEY = 0 (the
    // center has no bank above it: the approval secret is what unlocks it).

    /** 80: DATE | RATE_FLAG | RATE (7) -> CURRENT | DATE (3). */
    public short advance(APDU apdu) {
        Purse.cmd(apdu, Constants.ADVANCE_DATA_LEN);
        p.requireActive();
        p.requireRole(Constants.ROLE_CENTER);
        // no LOCKED gate (12.3)
        OwnerPIN approval = prof.pin(Constants.REF_APPROVAL);
        if (!approval.isValidated()) {
            ISOException.throwIt(Constants.SW_APPROVAL_REQUIRED);
        }
        byte[] b = apdu.getBuffer();
        byte flag = b[(short) (CD + Constants.ADV_RATE_FLAG)];
        if ((byte) (flag & (byte) 0xFE) != 0) { // 00 or 01
            Purse.wrongData();
        }
        byte[] w = s.work();
        keys.getDate(w, W_EPOCH_DATE);
        // unsigned day numbers, new > old: flipping the sign bit makes unsigned order signed order
        if ((short) (Util.getShort(b, (short) (CD + Constants.ADV_DATE)) ^ (short) 0x8000)
                <= (short) (Util.getShort(w, W_EPOCH_DATE) ^ (short) 0x8000)) {
            ISOException.throwIt(Constants.SW_DATE_BACKWARDS);
        }
        short kl = CryptoSuite.keyLen(prof.suite());
        cs.random(w, W_EPOCH_KEY, kl);
        JCSystem.beginTransaction();
        keys.addNewest(w, W_EPOCH_KEY, b, (short) (CD + Constants.ADV_DATE));
        if (flag == (byte) 1) {
            bank.setRate(b, (short) (CD + Constants.ADV_RATE));
        }
        prof.setByte(Profile.OFF_BAD_KEY, (byte) 0);
        JCSystem.commitTransaction();
        Util.arrayFillNonAtomic(w, W_EPOCH_KEY, Constants.KEYLEN_MAX, (byte) 0);
        approval.reset(); // one approval per epoch
        b[0] = keys.current();
        keys.getDate(b, (short) 1);
        return Constants.ADVANCE_RESP_LEN;
    }
}
