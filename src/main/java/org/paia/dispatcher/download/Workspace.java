package org.paia.dispatcher.download;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import org.paia.dispatcher.schedule.GameRun;

/**
 * The layout of the shared volume, seen from the dispatcher ({@code local}) and from the game pod
 * ({@code pod}, the PVC's mount path):
 * <pre>
 * &lt;room_id&gt;/programs/&lt;code_name&gt;/...          the user's programs
 * &lt;room_id&gt;/run-&lt;instance&gt;-&lt;attempt&gt;/input.json    what the game needs, the ws_uri token included
 * &lt;room_id&gt;/run-&lt;instance&gt;-&lt;attempt&gt;/output/      video.mp4, result.json, game.log
 * </pre>
 * The token reaches the game through {@code input.json} only, never through the pod spec.
 */
public class Workspace {

    public static final String INPUT_FILE = "input.json";
    public static final String OUTPUT_DIR = "output";

    private final Path local;
    private final String pod;
    private final ObjectMapper mapper;

    public Workspace(Path local, String podMountPath, ObjectMapper mapper) {
        this.local = local.toAbsolutePath().normalize();
        this.pod = podMountPath.endsWith("/") ? podMountPath.substring(0, podMountPath.length() - 1) : podMountPath;
        this.mapper = mapper;
    }

    public Path programDir(String roomId, String codeName) {
        return local.resolve(roomId).resolve("programs").resolve(codeName);
    }

    /** The room's own folder: its programs, its runs and its manifest. */
    public Path roomDir(String roomId) {
        return local.resolve(roomId);
    }

    public Path runDir(GameRun run) {
        return local.resolve(run.roomId()).resolve(run.runFolder());
    }

    public Path outputDir(GameRun run) {
        return runDir(run).resolve(OUTPUT_DIR);
    }

    /** A path under the local workspace as the game pod sees it. */
    public String podPath(Path localPath) {
        Path relative = local.relativize(localPath.toAbsolutePath().normalize());
        return pod + "/" + relative.toString().replace('\\', '/');
    }

    /** Where a pod-side path lies in the local workspace (the simulated node reads through it). */
    public Path localPath(String podPath) {
        if (!podPath.startsWith(pod + "/")) {
            throw new IllegalArgumentException("not under the pod workspace " + pod + ": " + podPath);
        }
        Path resolved = local.resolve(podPath.substring(pod.length() + 1)).normalize();
        if (!resolved.startsWith(local)) {
            throw new IllegalArgumentException("escapes the workspace: " + podPath);
        }
        return resolved;
    }

    /**
     * Writes the game's input file (and creates the empty output folder) for a run.
     *
     * @param programFiles the file each player runs, in program order
     * @return the input file
     */
    public Path writeInput(GameRun run, List<Path> programFiles) {
        ObjectNode data = run.task().data();
        ObjectNode input = mapper.createObjectNode();
        input.put("room_id", run.roomId());
        input.put("game_id", run.task().gameId());
        input.put("game_name", run.task().gameName());
        input.put("instance", run.instance());
        input.put("attempt", run.attempt());
        input.set("game_param", data.path("game_param").isObject() ? data.get("game_param") : mapper.createObjectNode());
        input.set("plug_in_data", data.path("plug_in_data").isArray() ? data.get("plug_in_data") : mapper.createArrayNode());
        ArrayNode programs = input.putArray("programs");
        for (int i = 0; i < programFiles.size(); i++) {
            programs.addObject()
                    .put("code_name", run.task().programs().get(i).codeName())
                    .put("path", podPath(programFiles.get(i)));
        }
        input.put("ws_uri", run.task().wsUri());
        input.put("output_dir", podPath(outputDir(run)));
        input.set("task", data);
        try {
            Files.createDirectories(outputDir(run));
            Path file = runDir(run).resolve(INPUT_FILE);
            Path partial = runDir(run).resolve("." + INPUT_FILE + ".partial");
            mapper.writerWithDefaultPrettyPrinter().writeValue(partial.toFile(), input);
            Files.move(partial, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the game input of " + run.podName() + " to " + runDir(run), e);
        }
    }
}
