package javacard.framework;

import org.purse.jc.JCRE;

public final class JCSystem {
    public static final byte MEMORY_TYPE_PERSISTENT = 0;
    public static final byte MEMORY_TYPE_TRANSIENT_RESET = 1;
    public static final byte MEMORY_TYPE_TRANSIENT_DESELECT = 2;
    public static final byte NOT_A_TRANSIENT_OBJECT = 0;
    public static final byte CLEAR_ON_RESET = 1;
    public static final byte CLEAR_ON_DESELECT = 2;

    private JCSystem() {
    }

    public static byte isTransient(Object theObj) {
        return JCRE.isTransient(theObj);
    }

    public static boolean[] makeTransientBooleanArray(short length, byte event)
            throws NegativeArraySizeException, SystemException {
        return (boolean[]) JCRE.makeTransient(JCRE.KIND_BOOLEAN, length, event);
    }

    public static byte[] makeTransientByteArray(short length, byte event)
            throws NegativeArraySizeException, SystemException {
        return (byte[]) JCRE.makeTransient(JCRE.KIND_BYTE, length, event);
    }

    public static short[] makeTransientShortArray(short length, byte event)
            throws NegativeArraySizeException, SystemException {
        return (short[]) JCRE.makeTransient(JCRE.KIND_SHORT, length, event);
    }

    public static Object[] makeTransientObjectArray(short length, byte event)
            throws NegativeArraySizeException, SystemException {
        return (Object[]) JCRE.makeTransient(JCRE.KIND_OBJECT, length, event);
    }

    public static AID getAID() {
        return JCRE.currentAID();
    }

    public static AID lookupAID(byte[] buffer, short offset, byte length) {
        return JCRE.lookupAID(buffer, offset, length);
    }

    public static void beginTransaction() throws TransactionException {
        JCRE.beginTransaction();
    }

    public static void abortTransaction() throws TransactionException {
        JCRE.abortTransaction();
    }

    public static void commitTransaction() throws TransactionException {
        JCRE.commitTransaction();
    }

    public static byte getTransactionDepth() {
        return JCRE.transactionDepth();
    }

    public static short getUnusedCommitCapacity() {
        return JCRE.unusedCommitCapacity();
    }

    public static short getMaxCommitCapacity() {
        return JCRE.maxCommitCapacity();
    }

    public static short getVersion() {
        return (short) 0x0304;
    }

    public static AID getPreviousContextAID() {
        return null;
    }

    public static short getAvailableMemory(byte memoryType) throws SystemException {
        return JCRE.availableMemory(memoryType);
    }

    public static Shareable getAppletShareableInterfaceObject(AID serverAID, byte parameter) {
        return JCRE.shareable(serverAID, parameter);
    }

    public static boolean isObjectDeletionSupported() {
        return false;
    }

    public static void requestObjectDeletion() throws SystemException {
        SystemException.throwIt(SystemException.ILLEGAL_USE);
    }

    public static byte getAssignedChannel() {
        return 0;
    }

    public static boolean isAppletActive(AID theApplet) {
        return JCRE.isAppletActive(theApplet);
    }
}
