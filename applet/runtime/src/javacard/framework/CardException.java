package javacard.framework;

public class CardException extends Exception {
    private short reason;

    public CardException(short reason) {
        this.reason = reason;
    }

    public short getReason() {
        return reason;
    }

    public void setReason(short reason) {
        this.reason = reason;
    }

    public static void throwIt(short reason) throws CardException {
        throw new CardException(reason);
    }

    @Override
    public String getMessage() {
        return getClass().getSimpleName() + " reason 0x" + Integer.toHexString(reason & 0xFFFF);
    }
}
