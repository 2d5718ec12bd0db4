package org.purse.applet;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.JarURLConnection;
import java.net.URI;
import java.net.URL;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Stream;

import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;

import org.junit.jupiter.api.Test;

/**
 * The applet must compile with nothing but the card API on the boot class path, as a real-card
 * build against an SDK's api_classic jar can: javacard.* / javacardx.* (our runtime's classes stand
 * in for the SDK's) and the few java.lang classes JavaCard has. A `cond ? ref : ref` expression,
 * for one, makes javac look for java.lang.Byte and the other box classes, which the card API lacks.
 */
class CardApiCompileTest {
    /** java.lang of the JavaCard 3.0.4 API, plus Error, which javac wants for any method call. */
    private static final String[] JAVA_LANG = {
        "Object", "Throwable", "Exception", "RuntimeException", "Error", "ArithmeticException",
        "ArrayIndexOutOfBoundsException", "ArrayStoreException", "ClassCastException",
        "IndexOutOfBoundsException", "NegativeArraySizeException", "NullPointerException",
        "SecurityException",
    };

    @Test
    void appletCompilesAgainstTheCardApiAlone() throws Exception {
        compile("purse.applet.src");
    }

    /** The user-card applet (src with src-user's stubs over it, merged by the build): its stubs must
     *  keep the signatures the shared classes call. */
    @Test
    void userAppletCompilesAgainstTheCardApiAlone() throws Exception {
        compile("purse.applet.user.src");
    }

    private static void compile(String prop) throws Exception {
        String src = System.getProperty(prop);
        assertTrue(src != null, prop + " not set (run through ant -f applet/build.xml test)");
        assertTrue(Files.isRegularFile(Paths.get(src, "org/purse/applet/Purse.java")), "no applet sources in " + src);
        Path boot = Files.createTempDirectory("purse-cardapi");
        Path out = Files.createTempDirectory("purse-cardapi-out");
        try {
            copyCardApi(boot);
            FileSystem jrt = FileSystems.getFileSystem(URI.create("jrt:/"));
            for (String c : JAVA_LANG) {
                Path to = boot.resolve("java/lang/" + c + ".class");
                Files.createDirectories(to.getParent());
                Files.copy(jrt.getPath("modules/java.base/java/lang/" + c + ".class"), to,
                        StandardCopyOption.REPLACE_EXISTING);
            }
            List<String> args = new ArrayList<>(List.of("-source", "8", "-target", "8", "-Xlint:-options",
                    "-nowarn", "-bootclasspath", boot.toString(), "-d", out.toString()));
            try (Stream<Path> files = Files.walk(Paths.get(src))) {
                files.filter(f -> f.toString().endsWith(".java")).forEach(f -> args.add(f.toString()));
            }
            JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
            ByteArrayOutputStream log = new ByteArrayOutputStream();
            int rc = javac.run(null, log, log, args.toArray(new String[0]));
            assertTrue(rc == 0, "the applet in " + src + " does not compile against the card API alone:\n" + log);
        } finally {
            delete(boot);
            delete(out);
        }
    }

    /** javacard/** and javacardx/** out of the desk jar (or class directory) the tests run with. */
    private static void copyCardApi(Path boot) throws IOException {
        URL u = CardApiCompileTest.class.getClassLoader().getResource("javacard/framework/Util.class");
        assertTrue(u != null, "the runtime's javacard classes are not on the class path");
        if (u.getProtocol().equals("jar")) {
            JarFile jar = ((JarURLConnection) u.openConnection()).getJarFile();
            Enumeration<JarEntry> en = jar.entries();
            while (en.hasMoreElements()) {
                JarEntry e = en.nextElement();
                String n = e.getName();
                if ((n.startsWith("javacard/") || n.startsWith("javacardx/")) && n.endsWith(".class")) {
                    Path to = boot.resolve(n);
                    Files.createDirectories(to.getParent());
                    try (InputStream in = jar.getInputStream(e)) {
                        Files.copy(in, to, StandardCopyOption.REPLACE_EXISTING);
                    }
                }
            }
        } else {
            Path root = Paths.get(URI.create(u.toString())).getParent().getParent().getParent();
            for (String pkg : new String[] {"javacard", "javacardx"}) {
                Path from = root.resolve(pkg);
                try (Stream<Path> files = Files.walk(from)) {
                    for (Path f : (Iterable<Path>) files::iterator) {
                        Path to = boot.resolve(root.relativize(f).toString());
                        if (Files.isDirectory(f)) {
                            Files.createDirectories(to);
                        } else {
                            Files.copy(f, to, StandardCopyOption.REPLACE_EXISTING);
                        }
                    }
                }
            }
        }
    }

    private static void delete(Path p) throws IOException {
        try (Stream<Path> files = Files.walk(p)) {
            files.sorted((a, b) -> b.compareTo(a)).forEach(f -> f.toFile().delete());
        }
    }
}
