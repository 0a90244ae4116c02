package dev.engram.cli;

import io.grpc.ManagedChannel;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine;

/** A subcommand that calls the server: opens a channel, runs, closes it; returns the exit code. */
abstract class ClientCommand implements Callable<Integer> {
    @CommandLine.Mixin
    ServerOptions server;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public final Integer call() throws Exception {
        ManagedChannel channel = server.channel();
        try {
            return run(channel, spec.commandLine().getOut());
        } finally {
            spec.commandLine().getOut().flush();
            ServerOptions.close(channel);
        }
    }

    abstract int run(ManagedChannel channel, PrintWriter out) throws Exception;

    static dev.engram.grpc.v1.ModelRef model(String name, String checkpoint) {
        return dev.engram.grpc.v1.ModelRef.newBuilder().setName(name == null ? "" : name)
                .setCheckpoint(checkpoint == null ? "" : checkpoint).build();
    }
}
