/*
 * purse: B1 persistence (protocol.md 6.3, 6.4): the payer's OUT slot, the payee's IN slot, the ring
 * of the last 4 incoming outcomes and the exception log. Slot fields are staged with non-atomic
 * writes while the state byte is NONE (so they are ignored), then state | K_S are set by one logged
 * write inside the money transaction: only state | K_S, balance and passbook go through the commit buffer.
 */
package org.purse.applet;

import javacard.framework.JCSystem;
import javacard.framework.Util;

public final class Slots {
    // common layout of OUT and IN: STATE and K_S first, so one logged write sets both, inside the
    // transaction that opens (state and key) or settles (zeros) the slot: a slot that is none
    // never holds a key, whatever write a tear stops at
    static final short S_STATE = (short) 0;
    static final short S_KS = (short) 1;       // KS_LEN: K_S (AES 16 bytes, then zeros; TDES 24)
    static final short KS_LEN = (short) 24;
    static final short S_TID = (short) 25;     // 6
    static final short S_AMOUNT = (short) 31;  // 4
    static final short S_ACCOUNT = (short) 35; // 8 counterparty
    static final short S_NAME = (short) 43;    // 8 counterparty
    static final short S_R1 = (short) 51;      // 8
    static final short S_R2 = (short) 59;      // 8
    static final short S_K = (short) 67;       // 1 AK0 number (header KEYNUM)
    static final short S_DATE = (short) 68;    // 2 own date
    static final short IN_LEN = (short) 70;
    // OUT only; O_PB and O_PKT_LEN come with the staged session copy (Session.OFF_SLOT_PB ..)
    static final short O_PB = (short) 70;      // 1: passbook index of the DEBIT
    static final short O_PKT_LEN = (short) 71; // 1: length of the stored packet (P4 48, P6 80..216)
    static final short O_P4 = (short) 72;      // 48: P4 as sent
    static final short OUT_LEN = (short) 120;
    /** Bytes one staging copies from the session: TID to DATE (IN), to O_PKT_LEN (OUT). */
    static final short STAGE_IN = (short) (IN_LEN - S_TID);
    static final short STAGE_OUT = (short) (O_P4 - S_TID);
    /** STATE | K_S, the head one logged write sets. */
    private static final short HEAD_LEN = (short) (S_KS + KS_LEN);

    static final short OC_TID = (short) 0;
    static final short OC_KIND = (short) 6;
    static final short OC_PKT = (short) 7;
    static final short OC_LEN = (short) 55;

    private static final short M_HEAD = (short) 0;   // index of the newest outcome
    private static final short M_OCOUNT = (short) 1;
    private static final short M_XCOUNT = (short) 2;

    /** Read directly by the handlers (writes go through the methods below). */
    final byte[] out;
    final byte[] in;
    private final byte[] outcomes;
    private final byte[] exceptions;
    private final byte[] meta;
    private final byte[] tmp;
    /** Bank cards only (allocate): the OUT packet store for a P6 of up to 216 bytes (12.5.2). */
    byte[] outPkt; // the bank's stored P6: allocated by Issuer.allocate, staged by BankSync.stageSyncOut

    public Slots(byte[] scratch) {
        out = new byte[OUT_LEN];
        in = new byte[IN_LEN];
        outcomes = new byte[(short) (Constants.OUTCOMES * OC_LEN)];
        exceptions = new byte[(short) (Constants.EXCEPTIONS * Constants.EXC_ENTRY_LEN)];
        meta = new byte[3];
        tmp = scratch; // shared transient, >= OC_LEN
    }

    byte[] outSlot() {
        return out;
    }

    /** OUT state byte: 00 none, 01 transfer pending, 02 sync pending (12.1). */
    public byte outState() {
        return out[S_STATE];
    }

    /** IN state byte: 00 none, 01 transfer expected, 02 sync expected. */
    public byte inState() {
        return in[S_STATE];
    }

    /** OUT in exactly this state with this TID (12.10 item 2). */
    public boolean outIs(byte state, byte[] tid, short off) {
        return out[S_STATE] == state && Util.arrayCompare(out, S_TID, tid, off, Constants.TID_LEN) == 0;
    }

    /** IN in exactly this state with this TID (12.10 item 2). */
    public boolean inIs(byte state, byte[] tid, short off) {
        return in[S_STATE] == state && Util.arrayCompare(in, S_TID, tid, off, Constants.TID_LEN) == 0;
    }

    /**
     * A packet at b[CD] for the IN slot (P4 at 48, P6 / INVALIDATE at 78): its SID already credited
     * (9D0C), else it must be IN = state(SID) with no other outcome (9D0B).
     */
    void requireIn(byte state, byte[] b) {
        short sid = (short) (javacard.framework.ISO7816.OFFSET_CDATA + Constants.HDR_OFF_SID);
        refuseSettled(b, sid);
        if (!inIs(state, b, sid)) {
            javacard.framework.ISOException.throwIt(Constants.SW_UNKNOWN_TRANSFER);
        }
    }

    /**
     * A TID / SID that already has an outcome (ACK / SACK: 9D0C, NACK / SNACK: 9D0B) is never expected,
     * credited or aborted again (44, 48, 4C 01, 74, 78): one outcome per TID, the first. No BAD_KEY.
     */
    void refuseSettled(byte[] b, short sid) {
        short o = findOutcome(b, sid);
        if (o >= 0) { // a stored kind is ACK or NACK, never 0
            javacard.framework.ISOException.throwIt(outcomes[(short) (o + OC_KIND)] == Constants.OUTCOME_ACK
                    ? Constants.SW_ALREADY_CREDITED : Constants.SW_UNKNOWN_TRANSFER);
        }
    }

    // ------------------------------------------------------------------ OUT (payer)

    public boolean outPending() {
        return out[S_STATE] != Constants.SLOT_NONE;
    }


    /**
     * OUT's session fields (TID, A, peer, randoms, k, date), passbook index and stored packet's
     * length in one non-atomic write (the session's tail bytes, over its PEER_ROLE | PEER_FLAGS,
     * read by then); state stays NONE. The packet follows in a second write (P4 at O_P4, P6 in outPkt).
     */
    void stageOut(byte[] s, short pbIndex, short pktLen) {
        s[Session.OFF_SLOT_PB] = (byte) pbIndex;
        s[Session.OFF_SLOT_PKT_LEN] = (byte) pktLen;
        Util.arrayCopyNonAtomic(s, S_TID, out, S_TID, STAGE_OUT);
    }

    /**
     * In the caller's transaction: slot = st (OUT PENDING or SYNC, IN EXPECTING or SYNC) with the
     * session's K_S, one logged write from the session buffer, st over its state byte: every
     * caller ends its session right after (44, 46, 74, 76).
     */
    void open(byte[] slot, byte[] s, byte st) {
        s[Session.OFF_STATE] = st;
        Util.arrayCopy(s, Session.OFF_STATE, slot, S_STATE, HEAD_LEN);
    }

    /** RESUME_GET_P4: the stored P4 (OUT = 01) or P6 (OUT = 02, bank); returns its length. */
    public short getOutPacket(byte[] dst, short off) {
        short len = (short) (out[O_PKT_LEN] & 0xFF);
        if (out[S_STATE] == Constants.SLOT_SYNC && outPkt != null) {
            Util.arrayCopyNonAtomic(outPkt, (short) 0, dst, off, len);
            return len;
        }
        Util.arrayCopyNonAtomic(out, O_P4, dst, off, Constants.PKT_SHORT);
        return Constants.PKT_SHORT;
    }

    /**
     * The end of the caller's transaction that settles a slot (out or in): STATE = NONE and K_S
     * zeroed in one logged write, then commit. Both or neither: a torn close leaves the slot open
     * with its key, never a settled slot whose key survives (a stored P4 or P6 is public anyway).
     */
    void close(byte[] slot) {
        Util.arrayFillNonAtomic(tmp, (short) 0, HEAD_LEN, (byte) 0);
        Util.arrayCopy(tmp, (short) 0, slot, S_STATE, HEAD_LEN);
        JCSystem.commitTransaction();
    }

    public short outPassbookIndex() {
        return (short) (out[O_PB] & 0xFF);
    }

    // ------------------------------------------------------------------ IN (payee)

    public boolean inExpecting() {
        return in[S_STATE] != Constants.SLOT_NONE;
    }


    /**
     * The session's fields into IN (one non-atomic write, IN still none), then IN = st (EXPECTING,
     * or SYNC at 74) with K_S in its own transaction.
     */
    void persistIn(byte[] s, byte st) {
        Util.arrayCopyNonAtomic(s, S_TID, in, S_TID, STAGE_IN);
        JCSystem.beginTransaction();
        open(in, s, st);
        JCSystem.commitTransaction();
    }

    // ------------------------------------------------------------------ OUTCOMES (payee)

    private short findOutcome(byte[] tid, short off) {
        short n = (short) (meta[M_OCOUNT] & 0xFF);
        short idx = (short) (meta[M_HEAD] & 0x03);
        for (short i = 0; i < n; i++) {
            short base = (short) (idx * OC_LEN);
            if (Util.arrayCompare(outcomes, (short) (base + OC_TID), tid, off, Constants.TID_LEN) == 0) {
                return base;
            }
            idx = (short) ((short) (idx + 3) & 0x03);
        }
        return (short) -1;
    }

    /**
     * The end of the caller's transaction that settles IN: the IN TID's outcome (kind, the packet at
     * pkt[0]) over the oldest entry (circular, never shifted), then close(in).
     */
    void settleIn(byte kind, byte[] pkt) {
        short n = (short) (meta[M_OCOUNT] & 0xFF);
        short idx = n == 0 ? (short) 0 : (short) ((short) (meta[M_HEAD] + 1) & 0x03);
        // built in RAM, then one logged copy over the oldest entry
        Util.arrayCopyNonAtomic(in, S_TID, tmp, OC_TID, Constants.TID_LEN);
        tmp[OC_KIND] = kind;
        Util.arrayCopyNonAtomic(pkt, (short) 0, tmp, OC_PKT, Constants.PKT_SHORT);
        Util.arrayCopy(tmp, (short) 0, outcomes, (short) (idx * OC_LEN), OC_LEN);
        meta[M_HEAD] = (byte) idx;
        if (n < Constants.OUTCOMES) {
            meta[M_OCOUNT] = (byte) (n + 1);
        }
        close(in);
    }

    /** Stored ACK/NACK (48 bytes) or -1. */
    public short getOutcome(byte[] tid, short off, byte[] dst, short dOff) {
        short b = findOutcome(tid, off);
        if (b < 0) {
            return (short) -1;
        }
        Util.arrayCopyNonAtomic(outcomes, (short) (b + OC_PKT), dst, dOff, Constants.PKT_SHORT);
        return Constants.PKT_SHORT;
    }

    // ------------------------------------------------------------------ EXCEPTIONS (payer)

    public short exceptionCount() {
        return (short) (meta[M_XCOUNT] & 0xFF);
    }

    /** In the caller's transaction: one 24-byte entry from the OUT slot; false if the log is full. */
    public boolean addException(byte reason) {
        short n = exceptionCount();
        if (n >= Constants.EXCEPTIONS) {
            return false;
        }
        Util.arrayFillNonAtomic(tmp, (short) 0, Constants.EXC_ENTRY_LEN, (byte) 0);
        Util.arrayCopyNonAtomic(out, S_TID, tmp, Constants.EXC_TID, Constants.TID_LEN);
        Util.arrayCopyNonAtomic(out, S_AMOUNT, tmp, Constants.EXC_AMOUNT, Constants.AMOUNT_LEN);
        Util.arrayCopyNonAtomic(out, S_ACCOUNT, tmp, Constants.EXC_ACCOUNT, Constants.ACCOUNT_LEN);
        Util.arrayCopyNonAtomic(out, S_DATE, tmp, Constants.EXC_DATE, Constants.DATE_LEN);
        tmp[Constants.EXC_REASON] = reason;
        tmp[Constants.EXC_PB_INDEX] = out[O_PB];
        Util.arrayCopy(tmp, (short) 0, exceptions, (short) (n * Constants.EXC_ENTRY_LEN), Constants.EXC_ENTRY_LEN);
        meta[M_XCOUNT] = (byte) (n + 1);
        return true;
    }

    /** In the caller's transaction (sync CLEAR): the exception log is handed over. */
    public void clearExceptions() {
        Passbook.zero(meta, M_XCOUNT);
    }

    public short readExceptions(byte[] dst, short off) {
        short len = (short) (exceptionCount() * Constants.EXC_ENTRY_LEN);
        Util.arrayCopyNonAtomic(exceptions, (short) 0, dst, off, len);
        return len;
    }

    /** GET_PENDING, 88 bytes (protocol.md 4.4). */
    public short writePending(byte[] dst, short off) {
        Util.arrayFillNonAtomic(dst, off, Constants.PENDING_LEN, (byte) 0);
        dst[(short) (off + Constants.PD_OUT_STATE)] = out[S_STATE];
        if (outPending()) {
            summary(out, dst, (short) (off + Constants.PD_OUT_TID));
        }
        dst[(short) (off + Constants.PD_IN_STATE)] = in[S_STATE];
        if (inExpecting()) {
            summary(in, dst, (short) (off + Constants.PD_IN_TID));
        }
        short n = (short) (meta[M_OCOUNT] & 0xFF);
        dst[(short) (off + Constants.PD_OUTCOME_COUNT)] = (byte) n;
        short idx = (short) (meta[M_HEAD] & 0x03);
        short p = (short) (off + Constants.PD_OUTCOMES);
        for (short i = 0; i < n; i++) {
            Util.arrayCopyNonAtomic(outcomes, (short) (idx * OC_LEN), dst, p, (short) 7); // TID | kind
            p = (short) (p + 7);
            idx = (short) ((short) (idx + 3) & 0x03);
        }
        dst[(short) (off + Constants.PD_EXC_COUNT)] = (byte) exceptionCount();
        return Constants.PENDING_LEN;
    }

    /** TID(6) | amount(4) | account(8) | name(8) | date(2). */
    private static void summary(byte[] slot, byte[] dst, short p) {
        Util.arrayCopyNonAtomic(slot, S_TID, dst, p, (short) 26); // TID, amount, account, name
        Util.arrayCopyNonAtomic(slot, S_DATE, dst, (short) (p + 26), Constants.DATE_LEN);
    }
}
