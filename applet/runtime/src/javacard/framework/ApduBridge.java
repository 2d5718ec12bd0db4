package javacard.framework;

import org.purse.jc.ApduAccess;

/** Package-private bridge: lets the engine create APDU objects and collect responses. */
final class ApduBridge implements ApduAccess {
    @Override
    public APDU begin(byte[] buffer, byte[] command, int lc, int ne, boolean t0) {
        APDU a = new APDU(buffer, command, lc, ne, t0);
        APDU.current = a;
        return a;
    }

    @Override
    public byte[] response(APDU apdu) {
        byte[] r = new byte[apdu.sent];
        System.arraycopy(apdu.out, 0, r, 0, apdu.sent);
        return r;
    }

    @Override
    public void end() {
        APDU.current = null;
    }
}
