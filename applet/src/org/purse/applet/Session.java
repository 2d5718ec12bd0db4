/*
 * purse: transient per-session state (protocol.md 6.1, 5.2). One CLEAR_ON_DESELECT array for the
 * fields and one work buffer (its layout: WorkMap), allocated once: a reset, deselect or tear ends
 * every session.
 */
package org.purse.applet;

import javacard.framework.JCSystem;
import javacard.framework.Util;

public final class Session {
    // field offsets in buf(). STATE | K_S .. DATE mirror the OUT/IN slot layout (Slots.S_*): staging a
    // slot's fields (TID .. DATE, and OUT's tail) is one non-atomic copy, its state | K_S one logged
    // write in the money transaction (Slots.open).
    static final short OFF_STATE = (short) 0;
    static final short OFF_KS = Slots.S_KS;          // Slots.KS_LEN: K_S bytes
    static final short OFF_TID = Slots.S_TID;        // 6: transfer id (SID)
    static final short OFF_AMOUNT = Slots.S_AMOUNT;  // 4: A as confirmed / requested
    static final short OFF_PEER_ACCOUNT = Slots.S_ACCOUNT; // 8
    static final short OFF_PEER_NAME = Slots.S_NAME; // 8
    static final short OFF_R1 = Slots.S_R1;          // 8
    static final short OFF_R2 = Slots.S_R2;          // 8
    static final short OFF_K = Slots.S_K;            // 1: AK0 number (K_S is of AK0 + 1)
    static final short OFF_DATE = Slots.S_DATE;      // 2: own host date
    static final short OFF_PEER_ROLE = (short) 70;   // 1
    static final short OFF_PEER_FLAGS = (short) 71;  // 1
    // staging OUT (Slots.stageOut), after the pair check: its O_PB | O_PKT_LEN over PEER_ROLE | PEER_FLAGS
    static final short OFF_SLOT_PB = Slots.O_PB;
    static final short OFF_SLOT_PKT_LEN = Slots.O_PKT_LEN;
    static final short OFF_RH = (short) 72;          // 8: transport challenge of the authenticator
    static final short OFF_RC = (short) 80;          // 8: transport challenge of the blank card (RH | RC contiguous)
    static final short OFF_NEW_ACCOUNT = (short) 88; // 8: issuer: account allocated by ISSUE_AUTH
    static final short OFF_NEW_ISSUER = (short) 96;  // 3: issuer: issuer id given to a new admin card
    static final short OFF_REQ = (short) 99;         // 80: ISSUE_REQ as received; admin: REQ (19) then:
    static final short OFF_ADMIN_SEQ = (short) 118;  // 1: admin batch: SEQ of the last A5 sealed / applied
    static final short OFF_ADMIN_N = (short) 119;    // 1: admin card: N of the A5 awaiting its A6
    // issue 4 sync (12.4): bank W_P5 state
    static final short OFF_SYNC_P1 = (short) 179;    // 1: P1 of SYNC_BANK_INIT (01 = unblock)
    static final short OFF_DIGEST = (short) 180;     // 8: card: D (12.5.3) from 74's digest to its P5; bank: D' at 76
    static final short OFF_UNBLOCK_OK = (short) 188; // 1: synced card: P6 with UNBLOCK applied this card session
    static final short OFF_RP = (short) 189;         // 8: responder's hello random RP (K_S context, 6.1)
    static final short BUF_LEN = (short) 197;
    static final short WORK_LEN = WorkMap.WORK_LEN;

    /** Read directly by the handlers (a field read is a byte shorter than buf() / work()). */
    final byte[] buf;
    final byte[] work;

    public Session() {
        buf = JCSystem.makeTransientByteArray(BUF_LEN, JCSystem.CLEAR_ON_DESELECT);
        work = JCSystem.makeTransientByteArray(WORK_LEN, JCSystem.CLEAR_ON_DESELECT);
    }

    /** State IDLE and every secret-bearing field wiped. */
    public void reset() {
        Util.arrayFillNonAtomic(buf, (short) 0, BUF_LEN, (byte) 0);
    }

    public byte state() {
        return buf[OFF_STATE];
    }

    public void setState(byte s) {
        buf[OFF_STATE] = s;
    }

    public byte[] buf() {
        return buf;
    }

    public byte[] work() {
        return work;
    }
}
