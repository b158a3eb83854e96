package dev.laconic.cli;

import picocli.CommandLine.Command;

@Command(name = "inspect", description = "List a safetensors file's or checkpoint directory's tensors and metadata.")
public final class InspectCommand implements java.util.concurrent.Callable<Integer> {
    @Override
    public Integer call() {
        throw new UnsupportedOperationException("inspect: not yet implemented");
    }
}
