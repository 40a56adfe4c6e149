package org.paia.dispatcher.pods;

import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import org.paia.dispatcher.config.DispatcherProperties;
import org.paia.dispatcher.download.ProgramDownloader;
import org.paia.dispatcher.download.Workspace;
import org.paia.dispatcher.ledger.Ledger;
import org.paia.dispatcher.ledger.LedgerEntry;
import org.paia.dispatcher.schedule.GameRun;
import org.paia.dispatcher.task.Program;

/**
 * The steps of launching one run, called in order by the {@code instance-launch} route:
 * download the programs, write the game input, record the launch, create the pod.
 * Every step can be repeated without harm: the route may run again after a crash or a retry.
 */
public class GameLauncher {

    private final ProgramDownloader downloader;
    private final Workspace workspace;
    private final PodRenderer renderer;
    private final PodClient pods;
    private final Ledger ledger;
    private final DispatcherProperties properties;
    private final Clock clock;

    public GameLauncher(ProgramDownloader downloader, Workspace workspace, PodRenderer renderer, PodClient pods,
                        Ledger ledger, DispatcherProperties properties, Clock clock) {
        this.downloader = downloader;
        this.workspace = workspace;
        this.renderer = renderer;
        this.pods = pods;
        this.ledger = ledger;
        this.properties = properties;
        this.clock = clock;
    }

    /** Streams every program of the run's task into the workspace; returns the file each player runs. */
    public List<Path> downloadPrograms(GameRun run) {
        String entry = game(run).getEntryScript();
        List<Path> files = new ArrayList<>();
        for (Program program : run.task().programs()) {
            files.add(downloader.download(program, workspace.programDir(run.roomId(), program.codeName()), entry));
        }
        return files;
    }

    public void writeInput(GameRun run, List<Path> playerFiles) {
        workspace.writeInput(run, playerFiles);
    }

    /** Puts the attempt on the ledger before its pod exists, so a restarted scheduler looks for that pod. */
    public void recordLaunch(GameRun run) {
        ledger.record(LedgerEntry.launched(run.roomId(), run.instance(), run.attempt(), run.podName(), clock.instant()));
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
