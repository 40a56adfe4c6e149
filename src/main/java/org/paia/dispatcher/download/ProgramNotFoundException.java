package org.paia.dispatcher.download;

/** A program URL names no blob and no non-empty prefix: the user's fault, never retried. */
public class ProgramNotFoundException extends RuntimeException {

    public ProgramNotFoundException(String message) {
        super(message);
    }
}
