package org.paia.dispatcher.watch;

import java.time.Instant;
import org.paia.dispatcher.schedule.GameRun;

/** A run whose pod was seen running and whose RUNNING stage is not on the ledger yet: on its way to run-running. */
public record RunStarted(GameRun run, Instant startedAt) {
}
