/*
 * purse, user-card applet: the stub of Issuer (applet/src/org/purse/applet/Issuer.java). A user
 * card issues nobody and mints nothing, and it has no Admin or BankSync: INS 14-1A, 72, 76 and
 * 80-8A answer 6D00 (dispatch). And a blank card with this applet becomes a user card only: admit()
 * refuses genesis (G1) and an I1 of any other role with 6A81 before anything persistent changes
 * (protocol.md 5.2).
 */
package org.purse.applet;

import javacard.framework.APDU;
import javacard.framework.ISOException;
import javacard.framework.Util;

public final class Issuer {
    public Issuer(Purse p, Personalisation perso, CryptoSuite cs, Packets pk, Handshake hs) {
    }

    /**
     * AUTH_FINISH on a blank card: ROLE user only (6A81). tried: the transport try this command
     * counted is given back (the host has proven TK: HC and the packet's MAC held), so a refused
     * card is exactly as blank as before.
     */
    static void admit(Profile prof, byte role, boolean tried) {
        if (role != Constants.ROLE_USER) {
            if (tried) {
                byte[] d = prof.data;
                Util.arrayFillNonAtomic(d, Profile.OFF_TK_TRIES, (short) 1, (byte) (d[Profile.OFF_TK_TRIES] + 1));
            }
            ISOException.throwIt(Constants.SW_FUNC_NOT_SUPPORTED);
        }
    }

    // genesis (5.3): never reached, admit() refused G1 already

    static void genesisChecks(byte[] w) {
        ISOException.throwIt(Constants.SW_FUNC_NOT_SUPPORTED);
    }

    static void genesisKeys(Keys keys, byte[] w) {
    }

    /** A user card is no issuer: nothing to add to its profile image. */
    static void issuerImage(CryptoSuite cs, byte[] w, byte role, short iss) {
    }

    // a bank role's part of personalisation (admit() let only a user card through: nothing to do)
    // and of Passbook (a user card's passbook is never a ring: never reached)

    void allocate(byte role, byte suite) {
    }

    void personalised(byte role, boolean g, byte[] w) {
    }

    static short ringFree(Passbook pb) {
        return (short) 0;
    }

    /** Keys.addNewest: a user card has no key archive. */
    static boolean archive(Keys keys, short slot) {
        return false;
    }

    /** A user card's SELECT answer has no bank files. */
    short selectTail(byte[] b, short off) {
        return off;
    }

    /** Purse.dispatch's bank-role commands and any unknown INS: 6D00. */
    short dispatch(APDU apdu, byte ins) {
        ISOException.throwIt(Constants.SW_INS_NOT_SUPPORTED);
        return (short) 0;
    }
}
