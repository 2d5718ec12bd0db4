/*
 * purse: the one map of the transient work buffer (Session.work(), WORK_LEN bytes,
 * CLEAR_ON_DESELECT). Offsets only: each name X has X_LEN, and a field follows the previous one
 * (X = PREV + PREV_LEN) unless it is pinned (commented). Groups by prefix: HS_ the handshake
 * (shared by transfer, sync and admin), TR_ transfer, SY_ sync, AD_ admin (both sides), ADM_ admin
 * card batch, BNK_ bank batch, EP_ CENTER_ADVANCE, PE_ personalisation / issue / mint.
 * A field named PARENT_SUB that lies inside field PARENT is a sub-field (checked inside its parent).
 * A flow is its groups (WorkMapTest.FLOWS); inside a flow no two fields share a byte unless a
 * REUSES__A__B entry below says A is only written after B is dead. WorkMapTest checks this by
 * reflection (every short here is an offset, a _LEN or a REUSES__ entry) and that all fit.
 * Compile-time constants: no bytecode, no RAM (an interface: no constructor in the CAP either).
 */
package org.purse.applet;

interface WorkMap {

    static final short WORK_LEN = (short) 256;

    // ---- handshake (Handshake.java): first / second packet body, then the KDF context
    static final short HS_B1 = (short) 0;              // P1 / P2 body (also S1, A1)
    static final short HS_B1_LEN = (short) 48;
    static final short HS_CTX = (short) 196;           // pinned: above every flow's packet bodies
    static final short HS_CTX_LEN = (short) 15;        // SID | k | RP

    // ---- transfer (Transfer.java), after HS_B1
    static final short TR_B2 = (short) (HS_B1 + HS_B1_LEN); // 48: P4 / ACK / NACK body
    static final short TR_B2_LEN = (short) 32;
    static final short TR_ENTRY = (short) 104;         // pinned (80..104 unused): passbook entry
    static final short TR_ENTRY_LEN = (short) 42;

    // ---- sync (Sync.java)
    static final short SY_B1 = HS_B1;                  // S1 / P5 (74), then P6 (<= 194), entry (42)
    static final short SY_B1_LEN = (short) 194;
    static final short SY_C = HS_CTX;                  // bank at 76: P5's commitment (its bytes 44..73), after K_S was derived
    static final short SY_C_LEN = Constants.P5_COMMIT_LEN;
    static final short SY_TMP = (short) 252;           // pinned: scratch amount
    static final short SY_TMP_LEN = (short) 4;
    // card at SYNC_CARD_P6: the record I(4) | DATE(2) | RATE(4) | FLAGS | NK | KEY_DATE(2), whose
    // sub-fields (SY_I_*) lie inside it; then SACK / SNACK
    static final short SY_I = HS_CTX;                  // 196; its first 4 bytes are I
    static final short SY_I_LEN = (short) 14;
    static final short SY_I_DATE = (short) (SY_I + Constants.AMOUNT_LEN);
    static final short SY_I_DATE_LEN = Constants.DATE_LEN;
    static final short SY_I_RATE = (short) (SY_I_DATE + SY_I_DATE_LEN);
    static final short SY_I_RATE_LEN = Constants.RATE_LEN;
    static final short SY_I_FLAGS = (short) (SY_I_RATE + SY_I_RATE_LEN);
    static final short SY_I_FLAGS_LEN = (short) 1;
    static final short SY_I_NK = (short) (SY_I_FLAGS + SY_I_FLAGS_LEN);
    static final short SY_I_NK_LEN = (short) 1;
    static final short SY_I_KDATE = (short) (SY_I_NK + SY_I_NK_LEN);
    static final short SY_I_KDATE_LEN = Constants.DATE_LEN;
    static final short SY_SHORT = (short) (SY_I + SY_I_LEN + 2); // 212: SACK / SNACK body
    static final short SY_SHORT_LEN = (short) 31;

    // ---- admin, both sides (Admin.java): A1 at HS_B1; A2 (the P2 layout, then the request) over it;
    // then A4 / A6 at HS_B1
    static final short AD_A2 = HS_B1;
    static final short AD_A2_LEN = Constants.BODY_A2;
    // admin card batch (84 P1 01): HS_B1 = A4 / A6 opened, then the account being checked
    static final short ADM_A5 = (short) (HS_B1 + HS_B1_LEN); // 48: A5 built
    static final short ADM_A5_LEN = (short) 207;
    // bank batch (86 P1 01)
    static final short BNK_A5 = HS_B1;                 // 0: A5 received
    static final short BNK_A5_LEN = (short) 207;
    static final short BNK_ACC = (short) (BNK_A5 + BNK_A5_LEN + 1); // 208: account being checked
    static final short BNK_ACC_LEN = (short) 8;
    static final short BNK_A6 = (short) (BNK_ACC + BNK_ACC_LEN); // 216: A6 body
    static final short BNK_A6_LEN = (short) 36;
    // CENTER_ADVANCE (80): no handshake
    static final short EP_KEY = (short) 0;             // the new key value (wiped after use)
    static final short EP_KEY_LEN = (short) 24;
    static final short EP_DATE = (short) (EP_KEY + EP_KEY_LEN); // 24: KEY_INFO date
    static final short EP_DATE_LEN = (short) 2;

    // ---- personalisation / issue / mint (Personalisation.java); MINT's entry reuses PE_BODY
    static final short PE_BODY = (short) 0;            // G1 / I1 body
    static final short PE_BODY_LEN = (short) 177;
    static final short PE_IMG = (short) 180;           // pinned: new profile image
    static final short PE_IMG_LEN = (short) 55;
    static final short PE_CTX = (short) (PE_IMG + PE_IMG_LEN + 1); // 236: cryptogram input 0x / RH / RC
    static final short PE_CTX_LEN = (short) 17;

    // ---- declared reuse: A's bytes are written only after B is dead (value unused)
    static final short REUSES__SY_B1__HS_B1 = 0;       // P5 / P6 after S1 was opened
    static final short REUSES__SY_C__HS_CTX = 0;       // the commitment after K_S was derived (first packet)
    static final short REUSES__SY_I__HS_CTX = 0;
    static final short REUSES__SY_I__SY_C = 0;         // the card's 78 vs the bank's 76: never one APDU
    static final short REUSES__SY_SHORT__SY_C = 0;
    static final short REUSES__AD_A2__HS_B1 = 0;       // A2 sealed / opened after A1 was opened
    static final short REUSES__ADM_A5__AD_A2 = 0;      // batch after A2 was spent
    static final short REUSES__ADM_A5__HS_CTX = 0;     // batch after the handshake derived
    static final short REUSES__BNK_A5__HS_B1 = 0;
    static final short REUSES__BNK_A5__AD_A2 = 0;
    static final short REUSES__BNK_A5__HS_CTX = 0;
    static final short REUSES__BNK_ACC__HS_CTX = 0;
}
