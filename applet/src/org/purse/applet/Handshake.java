/*
 * purse: the two-packet handshake shared by transfer (42-54), sync (70-7E) and admin (82-88)
 * (protocol.md 2.3, 6.3, 12.3, 12.8). One key per session, for the MAC and the keystream of every
 * packet: K_S = KDF(AK[k + 1], flow tag | SID | k | RP) into work key 2 and the session bytes (a slot keeps them for resume), derived
 * by the initiator for its first packet and by the responder on opening it. SID is the
 * initiator's fresh random, RP the responder's fresh random of its hello (SELECT for a payee, 70,
 * 82 P1 00), so the keys are new in every session on both sides and a recorded first packet opens
 * in no later responder session (6.1). First packet (P1 / S1 / A1) and second (P2 / P5 / A2)
 * share the P1 / P2 body layout at work[W_B1] (the second one with its flow's fields after it). Check order inside each helper is that of the
 * flows' rows.
 */
package org.purse.applet;

import javacard.framework.APDU;
import javacard.framework.ISO7816;
import javacard.framework.ISOException;
import javacard.framework.JCSystem;
import javacard.framework.Util;
import javacard.security.Key;

public final class Handshake {
    private static final short CD = ISO7816.OFFSET_CDATA;
    // work buffer offsets: WorkMap (HS_*), which declares what each flow reuses after derive
    static final short W_B1 = WorkMap.HS_B1;
    static final short W_CTX = WorkMap.HS_CTX;

    private final Purse p;
    private final CryptoSuite cs;
    /** Also Admin's, whose A-packets open under the session's K_S (bank-only code, so not here). */
    final Packets pk;
    private final Keys keys;
    private final Profile prof;
    private final Balance bal;
    private final Passbook pb;
    private final Slots slots;
    private final Session s;

    public Handshake(Purse p, CryptoSuite cs, Packets pk, Keys keys, Profile prof, Balance bal, Passbook pb,
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

    /** Work key 2 (K_S) of the profile's suite (0 / 1 are the transport channel's). */
    Key key(byte slot) {
        return cs.workKey(prof.suite(), slot);
    }

    short blk() {
        return CryptoSuite.blockLen(prof.suite());
    }

    boolean appIdOk(byte[] w, short off) {
        return Util.arrayCompare(w, off, prof.data(), Profile.OFF_APP_ID, Constants.APP_ID_LEN) == 0;
    }

    /**
     * K_S = KDF(AK[k + 1], tag | SID | k | RP) (protocol.md 2.3): its bytes into the session
     * (OFF_KS, what a slot keeps) and into work key 2.
     */
    private void derive(byte tag) {
        byte[] sb = s.buf();
        byte[] w = s.work();
        Util.arrayCopyNonAtomic(sb, Session.OFF_TID, w, W_CTX, Constants.SID_LEN);
        w[(short) (W_CTX + 6)] = sb[Session.OFF_K];
        Util.arrayCopyNonAtomic(sb, Session.OFF_RP, w, (short) (W_CTX + 7), Constants.RANDOM_LEN);
        cs.sessionKeys(keys.get((byte) (sb[Session.OFF_K] + 1)), tag, w, W_CTX, sb, Session.OFF_KS);
        cs.setKey(key((byte) 2), sb, Session.OFF_KS);
    }

    /**
     * Own identity field (12.9): ACCOUNT, or SIG(TID) when own and FLAGS bit1 (private) is set.
     * Transfer passes own = true; sync and admin always send the real account.
     */
    void ownId(byte[] tid, short tOff, byte[] out, short o) {
        if ((prof.flags() & Constants.FLAG_PRIVATE) != 0) {
            bal.sig(tid, tOff, out, o);
        } else {
            Util.arrayCopyNonAtomic(prof.data(), Profile.OFF_ACCOUNT, out, o, Constants.ACCOUNT_LEN);
        }
    }

    /** P1 / P2 body: R1 | APP_ID | NAME | ACCOUNT or ID | ROLE | FLAGS | CURRENCY (R2 is the caller's). */
    private void identityBody(byte[] w, boolean own) {
        byte[] d = prof.data();
        Util.arrayCopyNonAtomic(s.buf(), Session.OFF_R1, w, (short) (W_B1 + Constants.P1_R1), Constants.RANDOM_LEN);
        Util.arrayCopyNonAtomic(d, Profile.OFF_APP_ID, w, (short) (W_B1 + Constants.P1_APP), Constants.APP_ID_LEN);
        Util.arrayCopyNonAtomic(d, Profile.OFF_NAME, w, (short) (W_B1 + Constants.P1_NAME), Constants.NAME_LEN);
        if (own) {
            ownId(s.buf(), Session.OFF_TID, w, (short) (W_B1 + Constants.P1_ACCOUNT));
        } else {
            Util.arrayCopyNonAtomic(d, Profile.OFF_ACCOUNT, w, (short) (W_B1 + Constants.P1_ACCOUNT),
                    Constants.ACCOUNT_LEN);
        }
        w[(short) (W_B1 + Constants.P1_ROLE)] = prof.role();
        w[(short) (W_B1 + Constants.P1_FLAGS)] = prof.flags();
        Util.arrayCopyNonAtomic(d, Profile.OFF_CURRENCY, w, (short) (W_B1 + Constants.P1_CURRENCY),
                Constants.CURRENCY_LEN);
    }

    /** Peer identity of an opened P1 / P2 body: NAME (9D0E), ACCOUNT (9D0F), CURRENCY (9D0D); into the session. */
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

    /** P1 = P2 = 00 (6A86), then the transient session must be in this state (6985). */
    void step(APDU apdu, byte state) {
        Purse.p1p2(apdu, (byte) 0, (byte) 0);
        inState(state);
    }

    /** The transient session must be in this state (6985). */
    void inState(byte state) {
        if (s.state() != state) {
            Purse.conditions();
        }
    }

    /**
     * Responder INIT (70, 82 P1 00) answer: the new session state, a fresh RP, then SUITE | oldest
     * key number | RP. RP is this session's: a first packet sealed for any other session fails its MAC.
     */
    short offer(byte[] b, byte state) {
        b[0] = prof.suite();
        return offerAt(b, (short) 1, state);
    }

    /**
     * The hello without SUITE at b[off]: the session state, a fresh RP, then oldest key number | RP;
     * returns off + 9. SELECT uses it for the payee of a transfer (SUITE is in the status before it).
     */
    short offerAt(byte[] b, short off, byte state) {
        s.setState(state);
        cs.random(s.buf(), Session.OFF_RP, Constants.RANDOM_LEN);
        b[off] = keys.oldest();
        return Util.arrayCopyNonAtomic(s.buf(), Session.OFF_RP, b, (short) (off + 1), Constants.RANDOM_LEN);
    }

    /**
     * Initiator: the responder's RP from out[rpOff], k, fresh SID and R1 into the session, K_S of
     * AK[k + 1] under the flow's tag; first packet (P1 / S1 / A1) into out[0].
     */
    short sealFirst(byte type, byte k, byte[] out, short rpOff, boolean own, byte tag) {
        byte[] sb = s.buf();
        Util.arrayCopyNonAtomic(out, rpOff, sb, Session.OFF_RP, Constants.RANDOM_LEN);
        sb[Session.OFF_K] = k;
        cs.random(sb, Session.OFF_TID, Constants.SID_LEN);
        cs.random(sb, Session.OFF_R1, Constants.RANDOM_LEN);
        derive(tag);
        byte[] w = s.work();
        identityBody(w, own);
        return pk.seal(type, k, sb, Session.OFF_TID, key((byte) 2), key((byte) 2), w, W_B1, Constants.BODY_P1, out,
                (short) 0);
    }

    /**
     * Responder, first packet at b[CD] (pktLen received): TYPE (9D01), both keys k, k+1 held (9D02),
     * K_S derived (the flow's tag), open + APP_ID (9D01), peer identity (9D0E, 9D0F, 9D0D). Returns k.
     */
    byte openFirst(byte type, byte[] b, short pktLen, byte tag) {
        return openFirstAt(type, b, CD, pktLen, tag);
    }

    /** {@link #openFirst} of the first packet at b[at] (44: after AMOUNT | DATE). */
    byte openFirstAt(byte type, byte[] b, short at, short pktLen, byte tag) {
        byte[] sb = s.buf();
        byte[] w = s.work();
        if (b[(short) (at + Constants.HDR_OFF_TYPE)] != type) {
            p.badPacket();
        }
        byte k = b[(short) (at + Constants.HDR_OFF_KEYNUM)];
        if (!keys.holds(k) || !keys.holds((byte) (k + 1))) {
            p.noCommonKeys();
        }
        sb[Session.OFF_K] = k;
        Util.arrayCopyNonAtomic(b, (short) (at + Constants.HDR_OFF_SID), sb, Session.OFF_TID, Constants.SID_LEN);
        derive(tag);
        if (!pk.open(type, k, sb, Session.OFF_TID, key((byte) 2), key((byte) 2), b, at, pktLen, Constants.BODY_P1, w,
                W_B1)
                || !appIdOk(w, (short) (W_B1 + Constants.P1_APP))) {
            p.badPacket();
        }
        peerIdentity(w);
        return k;
    }

    /** Responder, after its own checks: R1 from the first body (before the work buffer is reused), fresh R2. */
    void randoms() {
        byte[] sb = s.buf();
        Util.arrayCopyNonAtomic(s.work(), (short) (W_B1 + Constants.P1_R1), sb, Session.OFF_R1, Constants.RANDOM_LEN);
        cs.random(sb, Session.OFF_R2, Constants.RANDOM_LEN);
    }

    /**
     * Responder: second packet (P2 / P5 / A2: own identity | R2, under K_S) sealed into out[0];
     * returns its length. bodyLen BODY_P2_TX, BODY_P5 or BODY_A2: the caller has put the fields
     * after the identity (AMOUNT, the commitment, the request) at work[W_B1 + 44] onwards.
     */
    short sealSecond(byte type, byte k, byte[] out, boolean own, short bodyLen) {
        byte[] sb = s.buf();
        byte[] w = s.work();
        identityBody(w, own);
        Util.arrayCopyNonAtomic(sb, Session.OFF_R2, w, (short) (W_B1 + Constants.P2_R2), Constants.RANDOM_LEN);
        return pk.seal(type, k, sb, Session.OFF_TID, key((byte) 2), key((byte) 2), w, W_B1, bodyLen, out,
                (short) 0);
    }

    /**
     * Initiator, second packet at b[CD] (its packet length for bodyLen): open under K_S, R1 echo,
     * APP_ID (9D01), then peer identity (9D0E, 9D0F, 9D0D). Returns k.
     */
    byte openSecond(byte type, byte[] b, short bodyLen) {
        byte[] sb = s.buf();
        byte[] w = s.work();
        byte k = sb[Session.OFF_K];
        if (!pk.open(type, k, sb, Session.OFF_TID, key((byte) 2), key((byte) 2), b, CD,
                Packets.packetLen(bodyLen, blk()), bodyLen, w, W_B1)
                || Util.arrayCompare(w, (short) (W_B1 + Constants.P2_R1), sb, Session.OFF_R1, Constants.RANDOM_LEN) != 0
                || !appIdOk(w, (short) (W_B1 + Constants.P2_APP))) {
            p.badPacket();
        }
        peerIdentity(w);
        return k;
    }

    /** Initiator, after its own checks: R2 from the second body (before the work buffer is reused). */
    void accept() {
        Util.arrayCopyNonAtomic(s.work(), (short) (W_B1 + Constants.P2_R2), s.buf(), Session.OFF_R2,
                Constants.RANDOM_LEN);
    }

    // ------------------------------------------------------------------ the later packets, same K_S

    /**
     * 31-byte body at work[o] (P4, ACK, NACK, SACK, SNACK): random | APP_ID | CODE | AMOUNT |
     * ACCOUNT | DATE (protocol.md 6.3).
     */
    void shortBody(short o, byte[] rnd, short rOff, byte code, byte[] amt, short aOff, byte[] acc, short accOff,
            byte[] date, short dOff) {
        byte[] w = s.work();
        Util.arrayCopyNonAtomic(rnd, rOff, w, (short) (o + Constants.PS_RANDOM), Constants.RANDOM_LEN);
        Util.arrayCopyNonAtomic(prof.data(), Profile.OFF_APP_ID, w, (short) (o + Constants.PS_APP),
                Constants.APP_ID_LEN);
        w[(short) (o + Constants.PS_CODE)] = code;
        Util.arrayCopyNonAtomic(amt, aOff, w, (short) (o + Constants.PS_AMOUNT), Constants.AMOUNT_LEN);
        Util.arrayCopyNonAtomic(acc, accOff, w, (short) (o + Constants.PS_ACCOUNT), Constants.ACCOUNT_LEN);
        Util.arrayCopyNonAtomic(date, dOff, w, (short) (o + Constants.PS_DATE), Constants.DATE_LEN);
    }

    /** Fields of a received 31-byte body at work[o] (date is informative and not checked). */
    boolean shortBodyOk(short o, byte[] rnd, short rOff, byte code, byte[] amt, short aOff, byte[] acc,
            short accOff) {
        byte[] w = s.work();
        return Util.arrayCompare(w, (short) (o + Constants.PS_RANDOM), rnd, rOff, Constants.RANDOM_LEN) == 0
                && Util.arrayCompare(w, (short) (o + Constants.PS_APP), prof.data(), Profile.OFF_APP_ID,
                        Constants.APP_ID_LEN) == 0
                && w[(short) (o + Constants.PS_CODE)] == code
                && Util.arrayCompare(w, (short) (o + Constants.PS_AMOUNT), amt, aOff, Constants.AMOUNT_LEN) == 0
                && Util.arrayCompare(w, (short) (o + Constants.PS_ACCOUNT), acc, accOff, Constants.ACCOUNT_LEN) == 0;
    }

    /** Seals work[wOff] (bodyLen) under the session's K_S (work key 2), k and SID into out[outOff]. */
    short sealS(byte type, short wOff, short bodyLen, byte[] out, short outOff) {
        byte[] sb = s.buf();
        return pk.seal(type, sb[Session.OFF_K], sb, Session.OFF_TID, key((byte) 2), key((byte) 2), s.work(), wOff,
                bodyLen, out, outOff);
    }

    /**
     * K_S of an OUT / IN slot into work key 2. A live session keeps its K_S in that key, so
     * a step run from a slot ends it first (protocol.md 6.2): its next step answers 6985, never a
     * MAC failure under the slot's keys.
     */
    void slotKeys(byte[] slot) {
        s.reset();
        cs.setKey(key((byte) 2), slot, Slots.S_KS);
    }

    /** Loads the slot's K_S, then opens b[CD] under it, the slot's k and SID, into work[wOff]. */
    boolean openSlot(byte type, byte[] slot, byte[] b, short pktLen, short bodyLen, short wOff) {
        slotKeys(slot);
        return pk.open(type, slot[Slots.S_K], slot, Slots.S_TID, key((byte) 2), key((byte) 2), b, CD, pktLen, bodyLen,
                s.work(), wOff);
    }

    /** Seals the 31-byte body at work[wOff] under the slot's K_S (already loaded), k and SID into out[outOff]. */
    short sealSlot(byte type, byte[] slot, short wOff, byte[] out, short outOff) {
        return pk.seal(type, slot[Slots.S_K], slot, Slots.S_TID, key((byte) 2), key((byte) 2), s.work(), wOff,
                Constants.BODY_SHORT, out, outOff);
    }

    // ------------------------------------------------------------------ ends under a slot's K_S

    /**
     * 4A / 7A: P1 = P2 = 00, the 31-byte packet, LIFE (no LOCKED gate), TYPE pos or neg (9D03 +BK), then
     * OUT = state(SID) (9D0B). Returns TYPE.
     */
    byte recvOutcome(APDU apdu, byte pos, byte neg, byte state) {
        Purse.p1p2(apdu, (byte) 0, (byte) 0);
        Purse.recv(apdu, Constants.PKT_SHORT);
        p.requireActive();
        byte[] b = apdu.getBuffer();
        byte type = b[(short) (CD + Constants.HDR_OFF_TYPE)];
        if (type != pos && type != neg) {
            p.badPacket();
        }
        if (!slots.outIs(state, b, (short) (CD + Constants.HDR_OFF_SID))) {
            ISOException.throwIt(Constants.SW_UNKNOWN_TRANSFER);
        }
        return type;
    }

    /**
     * 4A / 7A after the packet checks: refund (9D06 first if it would overflow) credits the OUT amount
     * back and marks its passbook entry 06; OUT = none. One transaction, then the slot's K_S is wiped.
     */
    short settleOut(boolean refund) {
        byte[] out = slots.outSlot();
        if (refund) {
            bal.check();
            if (!bal.canCredit(out, Slots.S_AMOUNT)) {
                ISOException.throwIt(Constants.SW_OVERFLOW);
            }
        }
        JCSystem.beginTransaction();
        if (refund) {
            bal.credit(out, Slots.S_AMOUNT);
            pb.setType(slots.outPassbookIndex(), Constants.PB_TYPE_DEBIT_REFUNDED);
        }
        slots.close(slots.out);
        return (short) 0;
    }

    /**
     * 4C 01: the NACK / SNACK sealed at pkt[0] (len) goes to OUTCOMES, IN = none (one transaction); K_S
     * wiped. The caller has checked the TID has no outcome yet (Slots.refuseSettled): one outcome per TID.
     */
    short nackIn(byte[] pkt, short len) {
        JCSystem.beginTransaction();
        slots.settleIn(Constants.OUTCOME_NACK, pkt);
        return len;
    }
}
