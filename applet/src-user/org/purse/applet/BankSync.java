/*
 * purse, user-card applet: the stub of BankSync (applet/src/org/purse/applet/BankSync.java). A user
 * card is synced, never the bank of a sync: INS 72, 7C and 76 answer 6D00. (Its own side of sync,
 * 70, 74, 78, 7E, is Sync, the same class as in the full applet.)
 */
package org.purse.applet;

import javacard.framework.APDU;
import javacard.framework.ISOException;

public final class BankSync {
    public BankSync(Purse p, Sync sync, CryptoSuite cs, Keys keys, Profile prof, Balance bal, Passbook pb,
            Slots slots, Session s, BankFiles files, Handshake hs) {
    }

    private static short none() {
        ISOException.throwIt(Constants.SW_INS_NOT_SUPPORTED);
        return (short) 0;
    }

    public short bankInit(APDU apdu) {
        return none();
    }

    public short feed(APDU apdu) {
        return none();
    }

    public short bankP5(APDU apdu) {
        return none();
    }
}
