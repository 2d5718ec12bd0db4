/*
 * purse: the issuer side of issuance (ISSUE_BEGIN / ISSUE_AUTH / ISSUE_CONFIRM, protocol.md 5.4) and
 * MINT (5.5): center and admin cards only. The user-card applet (applet/src-user) replaces this
 * class with a stub that answers 6D00 and refuses to personalise a blank card as a bank role.
 */
package org.purse.applet;

import javacard.framework.APDU;
import javacard.framework.ISO7816;
import javacard.framework.ISOException;
import javacard.framework.JCSystem;
import javacard.framework.OwnerPIN;
import javacard.framework.Util;
import javacard.security.Key;

public final class Issuer {
    private static final short CD = ISO7816.OFFSET_CDATA;
    // work buffer layout: WorkMap (PE_*)
    private static final short W_IMG = WorkMap.PE_IMG;
    private static final short W_CTX = WorkMap.PE_CTX;

    private final Purse p;
    private final Personalisation perso;
    private final CryptoSuite cs;
    private final Packets pk;
    private final Keys keys;
    private final Profile prof;
    private final Balance bal;
    private final Passbook pb;
    private final Slots slots;
    private final Session s;
    private final Admin admin;
    private final BankSync bankSync;
    /** Bank files (BAD_CARD, rate, range): allocated at personalisation for bank roles only. */
    private final BankFiles bank;

    /** The shared objects: the ones p holds from p (fewer arguments for the user-card applet's call). */
    public Issuer(Purse p, Personalisation perso, CryptoSuite cs, Packets pk, Handshake hs) {
        this.p = p;
        this.perso = perso;
        this.cs = cs;
        this.pk = pk;
        Keys keys = p.keys;
        Profile prof = p.prof;
        Balance bal = p.bal;
        Passbook pb = p.pb;
        Slots slots = p.slots;
        Session s = p.sess;
        this.keys = keys;
        this.prof = prof;
        this.bal = bal;
        this.pb = pb;
        this.slots = slots;
        this.s = s;
        bank = new BankFiles();
        admin = new Admin(p, cs, keys, prof, pb, slots, bank, s, hs);
        bankSync = new BankSync(p, cs, keys, prof, bal, pb, slots, s, bank, hs);
    }

    /**
     * A bank card's SELECT answer ends with READ_BAD_CARDS' header (protocol.md 4.1): the host's
     * range precheck of a sync needs no 8A. Returns the answer's new end (off on any other card).
     */
    short selectTail(byte[] b, short off) {
        if (!Admin.isBankRole(prof.role()) || !bank.allocated()) {
            return off;
        }
        // page 30 lies past any COUNT (1,200 at most): the header alone
        return (short) (off + bank.readPage(Constants.BC_PAGES, keys.info[Keys.I_ARCH], keys.current(), b, off));
    }

    // ------------------------------------------------------------------ a bank role's part of personalisation and of Passbook

    /**
     * Personalisation, outside its transaction (a torn one retries): a bank role (center, region,
     * branch) gets the 4 archive key objects, its files and the 216-byte OUT packet store (protocol.md 11).
     */
    void allocate(byte role, byte suite) {
        if (Admin.isBankRole(role)) {
            keys.allocate(suite, Keys.PHYSICAL_BANK);
            bank.allocate();
            if (slots.outPkt == null) {
                slots.outPkt = new byte[Constants.PKT_P6_MAX];
            }
        }
    }

    /**
     * Personalisation, inside its transaction, after the profile and balance: a bank role's files and
     * ring passbook (12.2, 12.8); genesis (g): the center's CREATION and APPROVAL.
     */
    void personalised(byte role, boolean g, byte[] w) {
        if (Admin.isBankRole(role)) {
            bank.initDefaults(prof.data, Profile.OFF_ACCOUNT);
            byte[] m = pb.meta;
            m[Passbook.M_RING] = (byte) 1;
            m[Passbook.M_HEAD] = (byte) 0;
        }
        if (g) {
            genesisSecrets(prof, w);
        }
    }

    /** True if keys has the 4 archive key objects (bank roles: allocate). */
    static boolean hasArchive(Keys keys) {
        return keys.objs[Keys.ARCHIVE] != null;
    }

    /**
     * Keys.addNewest, in its transaction, on a card with the archive (else false, nothing done): the
     * replaced key (number j - 4) goes to archive slot j & 3, the dropped archive key (j - 8) becomes
     * the spare; ARCH = min(ARCH + 1, 4) (12.3).
     */
    static boolean archive(Keys keys, short slot) {
        if (!hasArchive(keys)) {
            return false;
        }
        byte[] map = keys.map;
        byte[] info = keys.info;
        short a = (short) (Keys.ARCHIVE + slot);
        map[Keys.SPARE] = map[a];
        map[a] = map[slot];
        if (info[Keys.I_ARCH] < (byte) Constants.KEY_ARCHIVE) {
            info[Keys.I_ARCH] = (byte) (info[Keys.I_ARCH] + 1);
        }
        return true;
    }

    /**
     * Passbook.free of a ring (bank roles): the appends left before the DEBIT of a pending OUT would
     * be overwritten (50 if none).
     */
    static short ringFree(Passbook pb) {
        short f = Constants.PASSBOOK_ENTRIES;
        Slots slots = pb.slots;
        if (slots != null && slots.out[Slots.S_STATE] != Constants.SLOT_NONE) {
            // appends write physical(count), ..., then the oldest entries from head onwards
            short prot = slots.outPassbookIndex();
            short head = (short) (pb.meta[Passbook.M_HEAD] & 0xFF);
            short dist = (short) (prot - head);
            if (dist < 0) {
                dist = (short) (dist + Constants.PASSBOOK_ENTRIES);
            }
            f = (short) (Constants.PASSBOOK_ENTRIES - pb.count() + dist);
        }
        return f;
    }

    /** Purse.dispatch's bank-role commands (14-1A, 72, 76, 80-8A); any other INS: 6D00. */
    short dispatch(APDU apdu, byte ins) {
        switch (ins) {
            case Constants.INS_ISSUE_BEGIN:
                return issueBegin(apdu);
            case Constants.INS_ISSUE_AUTH:
                return issueAuth(apdu);
            case Constants.INS_ISSUE_CONFIRM:
                return issueConfirm(apdu);
            case Constants.INS_MINT:
                return mint(apdu);
            case Constants.INS_SYNC_BANK_INIT:
                return bankSync.bankInit(apdu);
            case Constants.INS_SYNC_BANK_P5:
                return bankSync.bankP5(apdu);
            case Constants.INS_CENTER_ADVANCE:
                return admin.advance(apdu);
            case Constants.INS_ADMIN_INIT:
                return admin.init(apdu);
            case Constants.INS_ADMIN_OP:
                return admin.op(apdu);
            case Constants.INS_ADMIN_APPLY:
                return admin.apply(apdu);
            case Constants.INS_ADMIN_ACK:
                return admin.ack(apdu);
            case Constants.INS_READ_BAD_CARDS:
                return admin.readBadCards(apdu);
            default:
                ISOException.throwIt(Constants.SW_INS_NOT_SUPPORTED);
                return (short) 0;
        }
    }

    /**
     * AUTH_FINISH on a blank card (Personalisation): may this applet become a card of ROLE role?
     * The full applet: every role. tried: a transport try was counted for this command.
     */
    static void admit(Profile prof, byte role, boolean tried) {
    }

    // ------------------------------------------------------------------ account numbers (bank-only parts of Bcd, Profile)

    /** ACCOUNT = issuer(6 digits) | serial(9 digits, nibbles 1..9 of the 5-byte counter) | Luhn. */
    static void composeAccount(byte[] issuer, short iOff, byte[] serial, short sOff, byte[] out, short off) {
        Util.arrayCopyNonAtomic(issuer, iOff, out, off, (short) 3);
        for (short i = 0; i < (short) 4; i++) {
            out[(short) (off + 3 + i)] = (byte) (((serial[(short) (sOff + i)] & 0x0F) << 4)
                    | ((serial[(short) (sOff + i + 1)] >> 4) & 0x0F));
        }
        out[(short) (off + 7)] = (byte) ((serial[(short) (sOff + 4)] & 0x0F) << 4);
        setLuhn(out, off);
    }

    /** Writes digit 16 of an account (low nibble of acc[off + 7]): the Luhn digit of the first 15. */
    static void setLuhn(byte[] acc, short off) {
        setDigit(acc, off, (short) 15, Bcd.luhn(acc, off));
    }

    private static void setDigit(byte[] buf, short off, short d, short value) {
        short p = (short) (off + (short) (d >> 1));
        if ((short) (d & 1) == 0) {
            buf[p] = (byte) ((buf[p] & 0x0F) | (short) (value << 4));
        } else {
            buf[p] = (byte) ((buf[p] & 0xF0) | value);
        }
    }

    /**
     * Increments the BCD digits [firstDigit, firstDigit + digits) of buf as one decimal number;
     * false on overflow (all 9s), buf unchanged then.
     */
    static boolean increment(byte[] buf, short off, short firstDigit, short digits) {
        short last = (short) (firstDigit + digits - 1);
        short d = last;
        while (d >= firstDigit && Bcd.digit(buf, off, d) == (short) 9) {
            d--;
        }
        if (d < firstDigit) {
            return false;
        }
        setDigit(buf, off, d, (short) (Bcd.digit(buf, off, d) + 1));
        for (short z = (short) (d + 1); z <= last; z++) {
            setDigit(buf, off, z, (short) 0);
        }
        return true;
    }

    // ------------------------------------------------------------------ genesis (5.3), for Personalisation

    /** G1: CREATION and APPROVAL well-formed and different (6A80). */
    static void genesisChecks(byte[] w) {
        if (!Personalisation.secretOk(w, Constants.G1_CREATION, Constants.SECRET_MIN, Constants.SECRET_MAX, false)
                || !Personalisation.secretOk(w, Constants.G1_APPROVAL, Constants.SECRET_MIN, Constants.SECRET_MAX, false)
                || Util.arrayCompare(w, Constants.G1_CREATION, w, Constants.G1_APPROVAL,
                        Constants.SECRET_FIELD_LEN) == 0) {
            Purse.wrongData();
        }
    }

    /**
     * Personalisation: the profile image at W_IMG of an issuer (role center, only by G1, or admin):
     * its issuer id (from iss), next serial 1; the center's also next issuer id, own account and a
     * random APP_ID. Disjoint from what Personalisation writes there for an I1 (FLAGS, ACCOUNT, APP_ID).
     */
    static void issuerImage(CryptoSuite cs, byte[] w, byte role, short iss) {
        if (role == Constants.ROLE_CENTER || role == Constants.ROLE_ADMIN) {
            Util.arrayCopyNonAtomic(w, iss, w, (short) (W_IMG + Profile.OFF_ISSUER_ID), (short) 3);
            w[(short) (W_IMG + Profile.OFF_NEXT_SERIAL + 4)] = (byte) 0x01;
        }
        if (role != Constants.ROLE_CENTER) {
            return;
        }
        // account = issuer | 000000000 | Luhn, next issuer id = issuer + 1, random APP_ID
        Util.arrayCopyNonAtomic(w, iss, w, (short) (W_IMG + Profile.OFF_NEXT_ISSUER), (short) 3);
        if (!increment(w, (short) (W_IMG + Profile.OFF_NEXT_ISSUER), (short) 0, (short) 6)) {
            Purse.wrongData();
        }
        Util.arrayFillNonAtomic(w, W_CTX, (short) 5, (byte) 0); // serial 000000000: the center's own account
        composeAccount(w, iss, w, W_CTX, w, (short) (W_IMG + Profile.OFF_ACCOUNT));
        cs.random(w, (short) (W_IMG + Profile.OFF_APP_ID), Constants.APP_ID_LEN);
    }

    /** G1, in the personalisation transaction: RNG keys FIRST..FIRST+3, CURRENT = FIRST + 3, the KEY_INFO date. */
    static void genesisKeys(Keys keys, byte[] w) {
        keys.install((byte) (w[Constants.G1_FIRST_KEYNUM] + 3), null, (short) 0, w, Constants.G1_DATE);
    }

    /** G1, in the personalisation transaction: the center's CREATION and APPROVAL secrets. */
    static void genesisSecrets(Profile prof, byte[] w) {
        Personalisation.setSecret(prof.pin(Constants.REF_CREATION), w, Constants.G1_CREATION);
        Personalisation.setSecret(prof.pin(Constants.REF_APPROVAL), w, Constants.G1_APPROVAL);
    }

    // ------------------------------------------------------------------ issuer side (5.4)

    /** 14: ISSUE_REQ -> RH. */
    public short issueBegin(APDU apdu) {
        Purse.p00(apdu);
        short n = Purse.recvUpTo(apdu, (short) 80);
        byte[] b = apdu.getBuffer();
        byte tkLen = b[CD]; // n = 0 fails the length check
        if ((tkLen != (byte) Constants.KEYLEN_AES && tkLen != (byte) Constants.KEYLEN_TDES)
                || n != (short) (1 + tkLen + Constants.IR_TAIL_LEN)) {
            Purse.wrongLength();
        }
        p.requireMoney();
        byte role = prof.role();
        short t = (short) (CD + 1 + tkLen);
        byte newRole = b[(short) (t + Constants.IR_ROLE)];
        // issuers: the center and admin cards; region, branch, user cards by both, admin cards by the center
        if ((role != Constants.ROLE_CENTER && role != Constants.ROLE_ADMIN)
                || !((newRole >= Constants.ROLE_REGION && newRole <= Constants.ROLE_USER)
                        || (newRole == Constants.ROLE_ADMIN && role == Constants.ROLE_CENTER))) {
            Purse.wrongRole();
        }
        p.requirePin();
        if (role == Constants.ROLE_CENTER && !prof.pin(Constants.REF_APPROVAL).isValidated()) {
            ISOException.throwIt(Constants.SW_APPROVAL_REQUIRED);
        }
        if ((b[(short) (t + Constants.IR_FLAGS)] & (byte) 0xFC) != 0
                || !Personalisation.holderOk(b, (short) (t + Constants.IR_NAME), (short) (t + Constants.IR_BAD_KEY_LIMIT),
                        (short) (t + Constants.IR_PIN))) {
            Purse.wrongData();
        }
        s.reset();
        byte[] sb = s.buf;
        Util.arrayCopyNonAtomic(b, CD, sb, Session.OFF_REQ, n);
        cs.random(sb, Session.OFF_RH, Constants.RANDOM_LEN);
        Util.arrayCopyNonAtomic(sb, Session.OFF_RH, b, (short) 0, Constants.RANDOM_LEN);
        s.setState(Constants.SESSION_ISSUER_W_AUTH);
        return Constants.RANDOM_LEN;
    }

    private byte reqTkSuite() {
        return s.buf[Session.OFF_REQ] == (byte) Constants.KEYLEN_TDES ? Constants.SUITE_TDES3 : Constants.SUITE_AES128;
    }

    /** 16: RC | CC -> HC | I1. Allocates the account number first, in its own transaction. */
    public short issueAuth(APDU apdu) {
        byte[] w = s.work;
        byte[] sb = s.buf;
        Purse.cmd(apdu, (short) 16);
        p.requireMoney();
        perso.requireState(Constants.SESSION_ISSUER_W_AUTH);
        byte[] b = apdu.getBuffer();
        byte ts = reqTkSuite();
        // the blank card's TK lives in work key 2 for this command only
        Key tk = cs.workKey(ts, (byte) 2);
        cs.setKey(tk, sb, (short) (Session.OFF_REQ + 1));
        Util.arrayCopyNonAtomic(b, CD, sb, Session.OFF_RC, Constants.RANDOM_LEN);
        perso.deriveTransport(tk, ts);
        perso.cryptogram(ts, Constants.CRYPTOGRAM_CARD, w, W_IMG);
        if (!CryptoSuite.equalsCT(w, W_IMG, b, (short) (CD + 8), Constants.MAC_LEN)) {
            p.badPacket();
        }
        short t = (short) (Session.OFF_REQ + 1 + sb[Session.OFF_REQ]);
        byte newRole = sb[(short) (t + Constants.IR_ROLE)];
        allocateAccount(sb, Session.OFF_NEW_ACCOUNT, newRole == Constants.ROLE_ADMIN, sb, Session.OFF_NEW_ISSUER);
        if (prof.role() == Constants.ROLE_CENTER) {
            prof.pin(Constants.REF_APPROVAL).reset(); // one approval per issuance
        }
        // I1 body
        byte suite = prof.suite();
        byte[] d = prof.data;
        // every byte of the body is written below (0 .. 78, then the keys and their date)
        w[Constants.I1_SUITE] = suite;
        w[Constants.I1_ROLE] = newRole;
        w[Constants.I1_FLAGS] = sb[(short) (t + Constants.IR_FLAGS)];
        Util.arrayCopyNonAtomic(sb, Session.OFF_NEW_ACCOUNT, w, Constants.I1_ACCOUNT, Constants.ACCOUNT_LEN);
        Util.arrayCopyNonAtomic(sb, (short) (t + Constants.IR_NAME), w, Constants.I1_NAME, Constants.NAME_LEN);
        Util.arrayCopyNonAtomic(d, Profile.OFF_CURRENCY, w, Constants.I1_CURRENCY, (short) 3);
        Util.arrayCopyNonAtomic(sb, (short) (t + Constants.IR_MIN_TRANS), w, Constants.I1_MIN_TRANS, (short) 10); // min|max|date
        Util.arrayCopyNonAtomic(d, Profile.OFF_APP_ID, w, Constants.I1_APP, Constants.APP_ID_LEN);
        Util.arrayCopyNonAtomic(sb, (short) (t + Constants.IR_BAD_KEY_LIMIT), w, Constants.I1_BAD_KEY_LIMIT, (short) 35); // limit|pin|txkey
        Util.arrayCopyNonAtomic(sb, Session.OFF_NEW_ISSUER, w, Constants.I1_ISSUER_ID, (short) 3);
        w[Constants.I1_CURRENT] = keys.current();
        // the 4 keys oldest first, then the KEY_INFO date
        short kl = BankSync.exportKeys(cs, keys, keys.oldest(), Constants.NUM_APPKEYS, w, Constants.I1_KEYS);
        keys.getDate(w, (short) (Constants.I1_KEYS + kl));
        short bodyLen = (short) (Constants.I1_KEYS + kl + Constants.DATE_LEN);
        perso.cryptogram(ts, Constants.CRYPTOGRAM_HOST, b, (short) 0);
        short len = pk.seal(Constants.PT_I1, (byte) 0, sb, Session.OFF_RC, cs.workKey(ts, (byte) 0),
                cs.workKey(ts, (byte) 1), w, (short) 0, bodyLen, b, Constants.MAC_LEN);
        Util.arrayFillNonAtomic(w, (short) 0, Session.WORK_LEN, (byte) 0); // plaintext keys
        s.setState(Constants.SESSION_ISSUER_W_CONFIRM);
        return (short) (Constants.MAC_LEN + len);
    }

    /** 18: I2 -> ACCOUNT. No state change. */
    public short issueConfirm(APDU apdu) {
        byte ts = reqTkSuite();
        short pktLen = Packets.packetLen(Constants.BODY_G2, CryptoSuite.blockLen(ts));
        Purse.cmd(apdu, pktLen);
        p.requireMoney();
        perso.requireState(Constants.SESSION_ISSUER_W_CONFIRM);
        byte[] b = apdu.getBuffer();
        byte[] sb = s.buf;
        byte[] w = s.work;
        if (!pk.open(Constants.PT_I2, (byte) 0, sb, Session.OFF_RC, cs.workKey(ts, (byte) 0), cs.workKey(ts, (byte) 1),
                b, CD, pktLen, Constants.BODY_G2, w, (short) 0)) {
            p.badPacket();
        }
        short t = (short) (Session.OFF_REQ + 1 + sb[Session.OFF_REQ]);
        if (w[Constants.G2_RESULT] != 0
                || Util.arrayCompare(w, Constants.G2_ACCOUNT, sb, Session.OFF_NEW_ACCOUNT, Constants.ACCOUNT_LEN) != 0
                || w[Constants.G2_ROLE] != sb[(short) (t + Constants.IR_ROLE)]
                || Util.arrayCompare(w, Constants.G2_APP, prof.data, Profile.OFF_APP_ID, Constants.APP_ID_LEN) != 0) {
            p.badPacket();
        }
        Util.arrayCopyNonAtomic(sb, Session.OFF_NEW_ACCOUNT, b, (short) 0, Constants.ACCOUNT_LEN);
        s.reset();
        return Constants.ACCOUNT_LEN;
    }

    // ------------------------------------------------------------------ mint (5.5)

    /** 1A: AMOUNT | DATE -> new balance. One transaction: balance + A, passbook MINT. */
    public short mint(APDU apdu) {
        byte[] w = s.work;
        byte[] b = apdu.getBuffer();
        Purse.cmd(apdu, (short) 6);
        p.requireMoney();
        p.requireRole(Constants.ROLE_CENTER);
        OwnerPIN creation = prof.pin(Constants.REF_CREATION);
        if (!creation.isValidated()) {
            ISOException.throwIt(Constants.SW_CREATION_REQUIRED);
        }
        if (Money32.isZero(b, CD)) {
            Purse.wrongData();
        }
        bal.check();
        Util.arrayFillNonAtomic(w, (short) 0, Constants.PB_ENTRY_LEN, (byte) 0);
        if (!bal.plus(b, CD, (short) 1, w, Constants.PB_NEW_BALANCE)) {
            ISOException.throwIt(Constants.SW_OVERFLOW);
        }
        if (pb.free(slots.inExpecting()) < (short) 1) {
            ISOException.throwIt(Constants.SW_PASSBOOK_FULL);
        }
        Util.arrayCopyNonAtomic(prof.data, Profile.OFF_ACCOUNT, w, Constants.PB_ACCOUNT, Constants.ACCOUNT_LEN);
        Util.setShort(w, Constants.PB_NAME, (short) 0x4D49); // "MINT    "
        Util.setShort(w, (short) (Constants.PB_NAME + 2), (short) 0x4E54);
        Util.arrayFillNonAtomic(w, (short) (Constants.PB_NAME + 4), (short) 4, (byte) 0x20);
        Util.arrayCopyNonAtomic(b, (short) (CD + 4), w, Constants.PB_DATE, Constants.DATE_LEN);
        w[Constants.PB_TYPE] = Constants.PB_TYPE_MINT;
        Util.arrayCopyNonAtomic(b, CD, w, Constants.PB_AMOUNT, Constants.AMOUNT_LEN);
        JCSystem.beginTransaction();
        bal.credit(b, CD);
        pb.append(w, (short) 0);
        JCSystem.commitTransaction();
        creation.reset(); // one verification per mint
        Util.arrayCopyNonAtomic(bal.record, Constants.BAL_AMOUNT, b, (short) 0, Constants.AMOUNT_LEN);
        return Constants.AMOUNT_LEN;
    }

    /**
     * Allocates ISSUER_ID | NEXT_SERIAL | Luhn into out and increments the serial (and, for a new
     * admin card, hands out NEXT_ISSUER_ID and increments it) in one transaction of its own, before
     * the number leaves the card: a number is never issued twice (protocol.md 1.1).
     */
    private void allocateAccount(byte[] out, short off, boolean newIssuerId, byte[] issuerOut, short iOff) {
        byte[] data = prof.data;
        byte[] tmp = prof.tmp;
        // tmp[0..5) new serial, tmp[5..8) new next issuer id: NEXT_SERIAL | NEXT_ISSUER_ID are adjacent
        Util.arrayCopyNonAtomic(data, Profile.OFF_NEXT_SERIAL, tmp, (short) 0, (short) 8);
        if (!increment(tmp, (short) 0, (short) 1, (short) 9)
                || (newIssuerId && !increment(tmp, (short) 5, (short) 0, (short) 6))) {
            ISOException.throwIt(Constants.SW_ACCOUNTS_EXHAUSTED);
        }
        Util.arrayFillNonAtomic(issuerOut, iOff, (short) 3, (byte) 0);
        if (newIssuerId) {
            Util.arrayCopyNonAtomic(data, Profile.OFF_NEXT_ISSUER, issuerOut, iOff, (short) 3);
        }
        composeAccount(data, Profile.OFF_ISSUER_ID, data, Profile.OFF_NEXT_SERIAL, out, off);
        // one write: the issuer id bytes are unchanged unless newIssuerId
        JCSystem.beginTransaction();
        Util.arrayCopy(tmp, (short) 0, data, Profile.OFF_NEXT_SERIAL, (short) 8);
        JCSystem.commitTransaction();
    }
}
