package org.paia.dispatcher.ledger;

/** Whose fault a failed instance is, so the web service can tell a student's bug from ours. */
public enum FailureSource {
    /** The user's program: non-zero exit, OOMKilled, deadline exceeded. */
    USER_CODE,
    /** The cluster: an image that cannot be pulled, no node for the pod, pods lost more often than max-attempts. */
    PLATFORM,
    /** The task itself: invalid fields, a program that does not exist. */
    INPUT
}
