package org.purse.jc;

/**
 * The desk's verbose APDU log hides secret data like purse's `-d` trace (src/apdu.rs): the data
 * of VERIFY, CHANGE REFERENCE DATA, ISSUE_BEGIN, AUTH_FINISH and UNBLOCK_PIN, and the answer of
 * ISSUE_AUTH, are replaced by their length; the header stays. PURSE_DEBUG_SECRETS=1 in the desk's
 * environment shows them.
 */
final class Redact {
    private static final boolean SHOW = "1".equals(System.getenv("PURSE_DEBUG_SECRETS"));

    private Redact() {
    }

    static boolean secretCommand(byte[] apdu) {
        if (apdu.length < 2) {
            return false;
        }
        switch (apdu[1] & 0xFF) {
            case 0x20: // VERIFY
            case 0x24: // CHANGE REFERENCE DATA
            case 0x14: // ISSUE_BEGIN: transport key, new PIN and transaction key
            case 0x12: // AUTH_FINISH: G1/I1 sealed with the transport key
            case 0x7E: // UNBLOCK_PIN
                return true;
            default:
                return false;
        }
    }

    static String command(byte[] apdu) {
        if (SHOW || !secretCommand(apdu) || apdu.length <= 5) {
            return VpcdClient.Hex.of(apdu);
        }
        byte[] head = java.util.Arrays.copyOf(apdu, 5);
        return VpcdClient.Hex.of(head) + "[" + (apdu.length - 5) + " bytes redacted]";
    }

    static String response(byte[] apdu, byte[] rapdu) {
        boolean secret = apdu.length >= 2 && (apdu[1] & 0xFF) == 0x16; // ISSUE_AUTH: HC | I1
        if (SHOW || !secret || rapdu.length <= 2) {
            return VpcdClient.Hex.of(rapdu);
        }
        return "[" + (rapdu.length - 2) + " bytes redacted]"
                + VpcdClient.Hex.of(java.util.Arrays.copyOfRange(rapdu, rapdu.length - 2, rapdu.length));
    }
}
