package org.purse.applet;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.reflect.Field;
import java.util.TreeSet;

import org.junit.jupiter.api.Test;

/**
 * Purse.fail() ends the transient session after an error of exactly the INS flagged in
 * Purse.endsSession: every named INS of the four session-holding groups (personalisation, the
 * transfer up to P2P3, sync, admin), and nothing else (no other named INS, no unassigned byte).
 */
class SessionEndTest {
    static boolean inGroups(int ins) {
        return (ins >= (Constants.INS_AUTH_INIT & 0xFF) && ins <= (Constants.INS_ISSUE_CONFIRM & 0xFF))
                || (ins >= (Constants.INS_XFER_PAYER_INIT & 0xFF) && ins <= (Constants.INS_XFER_PAYER_P2P3 & 0xFF))
                || (ins >= (Constants.INS_SYNC_CARD_INIT & 0xFF) && ins <= (Constants.INS_SYNC_BANK_ACK & 0xFF))
                || (ins >= (Constants.INS_ADMIN_INIT & 0xFF) && ins <= (Constants.INS_ADMIN_ACK & 0xFF));
    }

    @Test
    void theFlaggedInsAreTheNamedInsOfTheSessionGroups() throws Exception {
        TreeSet<Integer> named = new TreeSet<>();
        for (Field f : Constants.class.getDeclaredFields()) {
            if (f.getName().startsWith("INS_") && f.getType() == byte.class) {
                named.add(f.getByte(null) & 0xFF);
            }
        }
        TreeSet<Integer> want = new TreeSet<>();
        for (int ins : named) {
            if (inGroups(ins)) {
                want.add(ins);
            }
        }
        TreeSet<Integer> got = new TreeSet<>();
        for (int ins = 0; ins < 256; ins++) {
            if (Purse.endsSession((byte) ins)) {
                got.add(ins);
            }
        }
        assertEquals(want, got, "INS whose error ends the session");
        assertEquals(18, got.size(), "18 session-holding INS");
    }
}
