/*
 * purse, user-card applet: the stub of BankSync (applet/src/org/purse/applet/BankSync.java). A user
 * card is synced, never the bank of a sync: INS 72, 7C and 76 answer 6D00 (Issuer.dispatch). (Its
 * own side of sync, 70, 74, 78, 7E, is Sync, the same class as in the full applet.) Nothing here is
 * used.
 */
package org.purse.applet;

final class BankSync {
    private BankSync() {
    }
}
