package org.purse.applet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.purse.jc.Card;

/**
 * Transient RAM of one purse card (docs/real-cards.md section 4) as the desk counts it: the
 * applet's CLEAR_ON_DESELECT arrays and PIN flags at install (exact, so the table stays true),
 * and with the work keys of the suite in use after genesis (AES and TDES): under 1 KB.
 */
class RamBudgetTest {
    /**
     * Session 197 + 256, CryptoSuite 301 + its engine table (7 references, 14), shared scratch 55
     * + the balance record last checked (34), PIN flags 4.
     */
    static final int AT_INSTALL = 197 + 256 + 301 + 14 + 55 + 34 + 4;

    @Test
    void transientRamAsAccountedAndUnderOneKilobyte() throws Exception {
        Path dir = Files.createTempDirectory("ram");
        Card c = Card.create(dir.resolve("c.img"), PurseCardTestSupport.APPLET, PurseCardTestSupport.AID, new byte[0]);
        assertEquals(AT_INSTALL, c.transientBytes(), "transient RAM changed: update docs/real-cards.md section 4");
        for (int suite = 1; suite <= 2; suite++) {
            PurseCardTestSupport.PCard p = PurseCardTestSupport.center(dir, "c" + suite, suite, 100, 1_000_000, 51);
            int ram = p.card.transientBytes();
            // three work keys of the suite (two transport, the session's K_S), one flag byte each
            int keys = 3 * ((suite == 1 ? 16 : 24) + 1);
            assertEquals(AT_INSTALL + keys, ram, "suite " + suite + ": transient RAM after genesis");
            assertTrue(ram <= 1024, "suite " + suite + ": transient RAM " + ram + " B after genesis");
        }
    }
}
