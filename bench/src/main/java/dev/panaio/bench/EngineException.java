package dev.panaio.bench;

import java.io.IOException;

/** An engine could not run or finish: the message is one line for the user, without a stack trace. */
public final class EngineException extends Exception {
    private static final long serialVersionUID = 1L;

    public EngineException(String message) {
        super(message);
    }

    public EngineException(String message, Throwable cause) {
        super(message, cause);
    }

    /** Wraps a worker's failure, keeping its message readable. */
    static EngineException from(Throwable t) {
        if (t instanceof EngineException e) {
            return e;
        }
        String message = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
        if (!(t instanceof IOException) && !(t instanceof IllegalArgumentException)
                && !(t instanceof IllegalStateException)) {
            message = t.getClass().getName() + ": " + message;
        }
        return new EngineException(message, t);
    }
}
