package org.purse.jc;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Main class of purse-desk.jar (docs/architecture.md, "The desk jar contract").
 *
 * <pre>
 *   create --image PATH --applet CLASS --aid HEX [--params HEX] [--variant NAME]
 *   run    --image PATH --port N [--host 127.0.0.1] [--t0] [--verbose]
 *   info   --image PATH
 * </pre>
 *
 * Exit codes: 0 ok, 2 usage, 1 other error (message on stderr).
 */
public final class Desk {

    static final int EXIT_OK = 0;
    static final int EXIT_ERROR = 1;
    static final int EXIT_USAGE = 2;

    private static final String USAGE =
            "usage:\n"
            + "  java -jar purse-desk.jar create --image PATH --applet CLASS --aid HEX [--params HEX] [--variant NAME]\n"
            + "  java -jar purse-desk.jar run --image PATH --port N [--host 127.0.0.1] [--t0] [--verbose]\n"
            + "  java -jar purse-desk.jar info --image PATH\n";

    /** Thrown for bad command lines: exit code 2. */
    static final class UsageException extends Exception {
        UsageException(String message) { super(message); }
    }

    private Desk() {}

    public static void main(String[] args) {
        int code;
        try {
            code = run(args, System.out, System.err);
        } catch (UsageException e) {
            System.err.println("desk: " + e.getMessage());
            System.err.print(USAGE);
            code = EXIT_USAGE;
        } catch (Throwable e) {
            String msg = e.getMessage();
            System.err.println("desk: " + (msg == null ? e.toString() : msg));
            if (System.getenv("PURSE_DESK_DEBUG") != null) {
                e.printStackTrace();
            }
            code = EXIT_ERROR;
        }
        System.out.flush();
        System.exit(code);
    }

    static int run(String[] args, PrintStream out, PrintStream err) throws Exception {
        if (args.length == 0) {
            throw new UsageException("missing subcommand");
        }
        String cmd = args[0];
        switch (cmd) {
            case "create":
                return create(parse(args, Set.of("--image", "--applet", "--aid", "--params", "--variant"), Set.of()), out);
            case "run":
                return serve(parse(args, Set.of("--image", "--port", "--host"), Set.of("--t0", "--verbose")), err);
            case "info":
                return info(parse(args, Set.of("--image"), Set.of()), out);
            case "-h":
            case "--help":
            case "help":
                out.print(USAGE);
                return EXIT_OK;
            default:
                throw new UsageException("unknown subcommand: " + cmd);
        }
    }

    // ---------------------------------------------------------------- create

    private static int create(Map<String, String> o, PrintStream out) throws Exception {
        Path image = Paths.get(required(o, "--image"));
        String applet = required(o, "--applet");
        byte[] aid = hex(required(o, "--aid"), "--aid");
        if (aid.length < 5 || aid.length > 16) {
            throw new UsageException("--aid must be 5 to 16 bytes, got " + aid.length);
        }
        byte[] params = o.containsKey("--params") ? hex(o.get("--params"), "--params") : new byte[0];
        if (params.length > 127) {
            throw new UsageException("--params must be at most 127 bytes, got " + params.length);
        }
        String variant = o.get("--variant");
        if (variant != null && !AppletLoader.hasVariant(Desk.class.getClassLoader(), variant, applet)) {
            throw new UsageException("--variant " + variant + ": this desk jar has no variants/" + variant + "/ build of "
                    + applet);
        }
        if (Files.exists(image)) {
            throw new IOException("image already exists: " + image);
        }
        Card.create(image, applet, aid, params, variant);
        return EXIT_OK;
    }

    // ---------------------------------------------------------------- run

    private static int serve(Map<String, String> o, PrintStream err) throws Exception {
        Path image = Paths.get(required(o, "--image"));
        String portText = required(o, "--port");
        int port;
        try {
            port = Integer.parseInt(portText);
        } catch (NumberFormatException e) {
            throw new UsageException("--port must be a number: " + portText);
        }
        if (port < 1 || port > 65535) {
            throw new UsageException("--port out of range: " + port);
        }
        String host = o.getOrDefault("--host", "127.0.0.1");
        boolean verbose = o.containsKey("--verbose");

        if (!Files.exists(image)) {
            throw new IOException("no such image: " + image);
        }
        final Card card = Card.load(image);
        if (o.containsKey("--t0")) {
            card.setT0(true);
        }
        final VpcdClient client = new VpcdClient(card, image, host, port, verbose ? err : null);
        // after a tear the card stays out this long so pcscd (polling every 400 ms) sees it removed
        String reconnect = System.getenv("PURSE_DESK_RECONNECT_MS");
        if (reconnect != null && !reconnect.isEmpty()) {
            try {
                client.setReconnectDelayMillis(Long.parseLong(reconnect.trim()));
            } catch (NumberFormatException e) {
                throw new UsageException("PURSE_DESK_RECONNECT_MS must be a number of milliseconds: " + reconnect);
            }
        }
        Thread hook = new Thread(() -> {
            client.stop(); // closes the socket: the card is pulled
            synchronized (client.cardLock()) {
                try {
                    card.save();
                } catch (IOException | RuntimeException e) {
                    System.err.println("desk: saving " + image + " on exit failed: " + e.getMessage());
                }
            }
        }, "desk-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        client.run();
        return EXIT_OK;
    }

    // ---------------------------------------------------------------- info

    private static int info(Map<String, String> o, PrintStream out) throws Exception {
        Path image = Paths.get(required(o, "--image"));
        if (!Files.exists(image)) {
            throw new IOException("no such image: " + image);
        }
        Card card = Card.load(image);
        StringBuilder sb = new StringBuilder();
        sb.append("{\"image\":").append(jsonString(image.toString()));
        sb.append(",\"applets\":[");
        List<String> applets = card.appletInfo();
        for (int i = 0; i < applets.size(); i++) {
            if (i > 0) {
                sb.append(',');
            }
            sb.append(appletJson(applets.get(i).trim()));
        }
        sb.append("],\"variant\":").append(card.variant() == null ? "null" : jsonString(card.variant()));
        sb.append(",\"counters\":").append(card.total().toJson());
        sb.append(",\"lastApdu\":").append(card.last().toJson());
        sb.append(",\"transientBytes\":").append(card.transientBytes());
        sb.append('}');
        out.println(sb);
        return EXIT_OK;
    }

    /** The engine describes an applet as "AIDHEX class.Name"; anything else is passed as a string. */
    static String appletJson(String a) {
        if (a.startsWith("{")) {
            return a;
        }
        int sp = a.indexOf(' ');
        if (sp > 0 && a.substring(0, sp).matches("[0-9A-Fa-f]{10,32}")) {
            return "{\"aid\":" + jsonString(a.substring(0, sp).toUpperCase())
                    + ",\"class\":" + jsonString(a.substring(sp + 1).trim()) + "}";
        }
        return jsonString(a);
    }

    // ---------------------------------------------------------------- helpers

    static Map<String, String> parse(String[] args, Set<String> valued, Set<String> flags)
            throws UsageException {
        Map<String, String> m = new HashMap<>();
        for (int i = 1; i < args.length; i++) {
            String a = args[i];
            String value = null;
            int eq = a.indexOf('=');
            if (a.startsWith("--") && eq > 0) {
                value = a.substring(eq + 1);
                a = a.substring(0, eq);
            }
            if (valued.contains(a)) {
                if (value == null) {
                    if (i + 1 >= args.length) {
                        throw new UsageException(a + " needs a value");
                    }
                    value = args[++i];
                }
                if (m.put(a, value) != null) {
                    throw new UsageException(a + " given twice");
                }
            } else if (flags.contains(a) && value == null) {
                m.put(a, "");
            } else {
                throw new UsageException("unexpected argument for " + args[0] + ": " + args[i]);
            }
        }
        return m;
    }

    private static String required(Map<String, String> o, String name) throws UsageException {
        String v = o.get(name);
        if (v == null || v.isEmpty()) {
            throw new UsageException("missing " + name);
        }
        return v;
    }

    private static byte[] hex(String s, String what) throws UsageException {
        try {
            return VpcdClient.Hex.parse(s);
        } catch (IllegalArgumentException e) {
            throw new UsageException(what + ": " + e.getMessage());
        }
    }

    static String jsonString(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"': sb.append("\\\""); break;
                case '\\': sb.append("\\\\"); break;
                case '\n': sb.append("\\n"); break;
                case '\r': sb.append("\\r"); break;
                case '\t': sb.append("\\t"); break;
                default:
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
            }
        }
        return sb.append('"').toString();
    }
}
