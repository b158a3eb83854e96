package dev.laconic.kernels;

import dev.laconic.tensor.Ops;

import java.lang.reflect.InvocationTargetException;
import java.util.Locale;

/**
 * The one place that turns a backend name into an {@link Ops}: {@code cpu} (the Vector API kernels,
 * {@link VectorOps}) or {@code tornado} (TornadoVM: the decode step and the training GEMMs on a GPU,
 * module kernels/tornado). Command-line tools pass their {@code --backend} flag; library users may
 * set the system property {@value #PROPERTY} and call {@link #ops(String)} with null.
 *
 * <p>The TornadoVM class is loaded by name only when chosen, so nothing here, and no other module,
 * needs TornadoVM to compile or run. Without it, {@code tornado} ends in an
 * {@link IllegalStateException} whose one-line message says how to get and run it (the CLI prints
 * such messages as one "error:" line).
 */
public final class Backends {
    /** System property read when no backend name is given. */
    public static final String PROPERTY = "laconic.backend";
    static final String TORNADO_CLASS = "dev.laconic.kernels.tornado.TornadoOps";
    static final String HOW_TO_BUILD = "the tornado backend is not in this build of Laconic: build it with the TornadoVM "
            + "profile (./mvnw -Ptornado -DskipTests package; ./laconic does this when TORNADOVM_HOME is set), "
            + "then run with TORNADOVM_HOME pointing at a TornadoVM SDK (see kernels/tornado/README.md)";
    /** Why tornado cannot start without the TornadoVM runtime, and what to do (also used by TornadoOps). */
    public static final String NO_RUNTIME = "the tornado backend needs the TornadoVM runtime: install a TornadoVM SDK "
            + "(JDK 25 line), set TORNADOVM_HOME to it and run ./laconic, which then passes $TORNADOVM_HOME/tornado-argfile "
            + "to java (or run java @$TORNADOVM_HOME/tornado-argfile -jar bench/target/laconic.jar ...); see kernels/tornado/README.md";

    private Backends() {}

    /** The backend called {@code name} ({@code cpu} or {@code tornado}); null: the {@value #PROPERTY} property, default cpu. */
    public static Ops ops(String name) {
        String n = (name != null ? name : System.getProperty(PROPERTY, "cpu")).strip().toLowerCase(Locale.ROOT);
        return switch (n) {
            case "cpu" -> new VectorOps();
            case "tornado" -> tornado();
            default -> throw new IllegalArgumentException("unknown backend '" + n + "': choose cpu or tornado");
        };
    }

    private static Ops tornado() {
        Class<?> c;
        try {
            c = Class.forName(TORNADO_CLASS);
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException(HOW_TO_BUILD);
        } catch (LinkageError e) {
            throw new IllegalStateException(NO_RUNTIME);   // built with -Ptornado, but TornadoVM's API is not on this JVM
        }
        try {
            return (Ops) c.getConstructor().newInstance();
        } catch (LinkageError e) {
            throw new IllegalStateException(NO_RUNTIME);
        } catch (InvocationTargetException e) {
            if (e.getCause() instanceof LinkageError) throw new IllegalStateException(NO_RUNTIME);
            // TornadoOps explains a missing runtime or device itself, in one line
            if (e.getCause() instanceof RuntimeException r) throw r;
            throw new IllegalStateException("the tornado backend failed to start: " + e.getCause(), e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("the tornado backend failed to start: " + e, e);
        }
    }
}
