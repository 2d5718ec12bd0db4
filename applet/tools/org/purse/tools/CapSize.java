/*
 * purse: load size of a CAP file, as a card (and GlobalPlatformPro, ant-javacard's "Code size")
 * counts it: the sum of the CAP components except Descriptor and Debug, which are not loaded.
 * The CAP file itself is bigger (a JAR with a manifest, and the class files if not stripped).
 *
 *   java -cp applet/build/classes/tools org.purse.tools.CapSize CAP [MAX_LOAD_BYTES [TOP]]
 *
 * Prints each component's size and the load size; with MAX_LOAD_BYTES, exits 1 above it.
 * A CAP converted with -debug also gets its largest methods listed (from the Debug component).
 */
package org.purse.tools;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.FileInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

public final class CapSize {
    /** Component order of the JavaCard VM spec (3.0.4, 6.1). */
    private static final String[] COMPONENTS = {"Header", "Directory", "Import", "Applet", "Class", "Method",
        "StaticField", "Export", "ConstantPool", "RefLocation", "Descriptor", "Debug"};

    private CapSize() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 1) {
            System.err.println("usage: CapSize CAP [MAX_LOAD_BYTES [TOP]]");
            System.exit(2);
        }
        Map<String, byte[]> comps = new HashMap<>();
        try (ZipInputStream z = new ZipInputStream(new FileInputStream(args[0]))) {
            ZipEntry e;
            while ((e = z.getNextEntry()) != null) {
                String n = e.getName();
                if (n.contains("/javacard/") && n.endsWith(".cap")) {
                    comps.put(n.substring(n.lastIndexOf('/') + 1, n.length() - 4), z.readAllBytes());
                }
            }
        }
        if (!comps.containsKey("Header") || !comps.containsKey("Method")) {
            System.err.println(args[0] + ": not a CAP file (no Header/Method component)");
            System.exit(1);
        }
        int load = 0;
        for (String c : COMPONENTS) {
            byte[] b = comps.get(c);
            if (b == null) {
                continue;
            }
            boolean loaded = !c.equals("Descriptor") && !c.equals("Debug");
            System.out.printf("  %-13s %6d B%s%n", c, b.length, loaded ? "" : "  (not loaded)");
            if (loaded) {
                load += b.length;
            }
        }
        System.out.printf("CAP load size %d B (all components but Descriptor and Debug)%n", load);
        byte[] dbg = comps.get("Debug");
        if (dbg != null) {
            methods(dbg, args.length > 2 ? Integer.parseInt(args[2]) : 20);
        }
        if (args.length > 1) {
            int max = Integer.parseInt(args[1]);
            if (load > max) {
                System.err.printf("CAP load size %d B is over the budget of %d B%n", load, max);
                System.exit(1);
            }
            System.out.printf("within the budget of %d B%n", max);
        }
    }

    /** Debug component (JCVM 3.0.4, 6.14): per method, header + bytecode size in the Method component. */
    private static void methods(byte[] d, int top) throws IOException {
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(d));
        in.skipBytes(3);
        String[] str = new String[in.readUnsignedShort()];
        for (int i = 0; i < str.length; i++) {
            byte[] b = new byte[in.readUnsignedShort()];
            in.readFully(b);
            str[i] = new String(b, "UTF-8");
        }
        in.skipBytes(2);
        int classes = in.readUnsignedShort();
        List<String> rows = new ArrayList<>();
        for (int c = 0; c < classes; c++) {
            String cn = str[in.readUnsignedShort()];
            cn = cn.substring(cn.lastIndexOf('/') + 1);
            in.skipBytes(8);
            int ifaces = in.readUnsignedByte();
            int fields = in.readUnsignedShort();
            int methods = in.readUnsignedShort();
            in.skipBytes(2 * ifaces + 10 * fields);
            for (int m = 0; m < methods; m++) {
                String mn = str[in.readUnsignedShort()];
                in.skipBytes(6);
                int size = in.readUnsignedByte() + in.readUnsignedShort();
                int vars = in.readUnsignedShort();
                int lines = in.readUnsignedShort();
                in.skipBytes(9 * vars + 6 * lines);
                rows.add(String.format("%6d %s.%s", size, cn, mn));
            }
        }
        rows.sort((a, b) -> b.compareTo(a));
        System.out.printf("largest of %d methods (header + bytecode, B):%n", rows.size());
        for (int i = 0; i < Math.min(top, rows.size()); i++) {
            System.out.println("  " + rows.get(i));
        }
    }
}
