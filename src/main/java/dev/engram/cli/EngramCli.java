package dev.engram.cli;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code engram}: one executable for pipelines. Every subcommand but {@code serve} talks gRPC to a
 * running server. Exit codes a pipeline can branch on: 0 done; 2 bad input (usage or INVALID_ARGUMENT); 3 refused
 * by the verification gate (nothing committed; for {@code batch}, at least one line refused); 4 server unreachable
 * or overloaded (UNAVAILABLE, RESOURCE_EXHAUSTED, DEADLINE_EXCEEDED); 5 not found; 6 not allowed (UNAUTHENTICATED,
 * PERMISSION_DENIED); 7 conflict (ABORTED: the head moved); 8 the store check found damage ({@code store verify},
 * {@code store restore}); 1 anything else.
 */
@Command(name = "engram", mixinStandardHelpOptions = true, version = "engram 0.1.0", scope = CommandLine.ScopeType.INHERIT,
        description = "Locate, edit, verify and version knowledge in a language model served by Engram.",
        subcommands = {ServeCommand.class, LocateCommand.class, ProposeCommand.class, ApplyCommand.class,
            BatchCommand.class, CompareCommand.class, CheckpointsCommand.class, RollbackCommand.class,
            ExportCommand.class, StoreCommand.class})
public final class EngramCli implements Runnable {
    public static final int OK = 0;
    public static final int FAILED = 1;
    public static final int BAD_INPUT = 2;
    public static final int REFUSED = 3;
    public static final int UNAVAILABLE = 4;
    public static final int NOT_FOUND = 5;
    public static final int NOT_ALLOWED = 6;
    public static final int CONFLICT = 7;
    public static final int DAMAGED = 8;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The command line with Engram's exit codes for gRPC failures. */
    public static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new EngramCli());
        cli.setExitCodeExceptionMapper(EngramCli::exitCode);
        cli.setExecutionExceptionHandler((e, commandLine, parsed) -> {
            PrintWriter err = commandLine.getErr();
            if (e instanceof StatusRuntimeException s) {
                err.println("engram: " + s.getStatus().getCode() + ": " + s.getStatus().getDescription());
            } else {
                err.println("engram: " + e.getMessage());
            }
            err.flush();
            return exitCode(e);
        });
        return cli;
    }

    static int exitCode(Throwable e) {
        if (e instanceof CommandLine.ParameterException || e instanceof IllegalArgumentException) {
            return BAD_INPUT;
        }
        if (!(e instanceof StatusRuntimeException s)) {
            return FAILED;
        }
        return exitCode(s.getStatus().getCode());
    }

    static int exitCode(Status.Code code) {
        return switch (code) {
            case OK -> OK;
            case INVALID_ARGUMENT, OUT_OF_RANGE -> BAD_INPUT;
            case FAILED_PRECONDITION -> REFUSED;
            case UNAVAILABLE, RESOURCE_EXHAUSTED, DEADLINE_EXCEEDED -> UNAVAILABLE;
            case NOT_FOUND -> NOT_FOUND;
            case UNAUTHENTICATED, PERMISSION_DENIED -> NOT_ALLOWED;
            case ABORTED -> CONFLICT;
            case DATA_LOSS -> DAMAGED;
            default -> FAILED;
        };
    }
}
