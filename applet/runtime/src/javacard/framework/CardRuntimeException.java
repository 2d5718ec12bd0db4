package javacard.framework;

public class CardRuntimeException extends RuntimeException {
    private short reason;

    public CardRuntimeException(short reason) {
        this.reason = reason;
    }

    public short getReason() {
        return reason;
    }

    public void setReason(short reason) {
        this.reason = reason;
    }

    public static void throwIt(short reason) throws CardRuntimeException {
        throw new CardRuntimeException(reason);
    }

    @Override
    public String getMessage() {
        return getClass().getSimpleName() + " reason 0x" + Integer.toHexString(reason & 0xFFFF);
    }
}
