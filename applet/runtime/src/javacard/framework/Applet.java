package javacard.framework;

import org.purse.jc.JCRE;

public abstract class Applet {
    protected Applet() {
    }

    public static void install(byte[] bArray, short bOffset, byte bLength) throws ISOException {
        ISOException.throwIt(ISO7816.SW_FUNC_NOT_SUPPORTED);
    }

    public abstract void process(APDU apdu) throws ISOException;

    public boolean select() {
        return true;
    }

    public void deselect() {
    }

    public Shareable getShareableInterfaceObject(AID clientAID, byte parameter) {
        return null;
    }

    protected final void register() throws SystemException {
        JCRE.register(this, null, (short) 0, (byte) 0);
    }

    protected final void register(byte[] bArray, short bOffset, byte bLength) throws SystemException {
        if (bLength < 5 || bLength > 16) {
            SystemException.throwIt(SystemException.ILLEGAL_AID);
        }
        JCRE.register(this, bArray, bOffset, bLength);
    }

    protected final boolean selectingApplet() {
        return JCRE.selectingApplet();
    }
}
