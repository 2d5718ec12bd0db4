/*
 * purse, user-card applet: the stub of Admin (applet/src/org/purse/applet/Admin.java). A user card
 * never administers, is never administered and never advances the key epoch: INS 80-8A answer 6D00
 * (Issuer.dispatch). What Personalisation uses of the full class: isBankRole.
 */
package org.purse.applet;

public final class Admin {
    private Admin() {
    }

    static boolean isBankRole(byte role) {
        return role >= Constants.ROLE_CENTER && role <= Constants.ROLE_BRANCH; // center, region, branch
    }
}
