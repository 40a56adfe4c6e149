package org.paia.dispatcher.results;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import org.paia.dispatcher.download.Workspace;
import org.paia.dispatcher.ledger.Ledger;
import org.paia.dispatcher.ledger.LedgerEntry;
import org.paia.dispatcher.pods.PodClient;
import org.paia.dispatcher.schedule.GameRun;
import org.paia.dispatcher.watch.FinishedRun;
import org.paia.dispatcher.watch.RunWatcher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The steps after a game pod ends, called in order by the {@code run-finish} route: upload the
 * artifacts (in parallel), record the outcome on the ledger, delete the pod. The pod is deleted only after the
 * outcome is durable, so a crash in between leaves a pod that the next relist cleans up.
 */
public class RunFinisher {

    private static final Logger LOG = LoggerFactory.getLogger(RunFinisher.class);

    /** Artifact kinds and the file the game writes for each. */
    public static final Map<String, String> ARTIFACT_FILES = Map.of(
            "video", "video.mp4", "result", "result.json", "log", "game.log");

    private static final int MAX_POD_LOG_BYTES = 1024 * 1024;

    private final Workspace workspace;
    private final ArtifactStore store;
    private final PodClient pods;
    private final Ledger ledger;
    private final RunWatcher watcher;
    private final ObjectMapper mapper;
    private final int maxResultJsonBytes;
    private final Executor uploadPool;

    public RunFinisher(Workspace workspace, ArtifactStore store, PodClient pods, Ledger ledger, RunWatcher watcher,
                       ObjectMapper mapper, int maxResultJsonBytes, Executor uploadPool) {
        this.uploadPool = uploadPool;
        this.workspace = workspace;
        this.store = store;
        this.pods = pods;
        this.ledger = ledger;
        this.watcher = watcher;
        this.mapper = mapper;
        this.maxResultJsonBytes = maxResultJsonBytes;
    }

    /**
     * Uploads the run's video, result and log at once, on the upload threads; waits for all of them. If
     * any upload fails, the first failure is thrown (the others attached as suppressed) once every
     * upload has ended, so a retry never races an upload still under way.
     */
    public FinishedRun upload(FinishedRun finished) throws IOException {
        GameRun run = finished.run();
        Path output = workspace.outputDir(run);
        String prefix = run.roomId() + "/" + run.runFolder() + "/";
        Map<String, CompletableFuture<String>> uploads = new LinkedHashMap<>();
        for (String kind : new String[] {"video", "result", "log"}) {
            Path file = output.resolve(ARTIFACT_FILES.get(kind));
            if (Files.isRegularFile(file)) {
                uploads.put(kind, CompletableFuture.supplyAsync(
                        () -> store.upload(prefix + file.getFileName(), file, ArtifactStore.contentType(file)), uploadPool));
            }
        }
        if (!uploads.containsKey("log")) {
            // The game wrote no log file (it may have died before): keep what the container printed.
            String log = pods.logTail(run.podName(), MAX_POD_LOG_BYTES);
            if (log != null) {
                uploads.put("log", CompletableFuture.supplyAsync(
                        () -> store.upload(prefix + "game.log", log, "text/plain; charset=utf-8"), uploadPool));
            }
        }
        return finished.withArtifacts(awaitAll(uploads), inlineResult(output.resolve("result.json"), run));
    }

    private static Map<String, String> awaitAll(Map<String, CompletableFuture<String>> uploads) {
        Map<String, String> uploaded = new LinkedHashMap<>();
        RuntimeException failure = null;
        for (Map.Entry<String, CompletableFuture<String>> upload : uploads.entrySet()) {
            try {
                uploaded.put(upload.getKey(), upload.getValue().join());
            } catch (CompletionException | CancellationException e) {
                RuntimeException cause = e.getCause() instanceof RuntimeException r ? r : e;
                if (failure == null) {
                    failure = cause;
                } else {
                    failure.addSuppressed(cause);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
        return uploaded;
    }

    /**
     * The game's result.json if it is small enough and valid JSON; the full file is always linked.
     * Only a single game's result goes inline: a batch's results stay in Blob Storage (linked from its
     * manifest), so neither the ledger nor the scheduler's memory grows with N × result size.
     */
    private JsonNode inlineResult(Path file, GameRun run) throws IOException {
        if (!Files.isRegularFile(file) || run.task().instances() > 1) {
            return null;
        }
        if (Files.size(file) > maxResultJsonBytes) {
            LOG.info("result.json of {} is {} bytes, over paia.limits.max-result-json-bytes: linked only",
                    run.podName(), Files.size(file));
            return null;
        }
        try {
            return mapper.readTree(file.toFile());
        } catch (IOException e) {
            LOG.warn("result.json of {} is not valid JSON; linked only", run.podName());
            return null;
        }
    }

    public void record(FinishedRun finished) {
        GameRun run = finished.run();
        ledger.record(LedgerEntry.outcome(run.roomId(), run.instance(), run.attempt(), run.podName(),
                finished.outcome(), finished.reason(), finished.source(), finished.artifacts(), finished.result(),
                finished.startedAt(),
                finished.finishedAt()));
    }

    public void deletePod(FinishedRun finished) {
        watcher.release(finished.run().podName());
        watcher.done(finished.run());
    }
}
