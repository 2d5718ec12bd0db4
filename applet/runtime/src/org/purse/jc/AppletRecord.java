package org.purse.jc;

import javacard.framework.AID;
import javacard.framework.Applet;

/** Registry entry of one installed applet instance (part of the image). */
final class AppletRecord implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    AID aid;
    byte[] aidBytes;
    String className;
    Applet applet;
}
