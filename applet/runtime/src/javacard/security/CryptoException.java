package javacard.security;

import javacard.framework.CardRuntimeException;

/**
 * Exception for cryptography-related errors (JavaCard 3.0.4 classic API).
 */
public class CryptoException extends CardRuntimeException {

    private static final long serialVersionUID = 1L;

    /** Reason code: a parameter value is not allowed. */
    public static final short ILLEGAL_VALUE = 1;
    /** Reason code: the key is not initialized. */
    public static final short UNINITIALIZED_KEY = 2;
    /** Reason code: the requested algorithm or key type is not supported. */
    public static final short NO_SUCH_ALGORITHM = 3;
    /** Reason code: the object was not initialized with init. */
    public static final short INVALID_INIT = 4;
    /** Reason code: the operation is not allowed in this state or on this data. */
    public static final short ILLEGAL_USE = 5;

    public CryptoException(short reason) {
        super(reason);
    }

    public static void throwIt(short reason) throws CryptoException {
        throw new CryptoException(reason);
    }
}
