package dev.panaio.bench;

/** The run cannot go ahead (a file, filesystem or alignment problem): one line for the user, exit status 1. */
public final class BenchFailure extends Exception {
    private static final long serialVersionUID = 1L;

    public BenchFailure(String message) {
        super(message);
    }
}
