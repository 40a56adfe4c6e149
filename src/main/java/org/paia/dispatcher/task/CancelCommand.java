package org.paia.dispatcher.task;

/**
 * A validated {@code cancel_cmd}: stop the task of {@code roomId}. {@code reason} is the sender's (optional, at
 * most {@link TaskParser#MAX_CANCEL_REASON} characters); it comes back in the events and the CANCELLED result.
 */
public record CancelCommand(String roomId, String reason) {
}
