package org.purse.jc;

import javacard.framework.AID;
import javacard.framework.Applet;
import javacard.framework.JCSystem;
import javacard.framework.Shareable;
import javacard.framework.SystemException;
import javacard.framework.TransactionException;

/** Hooks the javacard.framework classes call into the engine (current card). */
public final class JCRE {
    public static final int KIND_BOOLEAN = 1;
    public static final int KIND_BYTE = 2;
    public static final int KIND_SHORT = 3;
    public static final int KIND_OBJECT = 4;

    private static volatile ApduAccess apduAccess;
    /** Transaction depth used when no card context is active (unit tests of runtime classes). */
    private static byte detachedDepth;

    private JCRE() {
    }

    public static void installApduAccess(ApduAccess a) {
        if (apduAccess == null) {
            apduAccess = a;
        }
    }

    static ApduAccess apdu() {
        if (apduAccess == null) {
            try {
                Class.forName("javacard.framework.APDU", true, JCRE.class.getClassLoader());
            } catch (ClassNotFoundException e) {
                throw new IllegalStateException(e);
            }
        }
        return apduAccess;
    }

    public static void register(Applet applet, byte[] b, short off, byte len) {
        Card c = Card.current;
        if (c == null || c.installing == null || c.installing.applet != null) {
            SystemException.throwIt(SystemException.ILLEGAL_USE);
        }
        byte[] aid;
        if (b == null) {
            aid = c.installAid;
        } else {
            if (off < 0 || off + len > b.length) {
                throw new ArrayIndexOutOfBoundsException();
            }
            aid = java.util.Arrays.copyOfRange(b, off, off + len);
        }
        if (aid == null || aid.length < 5 || aid.length > 16 || c.findExact(aid) != null) {
            SystemException.throwIt(SystemException.ILLEGAL_AID);
        }
        AppletRecord r = c.installing;
        r.aidBytes = aid;
        r.aid = new AID(aid, (short) 0, (byte) aid.length);
        r.className = applet.getClass().getName();
        r.applet = applet;
    }

    public static boolean selectingApplet() {
        Card c = Card.current;
        return c != null && c.selecting;
    }

    public static AID currentAID() {
        Card c = Card.current;
        return c == null || c.context == null ? null : c.context.aid;
    }

    public static AID lookupAID(byte[] buf, short off, byte len) {
        Card c = Card.current;
        if (c == null) {
            return null;
        }
        for (AppletRecord r : c.img.applets) {
            if (r.aid.equals(buf, off, len)) {
                return r.aid;
            }
        }
        return null;
    }

    public static boolean isAppletActive(AID aid) {
        Card c = Card.current;
        return c != null && c.selected != null && c.selected.aid.equals(aid);
    }

    public static Shareable shareable(AID server, byte param) {
        Card c = Card.current;
        if (c == null || server == null) {
            return null;
        }
        for (AppletRecord r : c.img.applets) {
            if (r.aid.equals(server)) {
                return r.applet.getShareableInterfaceObject(c.context == null ? null : c.context.aid, param);
            }
        }
        return null;
    }

    public static byte isTransient(Object o) {
        Card c = Card.current;
        if (o == null || c == null) {
            return JCSystem.NOT_A_TRANSIENT_OBJECT;
        }
        return c.transientEvent(o);
    }

    public static Object makeTransient(int kind, short length, byte event) {
        if (event != JCSystem.CLEAR_ON_RESET && event != JCSystem.CLEAR_ON_DESELECT) {
            SystemException.throwIt(SystemException.ILLEGAL_VALUE);
        }
        if (length < 0) {
            throw new NegativeArraySizeException();
        }
        Card c = Card.current;
        if (c == null) {
            return Card.newArray(kind, length);
        }
        if (c.transientBytes + Card.transientCost(kind, length) > Card.TRANSIENT_LIMIT) {
            SystemException.throwIt(SystemException.NO_TRANSIENT_SPACE);
        }
        return c.newTransient(kind, length, event, c.context);
    }

    public static void beginTransaction() {
        Card c = Card.current;
        if (c == null) {
            if (detachedDepth != 0) {
                TransactionException.throwIt(TransactionException.IN_PROGRESS);
            }
            detachedDepth = 1;
            return;
        }
        if (c.tx.open) {
            TransactionException.throwIt(TransactionException.IN_PROGRESS);
        }
        c.tx.begin();
        c.last.count("tx.begin", 1);
    }

    public static void commitTransaction() {
        Card c = Card.current;
        if (c == null) {
            if (detachedDepth == 0) {
                TransactionException.throwIt(TransactionException.NOT_IN_PROGRESS);
            }
            detachedDepth = 0;
            return;
        }
        if (!c.tx.open) {
            TransactionException.throwIt(TransactionException.NOT_IN_PROGRESS);
        }
        c.tx.commit();
        c.last.transactions++;
        c.dirty = true;
    }

    public static void abortTransaction() {
        Card c = Card.current;
        if (c == null) {
            if (detachedDepth == 0) {
                TransactionException.throwIt(TransactionException.NOT_IN_PROGRESS);
            }
            detachedDepth = 0;
            return;
        }
        if (!c.tx.open) {
            TransactionException.throwIt(TransactionException.NOT_IN_PROGRESS);
        }
        c.tx.abort();
    }

    public static byte transactionDepth() {
        Card c = Card.current;
        if (c == null) {
            return detachedDepth;
        }
        return c.tx.open ? (byte) 1 : (byte) 0;
    }

    public static short maxCommitCapacity() {
        return (short) Math.min(Tx.MAX, Short.MAX_VALUE);
    }

    public static short unusedCommitCapacity() {
        Card c = Card.current;
        int used = c == null ? 0 : c.tx.used;
        return (short) Math.min(Math.max(Tx.MAX - used, 0), Short.MAX_VALUE);
    }

    public static short availableMemory(byte type) {
        Card c = Card.current;
        switch (type) {
            case JCSystem.MEMORY_TYPE_PERSISTENT:
                return Short.MAX_VALUE;
            case JCSystem.MEMORY_TYPE_TRANSIENT_RESET:
            case JCSystem.MEMORY_TYPE_TRANSIENT_DESELECT:
                int used = c == null ? 0 : c.transientBytes;
                return (short) Math.min(Math.max(Card.TRANSIENT_LIMIT - used, 0), Short.MAX_VALUE);
            default:
                SystemException.throwIt(SystemException.ILLEGAL_VALUE);
                return 0;
        }
    }

    public static boolean isT0() {
        Card c = Card.current;
        return c != null && c.t0;
    }
}
