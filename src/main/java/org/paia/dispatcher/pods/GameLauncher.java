package org.paia.dispatcher.pods;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.paia.dispatcher.config.DispatcherProperties;
import org.paia.dispatcher.download.ProgramDownloader;
import org.paia.dispatcher.download.Workspace;
import org.paia.dispatcher.schedule.GameRun;
import org.paia.dispatcher.task.GameTask;
import org.paia.dispatcher.task.Program;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The steps of launching one run, called in order by the {@code instance-launch} route:
 * download the programs (usually fetched ahead by {@link #prefetch}), write the game input, create the pod
 * (the scheduler has recorded the launch).
 * Every step can be repeated without harm: the route may run again after a crash or a retry.
 */
public class GameLauncher {

    private static final Logger LOG = LoggerFactory.getLogger(GameLauncher.class);
    private static final int DOWNLOADS_REMEMBERED = 256;

    private final ProgramDownloader downloader;
    private final Workspace workspace;
    private final PodRenderer renderer;
    private final PodClient pods;
    private final DispatcherProperties properties;
    private final Executor prefetchPool;
    /** Room id → its download (done or under way): the files its players run, for the most recent rooms. */
    private final Map<String, CompletableFuture<List<Path>>> downloads = Collections.synchronizedMap(
            new LinkedHashMap<>(16, 0.75f, true) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<String, CompletableFuture<List<Path>>> eldest) {
                    return size() > DOWNLOADS_REMEMBERED;
                }
            });

    public GameLauncher(ProgramDownloader downloader, Workspace workspace, PodRenderer renderer, PodClient pods,
                        DispatcherProperties properties, Executor prefetchPool) {
        this.downloader = downloader;
        this.workspace = workspace;
        this.renderer = renderer;
        this.pods = pods;
        this.properties = properties;
        this.prefetchPool = prefetchPool;
    }

    /**
     * Streams every program of the run's task into the workspace; returns the file each player runs.
     * A room's programs are downloaded once: the instances of a batch, and a launch whose programs were
     * {@linkplain #prefetch prefetched}, wait for that download instead of starting their own. A
     * prefetch that failed is not trusted: the launch downloads again, so that its own failure is
     * classified and redelivered like any other.
     */
    public List<Path> downloadPrograms(GameRun run) {
        String room = run.roomId();
        CompletableFuture<List<Path>> mine = new CompletableFuture<>();
        CompletableFuture<List<Path>> earlier = downloads.putIfAbsent(room, mine);
        if (earlier != null) {
            try {
                List<Path> files = earlier.join();
                if (files.stream().allMatch(Files::exists)) {
                    return files;
                }
            } catch (CompletionException | CancellationException e) {
                // the earlier download failed: this launch tries itself
            }
            downloads.put(room, mine);
        }
        try {
            List<Path> files = fetch(run.task());
            mine.complete(files);
            return files;
        } catch (RuntimeException e) {
            mine.completeExceptionally(e);
            downloads.remove(room, mine);
            throw e;
        }
    }

    /**
     * Starts downloading the programs of tasks whose runs are due next, on the prefetch threads, so that
     * a launch finds them on the volume when a slot frees instead of waiting for Blob Storage. Rooms
     * downloaded or under way already are skipped; a failure is left for the launch to meet (and report).
     */
    public void prefetch(List<GameTask> upcoming) {
        try {
            for (GameTask task : upcoming) {
                downloads.computeIfAbsent(task.roomId(), room -> CompletableFuture.supplyAsync(() -> fetch(task),
                        prefetchPool).whenComplete((files, e) -> {
                            if (e != null) {
                                LOG.debug("Prefetch of room {} failed (its launch downloads again): {}", room,
                                        e.toString());
                            }
                        }));
            }
        } catch (RejectedExecutionException e) {
            LOG.debug("No prefetch: the dispatcher is stopping");
        }
    }

    private List<Path> fetch(GameTask task) {
        String entry = game(task).getEntryScript();
        List<Path> files = new ArrayList<>();
        for (Program program : task.programs()) {
            files.add(downloader.download(program, workspace.programDir(task.roomId(), program.codeName()), entry));
        }
        return List.copyOf(files);
    }

    public void writeInput(GameRun run, List<Path> playerFiles) {
        workspace.writeInput(run, playerFiles);
    }

    /** Creates the run's pod, or adopts it when it exists; returns the pod as the API has it now. */
    public io.fabric8.kubernetes.api.model.Pod createPod(GameRun run, List<Path> playerFiles) {
        DispatcherProperties.Kubernetes k8s = properties.getKubernetes();
        PodRenderer.RunSpec spec = new PodRenderer.RunSpec(run.podName(), k8s.getNamespace(), run.roomId(),
                run.instance(), run.attempt(), run.task().gameName(), game(run).getImage(), k8s.getWorkspaceClaim(),
                k8s.getPodWorkspacePath(), workspace.podPath(workspace.runDir(run).resolve(Workspace.INPUT_FILE)),
                workspace.podPath(workspace.outputDir(run)), playerFiles.stream().map(workspace::podPath).toList(),
                k8s.getActiveDeadline().toSeconds());
        return pods.createOrAdopt(renderer.render(spec));
    }

    private DispatcherProperties.Game game(GameRun run) {
        return game(run.task());
    }

    private DispatcherProperties.Game game(GameTask task) {
        DispatcherProperties.Game game = properties.getGames().get(task.gameName());
        if (game == null) {
            throw new IllegalStateException("game '" + task.gameName() + "' is no longer configured");
        }
        return game;
    }
}
