package org.paia.dispatcher.results;

import com.azure.storage.blob.models.BlobHttpHeaders;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.paia.dispatcher.download.Workspace;
import org.paia.dispatcher.events.GameEvent;
import org.paia.dispatcher.ledger.LedgerEntry;
import org.paia.dispatcher.ledger.LedgerWrite;
import org.paia.dispatcher.pods.PodClient;
import org.paia.dispatcher.schedule.GameRun;
import org.paia.dispatcher.watch.FinishedRun;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The steps after a game pod ends that are not calls out, for the {@code run-finish} route: which files to
 * upload where (the route uploads them side by side with {@code azure-storage-blob}), and the run's outcome
 * to record ({@code paia-tx:ledger}). The pod is released only after the outcome is durable, so a crash in
 * between leaves a pod that the next relist finishes again.
 */
public class RunFinisher {

    private static final Logger LOG = LoggerFactory.getLogger(RunFinisher.class);

    /** Artifact kinds and the file the game writes for each. */
    public static final Map<String, String> ARTIFACT_FILES = Map.of(
            "video", "video.mp4", "result", "result.json", "log", "game.log");

    private static final int MAX_POD_LOG_BYTES = 1024 * 1024;

    /** One file to upload: its kind, where it is, the blob it goes to in the records container, its content type. */
    public record Artifact(String kind, Path file, String blobName, BlobHttpHeaders httpHeaders) {
    }

    private final Workspace workspace;
    private final PodClient pods;
    private final ObjectMapper mapper;
    private final int maxResultJsonBytes;
    private final Clock clock;

    public RunFinisher(Workspace workspace, PodClient pods, ObjectMapper mapper, int maxResultJsonBytes, Clock clock) {
        this.clock = clock;
        this.workspace = workspace;
        this.pods = pods;
        this.mapper = mapper;
        this.maxResultJsonBytes = maxResultJsonBytes;
    }

    /**
     * The run's video, result and log, as the game wrote them to {@code <room>/run-<instance>-<attempt>/output/},
     * each bound for {@code <room>/run-<instance>-<attempt>/<file>} in the records container. A game that wrote
     * no log (it may have died first) gets what its container printed, from the API.
     */
    public List<Artifact> artifacts(FinishedRun finished) throws IOException {
        GameRun run = finished.run();
        Path output = workspace.outputDir(run);
        String prefix = run.roomId() + "/" + run.runFolder() + "/";
        List<Artifact> artifacts = new ArrayList<>();
        for (String kind : new String[] {"video", "result", "log"}) {
            Path file = output.resolve(ARTIFACT_FILES.get(kind));
            if (kind.equals("log") && !Files.isRegularFile(file)) {
                String log = pods.logTail(run.podName(), MAX_POD_LOG_BYTES);
                if (log == null) {
                    continue;
                }
                Files.createDirectories(output);
                Files.writeString(file, log, StandardCharsets.UTF_8);
            }
            if (Files.isRegularFile(file)) {
                artifacts.add(new Artifact(kind, file, prefix + file.getFileName(),
                        new BlobHttpHeaders().setContentType(contentType(file))));
            }
        }
        return artifacts;
    }

    /**
     * The run's {@code INSTANCE_UPLOADING} and its event, for the route to record ({@code paia-tx:ledger}) before
     * the uploads; with {@code INSTANCE_RUNNING} first when the game started (the ledger drops it when it is
     * recorded already: a RUNNING missed or lost with a crashed scheduler is never missing from the events).
     */
    public LedgerWrite uploading(FinishedRun finished) {
        GameRun run = finished.run();
        Instant now = clock.instant();
        List<LedgerEntry> entries = new ArrayList<>();
        List<GameEvent> events = new ArrayList<>();
        if (finished.startedAt() != null) {
            entries.add(LedgerEntry.stage(LedgerEntry.Type.INSTANCE_RUNNING, run.roomId(), run.instance(), run.attempt(),
                    run.podName(), finished.startedAt()));
            events.add(GameEvent.instance(GameEvent.Type.RUNNING, run.roomId(), run.instance(), run.attempt(),
                    run.podName(), finished.startedAt()));
        }
        entries.add(LedgerEntry.stage(LedgerEntry.Type.INSTANCE_UPLOADING, run.roomId(), run.instance(), run.attempt(),
                run.podName(), now));
        events.add(GameEvent.instance(GameEvent.Type.UPLOADING, run.roomId(), run.instance(), run.attempt(),
                run.podName(), now));
        return LedgerWrite.of(entries).with(events);
    }

    /**
     * The run's {@code INSTANCE_OUTCOME}, with its uploaded artifacts, and its FINISHED event, for the route to
     * record ({@code paia-tx:ledger}).
     */
    public LedgerWrite outcome(FinishedRun finished, List<Artifact> uploaded) throws IOException {
        GameRun run = finished.run();
        Map<String, String> artifacts = new LinkedHashMap<>();
        uploaded.forEach(a -> artifacts.put(a.kind(), a.blobName()));
        JsonNode result = inlineResult(workspace.outputDir(run).resolve(ARTIFACT_FILES.get("result")), run);
        return LedgerWrite.of(LedgerEntry.outcome(run.roomId(), run.instance(), run.attempt(), run.podName(),
                        finished.outcome(), finished.reason(), finished.source(), Map.copyOf(artifacts), result,
                        finished.startedAt(), finished.finishedAt()))
                .with(GameEvent.instance(GameEvent.Type.FINISHED, run.roomId(), run.instance(), run.attempt(),
                                run.podName(), finished.finishedAt() == null ? clock.instant() : finished.finishedAt())
                        .withOutcome(finished.outcome(), finished.reason(), Map.copyOf(artifacts)));
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

    static String contentType(Path file) {
        String name = file.getFileName().toString();
        if (name.endsWith(".mp4")) {
            return "video/mp4";
        }
        if (name.endsWith(".json")) {
            return "application/json";
        }
        return "text/plain; charset=utf-8";
    }
}
