package javacard.framework;

public interface PIN {
    boolean check(byte[] pin, short offset, byte length) throws ArrayIndexOutOfBoundsException, NullPointerException;

    byte getTriesRemaining();

    boolean isValidated();

    void reset();
}
