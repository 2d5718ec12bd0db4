package org.purse.testapplets;

/** Plain helper object reachable from the applet (tests the instrumenter on non-applet classes). */
class Helper {
    byte v;
    /** Not JavaCard: exercises the instrumenter on two-slot values. */
    long big;
    double dd;
    final byte[] data = new byte[2];
}
