package dev.laconic.tornado;

import dev.laconic.tensor.Backend;
import dev.laconic.tensor.DeviceLimits;
import dev.laconic.tensor.Ops;
import dev.laconic.transformer.DeviceDecoder;

import java.util.Optional;

/**
 * The {@code tornado} backend, registered with {@link java.util.ServiceLoader}
 * (META-INF/services/dev.laconic.tensor.Backend). Constructing it touches no TornadoVM class; the
 * runtime and its device start on the first {@link #ops()} (or {@link #extension}), which without the
 * runtime ends in {@link #NO_RUNTIME}. Its extensions are the whole-step {@link DeviceDecoder.Source} and the device's own {@link DeviceLimits}.
 */
public final class TornadoBackend implements Backend {
    /** Why tornado cannot start without the TornadoVM runtime, and what to do. */
    public static final String NO_RUNTIME = "the tornado backend needs the TornadoVM runtime: install a TornadoVM SDK "
            + "(JDK 25 line), set TORNADOVM_HOME to it and run ./laconic, which then passes $TORNADOVM_HOME/tornado-argfile "
            + "to java (or run java @$TORNADOVM_HOME/tornado-argfile -jar app/target/laconic.jar ...); see tornado/README.md";

    private TornadoOps ops;

    @Override
    public String name() { return "tornado"; }

    @Override
    public synchronized Ops ops() {
        if (ops == null) {
            try {
                ops = new TornadoOps();
            } catch (LinkageError e) {      // built with -Ptornado, but TornadoVM's API is not on this JVM
                throw new IllegalStateException(NO_RUNTIME);
            }
        }
        return ops;
    }

    @Override
    public <T> Optional<T> extension(Class<T> type) {
        if (type == DeviceDecoder.Source.class) return Optional.of(type.cast(ops()));
        if (type == DeviceLimits.class) return Optional.of(type.cast(new DeviceProbes(((TornadoOps) ops()).device())));
        return Optional.empty();
    }

    @Override
    public String toString() { return "tornado" + (ops != null ? " (" + ops.device() + ")" : ""); }
}
