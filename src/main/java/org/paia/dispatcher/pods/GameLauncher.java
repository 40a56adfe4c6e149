package org.paia.dispatcher.pods;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.paia.dispatcher.config.DispatcherProperties;
import org.paia.dispatcher.download.ProgramDownloader;
import org.paia.dispatcher.download.Workspace;
import org.paia.dispatcher.schedule.GameRun;
import org.paia.dispatcher.task.Program;

/**
 * The steps of launching one run, called in order by the {@code instance-launch} route:
 * download the programs, write the game input, create the pod (the scheduler has recorded the launch).
 * Every step can be repeated without harm: the route may run again after a crash or a retry.
 */
public class GameLauncher {

    private static final int DOWNLOADS_REMEMBERED = 256;

    private final ProgramDownloader downloader;
    private final Workspace workspace;
    private final PodRenderer renderer;
    private final PodClient pods;
    private final DispatcherProperties properties;
    /** Room id → the files its players run, for the most recent rooms launched. */
    private final Map<String, List<Path>> downloaded = Collections.synchronizedMap(
            new LinkedHashMap<>(16, 0.75f, true) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<String, List<Path>> eldest) {
                    return size() > DOWNLOADS_REMEMBERED;
                }
            });

    public GameLauncher(ProgramDownloader downloader, Workspace workspace, PodRenderer renderer, PodClient pods,
                        DispatcherProperties properties) {
        this.downloader = downloader;
        this.workspace = workspace;
        this.renderer = renderer;
        this.pods = pods;
        this.properties = properties;
    }

    /**
     * Streams every program of the run's task into the workspace; returns the file each player runs.
     * The instances of a batch share one download: a room's files, once fetched, are reused while they
     * are on the volume.
     */
    public List<Path> downloadPrograms(GameRun run) {
        List<Path> cached = downloaded.get(run.roomId());
        if (cached != null && cached.stream().allMatch(Files::exists)) {
            return cached;
        }
        String entry = game(run).getEntryScript();
        List<Path> files = new ArrayList<>();
        for (Program program : run.task().programs()) {
            files.add(downloader.download(program, workspace.programDir(run.roomId(), program.codeName()), entry));
        }
        downloaded.put(run.roomId(), List.copyOf(files));
        return files;
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
        DispatcherProperties.Game game = properties.getGames().get(run.task().gameName());
        if (game == null) {
            throw new IllegalStateException("game '" + run.task().gameName() + "' is no longer configured");
        }
        return game;
    }
}
