package org.purse.jc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Constructor;
import java.lang.reflect.Member;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Guards the javacard.framework API surface: no public or protected method beyond the
 * JavaCard 3.0.4 classic ones (engine hooks belong in org.purse.jc), and key constants.
 */
class ApiSurfaceEngineTest {
    private static final String EXC = "getReason setReason throwIt getMessage";

    private static void only(Class<?> k, String names) {
        Set<String> allowed = new HashSet<>(Arrays.asList(names.split(" ")));
        allowed.add("hashCode");
        List<String> extra = new ArrayList<>();
        for (Method m : k.getDeclaredMethods()) {
            if (visible(m) && !m.isSynthetic() && !allowed.contains(m.getName())) {
                extra.add(m.getName());
            }
        }
        assertTrue(extra.isEmpty(), k.getName() + " has non-API members " + extra);
    }

    private static boolean visible(Member m) {
        return (m.getModifiers() & (Modifier.PUBLIC | Modifier.PROTECTED)) != 0;
    }

    @Test
    void noExtraPublicMembers() throws Exception {
        only(javacard.framework.APDU.class, "getBuffer getInBlockSize getOutBlockSize getProtocol getNAD setOutgoing "
                + "setOutgoingNoChaining setOutgoingLength receiveBytes setIncomingAndReceive sendBytes sendBytesLong "
                + "setOutgoingAndSend getCurrentState getCurrentAPDU getCurrentAPDUBuffer getCLAChannel waitExtension "
                + "isCommandChainingCLA isSecureMessagingCLA isISOInterindustryCLA getIncomingLength getOffsetCdata");
        only(javacard.framework.JCSystem.class, "isTransient makeTransientBooleanArray makeTransientByteArray "
                + "makeTransientShortArray makeTransientObjectArray getAID lookupAID beginTransaction abortTransaction "
                + "commitTransaction getTransactionDepth getUnusedCommitCapacity getMaxCommitCapacity getVersion "
                + "getPreviousContextAID getAvailableMemory getAppletShareableInterfaceObject isObjectDeletionSupported "
                + "requestObjectDeletion getAssignedChannel isAppletActive");
        only(javacard.framework.Util.class,
                "arrayCopy arrayCopyNonAtomic arrayFillNonAtomic arrayCompare makeShort getShort setShort");
        only(javacard.framework.OwnerPIN.class, "getValidatedFlag setValidatedFlag getTriesRemaining check "
                + "isValidated reset update resetAndUnblock");
        only(javacard.framework.AID.class, "getBytes equals partialEquals RIDEquals getPartialBytes");
        only(javacard.framework.Applet.class,
                "install process select deselect getShareableInterfaceObject register selectingApplet");
        for (Class<?> k : new Class<?>[] {javacard.framework.CardRuntimeException.class,
                javacard.framework.CardException.class, javacard.framework.ISOException.class,
                javacard.framework.UserException.class, javacard.framework.APDUException.class,
                javacard.framework.SystemException.class, javacard.framework.TransactionException.class,
                javacard.framework.PINException.class}) {
            only(k, EXC);
        }
        for (Class<?> k : new Class<?>[] {javacard.framework.APDU.class, javacard.framework.JCSystem.class,
                javacard.framework.Util.class}) {
            for (Constructor<?> c : k.getDeclaredConstructors()) {
                assertTrue(!visible(c), k.getName() + " must have no public constructor");
            }
        }
    }

    @Test
    void someConstants() {
        assertEquals(0x6F00, javacard.framework.ISO7816.SW_UNKNOWN);
        assertEquals(0x6700, javacard.framework.ISO7816.SW_WRONG_LENGTH);
        assertEquals((short) 0x9000, javacard.framework.ISO7816.SW_NO_ERROR);
        assertEquals(2, javacard.framework.JCSystem.CLEAR_ON_DESELECT);
        assertEquals(3, javacard.framework.TransactionException.BUFFER_FULL);
        assertEquals(0xAC, javacard.framework.APDUException.NO_T0_REISSUE);
        assertEquals(-4, javacard.framework.APDU.STATE_ERROR_NO_T0_REISSUE);
    }
}
