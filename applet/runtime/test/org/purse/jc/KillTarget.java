package org.purse.jc;

import java.nio.file.Path;

/** Child process of ImageEngineTest: loops committing transactions until killed. */
public final class KillTarget {
    private KillTarget() {
    }

    public static void main(String[] args) throws Exception {
        Card c = Card.load(Path.of(args[0]));
        c.powerOn();
        c.transmit(EngineTestSupport.select());
        boolean told = false;
        for (int i = 1; ; i++) {
            int v = 1 + (i % 100);
            byte[] r = c.transmit(EngineTestSupport.apdu(0x02, 0, v));
            if (r[0] != (byte) 0x90) {
                System.exit(3);
            }
            if (!told) {
                System.out.print('R');
                System.out.flush();
                told = true;
            }
        }
    }
}
