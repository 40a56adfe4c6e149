package org.paia.dispatcher.pods;

import io.fabric8.kubernetes.api.model.Pod;
import java.nio.file.Path;
import java.util.List;
import org.paia.dispatcher.config.DispatcherProperties;
import org.paia.dispatcher.config.GpuPools;
import org.paia.dispatcher.download.Workspace;
import org.paia.dispatcher.schedule.GameRun;

/**
 * The steps of launching one run that are not calls out, for the {@code instance-launch} route: write the
 * game's input to the shared volume, and render the run's pod from the template. Both can be repeated
 * without harm: the route may run again after a crash or a retry.
 */
public class GameLauncher {

    /** The exchange variable holding the run being launched (launch routes and their error handlers). */
    public static final String RUN = "run";

    private final Workspace workspace;
    private final PodRenderer renderer;
    private final DispatcherProperties properties;
    private final GpuPools pools;

    public GameLauncher(Workspace workspace, PodRenderer renderer, DispatcherProperties properties, GpuPools pools) {
        this.workspace = workspace;
        this.renderer = renderer;
        this.properties = properties;
        this.pools = pools;
    }

    /** The game's input (game_param, plug_in_data, program paths, ws_uri) to {@code run-<instance>-<attempt>/input.json}. */
    public void writeInput(GameRun run, List<Path> playerFiles) {
        workspace.writeInput(run, playerFiles);
    }

    /**
     * The run's pod, rendered from the template: name, labels, finalizer, image, workspace, input and output
     * paths, and its pool's node selector and tolerations.
     */
    public Pod renderPod(GameRun run, List<Path> playerFiles) {
        DispatcherProperties.Kubernetes k8s = properties.getKubernetes();
        DispatcherProperties.Game game = properties.getGames().get(run.task().gameName());
        if (game == null) {
            throw new IllegalStateException("game '" + run.task().gameName() + "' is no longer configured");
        }
        GpuPools.GpuPool pool = pools.pool(run.task().pool()).orElseThrow(() -> new IllegalStateException(
                "pool '" + run.task().pool() + "' is no longer configured"));
        PodRenderer.RunSpec spec = new PodRenderer.RunSpec(run.podName(), k8s.getNamespace(), run.roomId(),
                run.instance(), run.attempt(), run.task().gameName(), game.getImage(), k8s.getWorkspaceClaim(),
                k8s.getPodWorkspacePath(), workspace.podPath(workspace.runDir(run).resolve(Workspace.INPUT_FILE)),
                workspace.podPath(workspace.outputDir(run)), playerFiles.stream().map(workspace::podPath).toList(),
                k8s.getActiveDeadline().toSeconds(), pool.name(), pool.nodeSelector(), pool.tolerations());
        return renderer.render(spec);
    }
}
