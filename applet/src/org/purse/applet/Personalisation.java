/*
 * purse: transport channel, genesis, issuance and mint (protocol.md 5).
 * Blank side: AUTH_INIT / AUTH_FINISH. Issuer side (ISSUE_BEGIN / ISSUE_AUTH / ISSUE_CONFIRM, MINT):
 * Issuer, which the user-card applet replaces with a stub (applet/src-user).
 */
package org.purse.applet;

import javacard.framework.APDU;
import javacard.framework.ISO7816;
import javacard.framework.ISOException;
import javacard.framework.JCSystem;
import javacard.framework.OwnerPIN;
import javacard.framework.Util;
import javacard.security.Key;

public final class Personalisation {
    private static final short CD = ISO7816.OFFSET_CDATA;
    // work buffer layout: WorkMap (PE_*)
    private static final short W_BODY = WorkMap.PE_BODY;
    private static final short W_IMG = WorkMap.PE_IMG;
    private static final short W_CTX = WorkMap.PE_CTX;

    private final Purse p;
    private final CryptoSuite cs;
    private final Packets pk;
    private final Keys keys;
    private final Profile prof;
    private final Balance bal;
    private final Session s;

    public Personalisation(Purse p, CryptoSuite cs, Packets pk, Keys keys, Profile prof, Balance bal, Session s) {
        this.p = p;
        this.cs = cs;
        this.pk = pk;
        this.keys = keys;
        this.prof = prof;
        this.bal = bal;
        this.s = s;
    }

    // ------------------------------------------------------------------ transport channel (5.2)

    private void requireBlank() {
        byte life = prof.life();
        if (life == Constants.LIFE_ACTIVE) {
            ISOException.throwIt(Constants.SW_PERSONALISED);
        }
        if (life != Constants.LIFE_BLANK) {
            ISOException.throwIt(Constants.SW_INVALIDATED);
        }
        if (prof.transportTries() <= 0) {
            ISOException.throwIt(Constants.SW_TRANSPORT_BLOCKED);
        }
    }

    /** The session is in state st (6982). */
    void requireState(byte st) {
        if (s.state() != st) {
            ISOException.throwIt(Constants.SW_SECURITY_STATUS);
        }
    }

    /** (K_ENC, K_MAC) = KDF(tk, "PURSE TK", RH|RC) into work keys 0/1 of the transport suite. */
    void deriveTransport(Key tk, byte suite) {
        byte[] b = s.buf;
        cs.deriveInto(tk, Constants.LABEL_TK_0, Constants.LABEL_TK_1, b, Session.OFF_RH, (short) 16,
                cs.workKey(suite, (byte) 0), cs.workKey(suite, (byte) 1));
    }

    /** MAC8(K_MAC, tag | RH | RC) into out. */
    void cryptogram(byte suite, byte tag, byte[] out, short off) {
        byte[] w = s.work;
        w[W_CTX] = tag;
        Util.arrayCopyNonAtomic(s.buf, Session.OFF_RH, w, (short) (W_CTX + 1), (short) 16);
        cs.mac8(cs.workKey(suite, (byte) 1), w, W_CTX, (short) 17, out, off);
    }

    /** 10: RH -> RC | CC. */
    public short authInit(APDU apdu) {
        Purse.cmd(apdu, Constants.RANDOM_LEN);
        requireBlank();
        byte[] b = apdu.getBuffer();
        s.reset();
        byte[] sb = s.buf;
        Util.arrayCopyNonAtomic(b, CD, sb, Session.OFF_RH, Constants.RANDOM_LEN);
        cs.random(sb, Session.OFF_RC, Constants.RANDOM_LEN);
        byte ts = prof.tkSuite();
        deriveTransport(prof.transportKey(), ts);
        Util.arrayCopyNonAtomic(sb, Session.OFF_RC, b, (short) 0, Constants.RANDOM_LEN);
        cryptogram(ts, Constants.CRYPTOGRAM_CARD, b, Constants.RANDOM_LEN);
        s.setState(Constants.SESSION_TRANSPORT_OPEN);
        return (short) 16;
    }

    /** 12: HC | G1 or I1 -> G2 or I2. Personalises in one transaction. */
    public short authFinish(APDU apdu) {
        byte[] w = s.work;
        Purse.p00(apdu);
        short n = Purse.recvUpTo(apdu, (short) 255);
        requireBlank();
        requireState(Constants.SESSION_TRANSPORT_OPEN);
        byte ts = prof.tkSuite();
        short blk = CryptoSuite.blockLen(ts);
        byte[] b = apdu.getBuffer();
        short pktOff = (short) (CD + Constants.MAC_LEN);
        short pktLen = (short) (n - Constants.MAC_LEN);
        byte type = b[pktOff]; // without a packet, pktLen <= 0 fails the length checks below
        short bodyLen = Constants.BODY_G1;
        if (type == Constants.PT_I1) {
            // the issuer's suite decides the key length: AES or TDES keys
            bodyLen = (short) (Constants.BODY_I1_FIXED + 4 * Constants.KEYLEN_AES);
            if (pktLen != Packets.packetLen(bodyLen, blk)) {
                bodyLen = (short) (Constants.BODY_I1_FIXED + 4 * Constants.KEYLEN_TDES);
            }
        } else if (type != Constants.PT_G1) {
            Purse.wrongLength();
        }
        if (pktLen != Packets.packetLen(bodyLen, blk)) {
            Purse.wrongLength();
        }
        if (type == Constants.PT_G1) {
            Issuer.admit(prof, Constants.ROLE_CENTER, false); // the user-card applet: 6A81, nothing counted
        }
        // one try counted before the comparison (tear-safe, like OwnerPIN)
        prof.transportTry();
        cryptogram(ts, Constants.CRYPTOGRAM_HOST, w, W_IMG);
        if (!CryptoSuite.equalsCT(w, W_IMG, b, CD, Constants.MAC_LEN)) {
            ISOException.throwIt(prof.transportTries() <= 0 ? Constants.SW_TRANSPORT_BLOCKED : Constants.SW_BAD_PACKET);
        }
        byte[] sb = s.buf;
        Key ke = cs.workKey(ts, (byte) 0);
        Key km = cs.workKey(ts, (byte) 1);
        if (!pk.open(type, (byte) 0, sb, Session.OFF_RC, ke, km, b, pktOff, pktLen, bodyLen, w, W_BODY)) {
            ISOException.throwIt(Constants.SW_BAD_PACKET);
        }
        if (type == Constants.PT_I1) {
            Issuer.admit(prof, w[Constants.I1_ROLE], true); // the user-card applet: 6A81 but for ROLE user
        }
        personalise(w, type == Constants.PT_G1, bodyLen);
        // G2 / I2: RESULT 00 | ACCOUNT | ROLE | CURRENT | APP_ID | SUITE
        byte[] d = prof.data;
        w[Constants.G2_RESULT] = (byte) 0; // every other byte is written below
        Util.arrayCopyNonAtomic(d, Profile.OFF_ACCOUNT, w, Constants.G2_ACCOUNT, Constants.ACCOUNT_LEN);
        w[Constants.G2_ROLE] = prof.role();
        w[Constants.G2_CURRENT] = keys.current();
        Util.arrayCopyNonAtomic(d, Profile.OFF_APP_ID, w, Constants.G2_APP, Constants.APP_ID_LEN);
        w[Constants.G2_SUITE] = prof.suite();
        short len = pk.seal((byte) (type + 1), (byte) 0, sb, Session.OFF_RC, ke, km, w, (short) 0, Constants.BODY_G2, b,
                (short) 0); // G2 = G1 + 1, I2 = I1 + 1
        s.reset();
        Util.arrayFillNonAtomic(w, (short) 0, Session.WORK_LEN, (byte) 0);
        return len;
    }

    static boolean secretOk(byte[] w, short off, byte min, byte max, boolean mayBeEmpty) {
        byte l = w[off];
        return (mayBeEmpty && l == 0) || (l >= min && l <= max);
    }

    /** Holder fields of G1, I1 and ISSUE_REQ: printable NAME, BAD_KEY_LIMIT > 0, PIN, optional TXKEY after it. */
    static boolean holderOk(byte[] w, short name, short limit, short pin) {
        return Bcd.isPrintable(w, name, Constants.NAME_LEN) && w[limit] != 0
                && secretOk(w, pin, Constants.PIN_MIN, Constants.PIN_MAX, false)
                && secretOk(w, (short) (pin + Constants.SECRET_FIELD_LEN), Constants.TXKEY_MIN, Constants.TXKEY_MAX, true);
    }

    /**
     * G1 (5.3: the blank card becomes the bank center) or I1 (5.4: region / branch / user / admin).
     * Both bodies carry NAME(8) | CURRENCY(2) | DECIMALS | MIN(4) | MAX(4) | DATE(2) at nm, so one
     * image fill serves both; the profile image is built in work[W_IMG..) and written at once.
     */
    private void personalise(byte[] w, boolean g, short bodyLen) {
        short nm = Constants.I1_NAME;
        short lim = Constants.I1_BAD_KEY_LIMIT;
        short pin = Constants.I1_PIN;
        short iss = Constants.I1_ISSUER_ID;
        byte role = w[Constants.I1_ROLE];
        if (g) {
            nm = Constants.G1_NAME;
            lim = Constants.G1_BAD_KEY_LIMIT;
            pin = Constants.G1_PIN;
            iss = Constants.G1_ISSUER_ID;
            role = Constants.ROLE_CENTER;
        }
        short txk = (short) (pin + Constants.SECRET_FIELD_LEN);
        byte suite = w[Constants.G1_SUITE]; // = I1_SUITE
        byte dec = w[(short) (nm + 10)];
        // common field checks (6A80): name, currency, decimals, limit, PIN, TXKEY, suite, issuer id
        if (!holderOk(w, nm, lim, pin) || !Bcd.isBcd(w, (short) (nm + 8), (short) 4)
                || dec < 0 || dec > Constants.DECIMALS_MAX
                || !cs.supports(suite) // AES or TDES, and this card has it
                || !Bcd.isBcd(w, iss, (short) 6)) {
            Purse.wrongData();
        }
        if (g) {
            Issuer.genesisChecks(w);
        } else if (bodyLen != (short) (Constants.BODY_I1_FIXED + 4 * CryptoSuite.keyLen(suite))
                || role < Constants.ROLE_REGION || role > Constants.ROLE_ADMIN
                || (w[Constants.I1_FLAGS] & (byte) 0xFC) != 0
                || !Bcd.isValidAccount(w, Constants.I1_ACCOUNT)) {
            Purse.wrongData();
        }
        // profile image: zeros, LIFE active, TK tries 0, the transport suite kept
        Util.arrayFillNonAtomic(w, W_IMG, Profile.DATA_LEN, (byte) 0);
        w[(short) (W_IMG + Profile.OFF_LIFE)] = Constants.LIFE_ACTIVE;
        w[(short) (W_IMG + Profile.OFF_TK_SUITE)] = prof.tkSuite();
        w[(short) (W_IMG + Profile.OFF_SUITE)] = suite;
        w[(short) (W_IMG + Profile.OFF_ROLE)] = role;
        Util.arrayCopyNonAtomic(w, nm, w, (short) (W_IMG + Profile.OFF_NAME), (short) 11); // name | currency | decimals
        Util.arrayCopyNonAtomic(w, (short) (nm + 11), w, (short) (W_IMG + Profile.OFF_MIN_TRANS), (short) 8);
        w[(short) (W_IMG + Profile.OFF_BAD_KEY_LIMIT)] = w[lim];
        w[(short) (W_IMG + Profile.OFF_TXKEY_SET)] = w[txk] != 0 ? (byte) 1 : (byte) 0;
        if (!g) {
            w[(short) (W_IMG + Profile.OFF_FLAGS)] = w[Constants.I1_FLAGS];
            Util.arrayCopyNonAtomic(w, Constants.I1_ACCOUNT, w, (short) (W_IMG + Profile.OFF_ACCOUNT),
                    Constants.ACCOUNT_LEN);
            Util.arrayCopyNonAtomic(w, Constants.I1_APP, w, (short) (W_IMG + Profile.OFF_APP_ID),
                    Constants.APP_ID_LEN);
        }
        // issuers (center, admin): own issuer id, next serial 1; the center (G1): its account
        Issuer.issuerImage(cs, w, role, iss);

        keys.allocate(suite, Keys.PHYSICAL);
        bal.allocate(suite);
        p.issuer.allocate(role, suite); // bank roles: the key archive, bank files, OUT packet store
        JCSystem.beginTransaction();
        if (g) {
            Issuer.genesisKeys(keys, w);
        } else {
            keys.install(w[Constants.I1_CURRENT], w, Constants.I1_KEYS, w,
                    (short) (Constants.I1_KEYS + 4 * CryptoSuite.keyLen(suite)));
        }
        setSecret(prof.pin(Constants.REF_PIN), w, pin);
        if (w[txk] != 0) {
            setSecret(prof.pin(Constants.REF_TXKEY), w, txk);
        }
        // the profile first: Balance seals over the new ACCOUNT
        prof.set((short) 0, w, W_IMG, Profile.DATA_LEN);
        bal.init(w, (short) (nm + 8), dec, w, (short) (nm + 19));
        prof.wipeTransport();
        // bank roles: their files and a ring passbook (12.2, 12.8); genesis: CREATION, APPROVAL
        p.issuer.personalised(role, g, w);
        JCSystem.commitTransaction();
    }

    static void setSecret(OwnerPIN p, byte[] w, short off) {
        p.update(w, (short) (off + 1), w[off]);
    }
}
