/*
 * purse, user-card applet: the stub of Admin (applet/src/org/purse/applet/Admin.java). A user card
 * never administers, is never administered and never advances the key epoch: INS 80-8A answer 6D00.
 * Same constructor and methods as the full class (CardApiCompileTest compiles this variant).
 */
package org.purse.applet;

import javacard.framework.APDU;
import javacard.framework.ISOException;

public final class Admin {
    public Admin(Purse p, CryptoSuite cs, Keys keys, Profile prof, Passbook pb, Slots slots,
            BankFiles bank, Session s, Handshake hs) {
    }

    static boolean isBankRole(byte role) {
        return role >= Constants.ROLE_CENTER && role <= Constants.ROLE_BRANCH; // center, region, branch
    }

    private static short none() {
        ISOException.throwIt(Constants.SW_INS_NOT_SUPPORTED);
        return (short) 0;
    }

    public short init(APDU apdu) {
        return none();
    }

    public short op(APDU apdu) {
        return none();
    }

    public short apply(APDU apdu) {
        return none();
    }

    public short ack(APDU apdu) {
        return none();
    }

    public short readBadCards(APDU apdu) {
        return none();
    }

    public short advance(APDU apdu) {
        return none();
    }
}
