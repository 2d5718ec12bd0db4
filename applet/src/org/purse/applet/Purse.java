/*
 * purse: the applet. Install, dispatch, life/lock gates, reads, VERIFY / CHANGE REFERENCE DATA
 * (protocol.md 4), SET_PRIVACY (8C). Personalisation (10, 12), Issuer (14-1A), Transfer (40-54), Sync
 * (70-7E), Admin (80-8A) do the rest.
 */
package org.purse.applet;

import javacard.framework.APDU;
import javacard.framework.Applet;
import javacard.framework.ISO7816;
import javacard.framework.ISOException;
import javacard.framework.JCSystem;
import javacard.framework.OwnerPIN;
import javacard.framework.Util;

public final class Purse extends Applet {
    /**
     * Shared scratch: [0, 55) for one call of its largest user, an OUTCOMES entry (Balance 34,
     * Profile 8); then Balance's remembered record, kept between calls (Balance.SEEN).
     */
    static final short SCRATCH_LEN = Balance.SEEN_END;

    final Keys keys; // also read by Issuer's constructor
    final Profile prof; // also read by Issuer's constructor
    final Balance bal; // also read by Issuer's constructor
    final Passbook pb; // also read by Issuer's constructor
    final Slots slots; // also read by Issuer's constructor
    final Session sess; // also read by Issuer's constructor
    private final Transfer transfer;
    private final Personalisation perso;
    /**
     * Bank-role commands (14-1A, 72, 76, 80-8A: Issuer.dispatch) and a bank role's part of
     * personalisation; a stub in the user-card applet.
     */
    final Issuer issuer;
    private final Sync sync;

    private Purse(byte[] tk, short tkOff, byte tkLen) {
        CryptoSuite cs = new CryptoSuite();
        // one transient scratch for Profile, Balance and Slots: each uses it only within
        // one call and none calls another's user of it meanwhile
        byte[] scratch = JCSystem.makeTransientByteArray(SCRATCH_LEN, JCSystem.CLEAR_ON_DESELECT);
        Packets pk = new Packets(cs);
        keys = new Keys(cs);
        prof = new Profile(cs, tk, tkOff, tkLen, scratch);
        bal = new Balance(cs, prof.data, Profile.OFF_ACCOUNT, scratch);
        pb = new Passbook();
        slots = new Slots(scratch);
        sess = new Session();
        Handshake hs = new Handshake(this, cs, pk, keys, prof, bal, pb, slots, sess);
        transfer = new Transfer(this, keys, prof, bal, pb, slots, sess, hs);
        perso = new Personalisation(this, cs, pk, keys, prof, bal, sess);
        pb.link(slots);
        sync = new Sync(this, cs, keys, prof, bal, pb, slots, sess, hs);
        issuer = new Issuer(this, perso, cs, pk, hs);
    }

    /** Public development transport keys: "purse-dev-transport-3des"; its first 16 bytes are the AES one. */
    private static final byte[] DEV_TK = {0x70, 0x75, 0x72, 0x73, 0x65, 0x2D, 0x64, 0x65, 0x76, 0x2D, 0x74, 0x72,
        0x61, 0x6E, 0x73, 0x70, 0x6F, 0x72, 0x74, 0x2D, 0x33, 0x64, 0x65, 0x73};

    /** params: TK (16 = AES, 24 = TDES); empty = dev AES "purse-dev-transp"; 00 = dev TDES "purse-dev-transport-3des". */
    public static void install(byte[] bArray, short bOffset, byte bLength) {
        short off = bOffset;
        for (short i = 0; i < (short) 2; i++) {
            off = (short) (off + (short) (bArray[off] & 0xFF) + 1); // skip the AID, then the control info
        }
        byte la = bArray[off];
        off = (short) (off + 1);
        byte[] tk = bArray;
        if (la == (byte) 0 || (la == (byte) 1 && bArray[off] == (byte) 0)) {
            // the development keys: AES "purse-dev-transp" is the first 16 bytes of TDES
            tk = DEV_TK;
            off = (short) 0;
            la = la == (byte) 0 ? (byte) 16 : (byte) 24;
        } else if (la != (byte) 16 && la != (byte) 24) {
            wrongData();
        }
        Purse p = new Purse(tk, off, la);
        p.register();
    }

    public boolean select() {
        sess.reset();
        prof.resetValidations();
        return true;
    }

    public void deselect() {
        sess.reset();
        prof.resetValidations();
    }

    public void process(APDU apdu) {
        byte[] b = apdu.getBuffer();
        if (selectingApplet()) {
            // STATUS (its first 4 bytes are the old answer: VER_MAJ VER_MIN LIFE SUITE), then the
            // payee hello of a transfer (protocol.md 4.1, 6.1), then on a bank card its files'
            // header: the host needs neither 30 nor 40 nor, for a sync, 8A
            writeStatus(b);
            apdu.setOutgoingAndSend((short) 0, issuer.selectTail(b, transfer.arm(b, Constants.STATUS_LEN)));
            return;
        }
        if (b[ISO7816.OFFSET_CLA] != Constants.CLA_PURSE) {
            ISOException.throwIt(Constants.SW_CLA_NOT_SUPPORTED);
        }
        byte ins = b[ISO7816.OFFSET_INS];
        short len;
        try {
            len = dispatch(apdu, ins);
        } catch (ISOException e) {
            // every error ends the command's session and leaves no open transaction
            fail(ins);
            throw e;
        } catch (RuntimeException e) {
            // a crypto or bounds error must never surface as 6F00; treat it as a failed step
            fail(ins);
            ISOException.throwIt(Constants.SW_CONDITIONS);
            return;
        }
        if (len > (short) 0) {
            apdu.setOutgoingAndSend((short) 0, len);
        }
    }

    private void fail(byte ins) {
        if (JCSystem.getTransactionDepth() != 0) {
            JCSystem.abortTransaction();
        }
        // steps that depend on the transient session end it on error (protocol.md 6.2, 5.2)
        if (endsSession(ins)) {
            sess.reset();
        }
    }

    /**
     * Whether an error of this INS ends the transient session: its flag in SESSION_INS_*.
     */
    static boolean endsSession(byte ins) {
        short i = (short) ((short) (ins & 0xFF) - Constants.INS_AUTH_INIT);
        if (i < 0 || i > (short) 0x7E || (short) (i & 1) != 0) {
            return false;
        }
        i = (short) (i >> 1);
        short q = (short) (i >> 4);
        short m = SESSION_INS_3;
        if (q == 0) {
            m = SESSION_INS_0;
        } else if (q == 1) {
            m = SESSION_INS_1;
        } else if (q == 2) {
            m = SESSION_INS_2;
        }
        return (short) (m & (short) (1 << (short) (i & 15))) != 0;
    }

    // INS whose error ends the transient session: the steps that read or build it (steps from P4 on
    // run from the persistent slots; the others hold none). Bit b of SESSION_INS_q flags INS
    // 0x10 + 0x20 q + 2 b; odd and unlisted INS: no. Purse-only (not protocol constants).
    private static final short SESSION_INS_0 = (short) 0x001F; // 10 12 14 16 18 (auth, issue)
    private static final short SESSION_INS_1 = (short) 0x0E00; // 42 44 46 (transfer to P2P3)
    private static final short SESSION_INS_2 = (short) 0x0000;
    private static final short SESSION_INS_3 = (short) 0x1E3F; // 70 .. 7A (sync), 82 .. 88 (admin)

    private short dispatch(APDU apdu, byte ins) {
        switch (ins) {
            case Constants.INS_AUTH_INIT:
                return perso.authInit(apdu);
            case Constants.INS_AUTH_FINISH:
                return perso.authFinish(apdu);
            case Constants.INS_VERIFY:
                return verify(apdu);
            case Constants.INS_CHANGE_REF:
                return changeRef(apdu);
            case Constants.INS_GET_STATUS:
                p00(apdu);
                // no command data: never receive (on T=0, P3 is Le here)
                return writeStatus(apdu.getBuffer());
            case Constants.INS_GET_PENDING:
                p00(apdu);
                // no command data: never receive (on T=0, P3 is Le here)
                requirePersonalised(); // also on an invalidated card (12.6)
                return slots.writePending(apdu.getBuffer(), (short) 0);
            case Constants.INS_READ_PASSBOOK:
                return readPassbook(apdu);
            case Constants.INS_READ_EXCEPTIONS:
                p00(apdu);
                // no command data: never receive (on T=0, P3 is Le here)
                requirePersonalised(); // also on an invalidated card (12.6)
                return slots.readExceptions(apdu.getBuffer(), (short) 0);
            case Constants.INS_XFER_PAYER_INIT:
                return transfer.payerInit(apdu);
            case Constants.INS_XFER_PAYEE_P1:
                return transfer.payeeP1(apdu);
            case Constants.INS_XFER_PAYER_P2P3:
                return transfer.payerP2P3(apdu);
            case Constants.INS_XFER_PAYEE_P4:
                return transfer.payeeP4(apdu);
            case Constants.INS_XFER_PAYER_ACK:
                return transfer.payerAck(apdu, false);
            case Constants.INS_XFER_ABORT:
                return transfer.abort(apdu);
            case Constants.INS_RESUME_GET_P4:
                return transfer.resumeGetP4(apdu);
            case Constants.INS_RESUME_GET_OUTCOME:
                return transfer.resumeGetOutcome(apdu);
            case Constants.INS_PENDING_TO_EXCEPTION:
                return transfer.pendingToException(apdu);
            case Constants.INS_SYNC_CARD_INIT:
                return sync.cardInit(apdu);
            case Constants.INS_SYNC_CARD_S1:
                return sync.cardS1(apdu);
            case Constants.INS_SYNC_CARD_P6:
                return sync.cardP6(apdu);
            case Constants.INS_SYNC_BANK_ACK:
                return transfer.payerAck(apdu, true);
            case Constants.INS_UNBLOCK_PIN:
                return sync.unblock(apdu);
            case Constants.INS_SET_PRIVACY:
                return setPrivacy(apdu);
            default:
                // the bank-role commands; any other INS: 6D00
                return issuer.dispatch(apdu, ins);
        }
    }

    // ------------------------------------------------------------------ helpers for the handlers

    /** P1 P2 = 00 00 (6A86) and Lc exactly len (6700): the head of most commands. */
    static short cmd(APDU apdu, short len) {
        p00(apdu);
        return recv(apdu, len);
    }

    // The ISO status words thrown from many places: a call without arguments is 3 bytes of
    // bytecode, a push of the status word and the call 6.

    /** 6A80. */
    static void wrongData() {
        ISOException.throwIt(Constants.SW_WRONG_DATA);
    }

    /** 6985. */
    static void conditions() {
        ISOException.throwIt(Constants.SW_CONDITIONS);
    }

    /** 6700. */
    static void wrongLength() {
        ISOException.throwIt(Constants.SW_WRONG_LENGTH);
    }

    /** 6A86. */
    static void wrongP1P2() {
        ISOException.throwIt(Constants.SW_WRONG_P1P2);
    }

    /** 9D04. */
    static void pairNotAllowed() {
        ISOException.throwIt(Constants.SW_PAIR_NOT_ALLOWED);
    }

    /** 9D12. */
    static void wrongRole() {
        ISOException.throwIt(Constants.SW_WRONG_ROLE);
    }

    /** Receives the command data; Lc must be exactly len (6700). Data at ISO7816.OFFSET_CDATA. */
    static short recv(APDU apdu, short len) {
        short n = receiveAll(apdu);
        if (n != len) {
            wrongLength();
        }
        return n;
    }

    /** Receives data of any length up to max (6700 beyond). */
    static short recvUpTo(APDU apdu, short max) {
        short n = receiveAll(apdu);
        if (n > max) {
            wrongLength();
        }
        return n;
    }

    /** All of Lc: a real card may deliver the data in several blocks (T=0). */
    private static short receiveAll(APDU apdu) {
        short got = apdu.setIncomingAndReceive();
        short lc = apdu.getIncomingLength();
        short off = (short) (ISO7816.OFFSET_CDATA + got);
        while (got < lc) {
            short r = apdu.receiveBytes(off);
            if (r <= 0) {
                break;
            }
            got = (short) (got + r);
            off = (short) (off + r);
        }
        return got;
    }

    /** P1 P2 = 00 00 (6A86). */
    static void p00(APDU apdu) {
        p1p2(apdu, (byte) 0, (byte) 0);
    }

    static void p1p2(APDU apdu, byte p1, byte p2) {
        byte[] b = apdu.getBuffer();
        if (b[ISO7816.OFFSET_P1] != p1 || b[ISO7816.OFFSET_P2] != p2) {
            wrongP1P2();
        }
    }

    /** P2 = 00 and P1 one of a, c (else 6A86); returns P1. */
    static byte p1Of(APDU apdu, byte a, byte c) {
        byte[] b = apdu.getBuffer();
        byte p1 = b[ISO7816.OFFSET_P1];
        if (b[ISO7816.OFFSET_P2] != 0 || (p1 != a && p1 != c)) {
            wrongP1P2();
        }
        return p1;
    }

    /** BAD_KEY + 1 outside any transaction (it must survive the abort), then 9D03. */
    void badPacket() {
        prof.badKeyIncrement();
        ISOException.throwIt(Constants.SW_BAD_PACKET);
    }

    void noCommonKeys() {
        prof.badKeyIncrement();
        ISOException.throwIt(Constants.SW_NO_COMMON_KEYS);
    }

    void requireActive() {
        requirePersonalised();
        if (prof.life() != Constants.LIFE_ACTIVE) {
            ISOException.throwIt(Constants.SW_INVALIDATED);
        }
    }

    /** LIFE active or invalidated (12.6: reads and VERIFY still answer on an invalidated card). */
    void requirePersonalised() {
        if (prof.life() == Constants.LIFE_BLANK) {
            ISOException.throwIt(Constants.SW_BLANK);
        }
    }

    /** The holder's PIN verified in this card session (9D13). */
    void requirePin() {
        if (!prof.pin(Constants.REF_PIN).isValidated()) {
            ISOException.throwIt(Constants.SW_PIN_REQUIRED);
        }
    }

    /** This card's ROLE is r (9D12). */
    void requireRole(byte r) {
        if (prof.role() != r) {
            wrongRole();
        }
    }

    /** LIFE active and not locked: the gate of every money and issuance command. */
    void requireMoney() {
        requireActive();
        if (prof.isLocked()) {
            ISOException.throwIt(Constants.SW_LOCKED);
        }
    }

    // ------------------------------------------------------------------ reads, VERIFY, CHANGE

    /** P1 00, P2 a reference data number 01..04 (6A86); returns P2. */
    private static byte refOf(APDU apdu) {
        byte[] b = apdu.getBuffer();
        byte ref = b[ISO7816.OFFSET_P2];
        if (b[ISO7816.OFFSET_P1] != 0 || ref < Constants.REF_PIN || ref > Constants.REF_APPROVAL) {
            wrongP1P2();
        }
        return ref;
    }

    /** The secret of ref; 9D04 if this role has none. */
    private OwnerPIN secret(byte ref) {
        OwnerPIN p = prof.pin(ref);
        if (p == null) {
            wrongRole();
        }
        return p;
    }

    /** One counted try of p against b[off, off + len): 6983 if blocked, 63Cx if wrong. */
    private static void check(OwnerPIN p, byte[] b, short off, short len) {
        if (p.getTriesRemaining() == 0 || !p.check(b, off, (byte) len)) {
            triesLeft(p); // 6983 when none are left
        }
    }

    private short verify(APDU apdu) {
        byte ref = refOf(apdu);
        byte[] b = apdu.getBuffer();
        short n = recvUpTo(apdu, (short) 16);
        if (ref == Constants.REF_PIN) {
            requirePersonalised(); // READ_PASSBOOK (PIN) still works on an invalidated card (12.6)
        } else {
            requireActive();
        }
        OwnerPIN p = secret(ref);
        if (ref == Constants.REF_TXKEY && !prof.txkeySet()) {
            ISOException.throwIt(Constants.SW_TXKEY_REQUIRED);
        }
        if (n == 0) {
            if (p.isValidated()) {
                return (short) 0;
            }
            triesLeft(p);
        }
        check(p, b, ISO7816.OFFSET_CDATA, n);
        return (short) 0;
    }

    private static void triesLeft(OwnerPIN p) {
        byte t = p.getTriesRemaining();
        if (t == 0) {
            ISOException.throwIt(Constants.SW_AUTH_BLOCKED);
        }
        ISOException.throwIt((short) (Constants.SW_VERIFY_FAILED | (short) (t & 0x0F)));
    }

    /** Lold old Lnew new; the old value is verified (counts a try). TXKEY with none set: Lold 0 + PIN. */
    private short changeRef(APDU apdu) {
        byte ref = refOf(apdu);
        byte[] b = apdu.getBuffer();
        short n = recvUpTo(apdu, (short) 34);
        short off = ISO7816.OFFSET_CDATA;
        short lold = (short) (b[off] & 0xFF);
        // Lnew is read only once Lold is known to lie within the data
        if (n < (short) 2 || (short) (lold + 2) > n
                || (short) (lold + (short) (b[(short) (off + 1 + lold)] & 0xFF) + 2) != n) {
            wrongLength();
        }
        short lnew = (short) (n - lold - 2);
        requireActive();
        OwnerPIN p = secret(ref);
        short min = Constants.PIN_MIN;
        short max = Constants.PIN_MAX;
        if (ref == Constants.REF_TXKEY) {
            min = Constants.TXKEY_MIN;
            max = Constants.TXKEY_MAX;
        } else if (ref != Constants.REF_PIN) {
            min = Constants.SECRET_MIN;
            max = Constants.SECRET_MAX;
        }
        if (lnew < min || lnew > max) {
            wrongData();
        }
        boolean first = ref == Constants.REF_TXKEY && !prof.txkeySet();
        if (first) {
            // no old value to prove: the holder proves the PIN instead
            if (lold != 0) {
                wrongData();
            }
            requirePin();
        } else {
            check(p, b, (short) (off + 1), lold);
        }
        JCSystem.beginTransaction();
        p.update(b, (short) (off + 2 + lold), (byte) lnew);
        if (first) {
            prof.setByte(Profile.OFF_TXKEY_SET, (byte) 1);
        }
        JCSystem.commitTransaction();
        return (short) 0;
    }

    /** 8C: P1 01 private / 00 public (12.9). User card, PIN, empty passbook, OUT and IN none. */
    private short setPrivacy(APDU apdu) {
        byte p1 = Purse.p1Of(apdu, Constants.PRIVACY_OFF, Constants.PRIVACY_ON);
        // no command data
        requireActive();
        requireRole(Constants.ROLE_USER);
        requirePin();
        if (pb.count() != 0 || (byte) (slots.outState() | slots.inState()) != Constants.SLOT_NONE) { // both none (0)
            Purse.conditions();
        }
        byte f = prof.flags();
        f = p1 == Constants.PRIVACY_ON ? (byte) (f | Constants.FLAG_PRIVATE) : (byte) (f & (byte) ~Constants.FLAG_PRIVATE);
        JCSystem.beginTransaction();
        prof.setByte(Profile.OFF_FLAGS, f);
        JCSystem.commitTransaction();
        return (short) 0;
    }

    /** STATUS (4.3) into o[0]; any life state. Returns STATUS_LEN. */
    short writeStatus(byte[] o) {
        Util.arrayFillNonAtomic(o, (short) 0, Constants.STATUS_LEN, (byte) 0);
        o[Constants.ST_VER_MAJ] = Constants.VERSION_MAJOR;
        o[Constants.ST_VER_MIN] = Constants.VERSION_MINOR;
        byte[] d = prof.data;
        // LIFE | SUITE | ROLE | FLAGS | ACCOUNT | NAME | CURRENCY | DECIMALS: the profile's order (all
        // zero but LIFE on a blank card)
        Util.arrayCopyNonAtomic(d, Profile.OFF_LIFE, o, Constants.ST_LIFE, (short) 23);
        if (prof.life() == Constants.LIFE_BLANK) {
            o[Constants.ST_SUITE] = prof.tkSuite();
            o[Constants.ST_TK_TRIES] = prof.transportTries();
            return Constants.STATUS_LEN;
        }
        byte[] r = bal.record;
        Util.arrayCopyNonAtomic(r, Constants.BAL_AMOUNT, o, Constants.ST_BALANCE, Constants.AMOUNT_LEN);
        Util.arrayCopyNonAtomic(d, Profile.OFF_MIN_TRANS, o, Constants.ST_MIN_TRANS, (short) 8); // min | max
        o[Constants.ST_CURRENT_KEY] = keys.current();
        keys.getDate(o, Constants.ST_KEY_DATE);
        Util.arrayCopyNonAtomic(d, Profile.OFF_BAD_KEY, o, Constants.ST_BAD_KEY, (short) 2); // | limit
        o[Constants.ST_PB_COUNT] = (byte) pb.count();
        o[Constants.ST_PB_CAPACITY] = (byte) Constants.PASSBOOK_ENTRIES;
        o[Constants.ST_PIN_TRIES] = prof.pin(Constants.REF_PIN).getTriesRemaining();
        o[Constants.ST_TXKEY_TRIES] = prof.txkeySet() ? prof.pin(Constants.REF_TXKEY).getTriesRemaining() : (byte) 0xFF;
        o[Constants.ST_OUT_STATE] = slots.outState();
        o[Constants.ST_IN_STATE] = slots.inState();
        o[Constants.ST_EXC_COUNT] = (byte) slots.exceptionCount();
        Util.arrayCopyNonAtomic(d, Profile.OFF_APP_ID, o, Constants.ST_APP_ID, Constants.APP_ID_LEN);
        Util.arrayCopyNonAtomic(r, Constants.BAL_INTEREST_DATE, o, Constants.ST_INTEREST_DATE, (short) 10); // date | rate | serial
        return Constants.STATUS_LEN;
    }

    private short readPassbook(APDU apdu) {
        byte[] b = apdu.getBuffer();
        short first = (short) (b[ISO7816.OFFSET_P1] & 0xFF);
        short count = (short) (b[ISO7816.OFFSET_P2] & 0xFF);
        if (count < (short) 1 || count > Constants.PB_READ_MAX) {
            wrongP1P2();
        }
        // no command data: never receive (on T=0, P3 is Le here)
        requirePersonalised(); // also on an invalidated card, with its PIN (12.6)
        // 12.10 item 5: PIN validated, or a bank card is syncing this card (IN = SYNC)
        if (!prof.pin(Constants.REF_PIN).isValidated() && slots.inState() != Constants.SLOT_SYNC) {
            ISOException.throwIt(Constants.SW_PIN_REQUIRED);
        }
        if ((short) (first + count) > pb.count()) {
            ISOException.throwIt(Constants.SW_RECORD_NOT_FOUND);
        }
        return pb.read(first, count, b, (short) 0);
    }
}
