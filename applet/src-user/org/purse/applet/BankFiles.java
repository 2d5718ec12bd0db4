/*
 * purse, user-card applet: the stub of BankFiles (applet/src/org/purse/applet/BankFiles.java). Only
 * bank roles (center, region, branch) carry bank files, and this applet never becomes one
 * (Issuer.admit): nothing here is ever reached.
 */
package org.purse.applet;

public final class BankFiles {
    public BankFiles() {
    }

    public void allocate() {
        Purse.wrongRole();
    }

    public void initDefaults(byte[] account, short o) {
        Purse.wrongRole();
    }
}
