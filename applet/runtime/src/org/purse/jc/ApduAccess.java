package org.purse.jc;

import javacard.framework.APDU;

/** Implemented by a package-private class of javacard.framework; lets the engine drive APDU objects. */
public interface ApduAccess {
    APDU begin(byte[] buffer, byte[] command, int lc, int ne, boolean t0);

    byte[] response(APDU apdu);

    void end();
}
