package org.paia.dispatcher.download;

import com.azure.storage.blob.models.BlobItem;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import org.apache.camel.Exchange;
import org.paia.dispatcher.config.DispatcherProperties;
import org.paia.dispatcher.task.GameTask;
import org.paia.dispatcher.task.Program;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The steps of fetching a program that are not calls out, around the {@code program-fetch} route's
 * {@code listBlobs} and {@code downloadBlobToFile}: from the listing, what to download (one blob, or every
 * blob under a prefix) within the file count and size limits, with names that cannot leave the program's
 * folder — nothing there means the program does not exist, the user's error; then the downloaded files
 * moved into place.
 *
 * <p>The component writes each blob to {@code <fileDir>/<full blob name>}, opened CREATE_NEW and written in
 * place: so every fetch downloads into a staging folder of its own (a crash never leaves a half-written
 * file under its final name, and launches of one batch never collide), and {@link #install} moves each
 * file into {@code <workspace>/<room>/programs/<code_name>/} atomically. A file already there with the
 * blob's size is not downloaded again: a retried or repeated fetch is idempotent.
 */
public class ProgramDownloads {

    private static final Logger LOG = LoggerFactory.getLogger(ProgramDownloads.class);
    private static final String STAGING_PREFIX = ".staging-";

    private final Workspace workspace;
    private final int maxFiles;
    private final long maxBytes;
    private final Map<String, DispatcherProperties.Game> games;

    public ProgramDownloads(Workspace workspace, int maxFiles, long maxBytes, Map<String, DispatcherProperties.Game> games) {
        this.workspace = workspace;
        this.maxFiles = maxFiles;
        this.maxBytes = maxBytes;
        this.games = games;
    }

    /** One blob to download: its name in the container, where it goes, its size. */
    public record Download(String blobName, Path target, long size) {
    }

    /**
     * What fetching one program takes: the downloads (blobs not already in place), the staging folder they
     * go to, and the file the player runs.
     */
    public record Plan(Program program, Path programDir, Path staging, String prefix, List<Download> downloads,
                       List<Download> all, Path entry) {

        /** The staging folder as the component's {@code CamelAzureStorageBlobFileDir} header wants it (a Path would be read). */
        public String stagingDir() {
            return staging.toString();
        }
    }

    /**
     * Plans the download of the program in variable {@code program} (of the task in variable {@code task})
     * from the {@code listBlobs} answer for its URL.
     */
    public Plan plan(List<BlobItem> listed, Exchange exchange) {
        Program program = exchange.getVariable("program", Program.class);
        GameTask task = exchange.getVariable("task", GameTask.class);
        Path programDir = workspace.programDir(task.roomId(), program.codeName());
        String path = program.blobPath();
        List<Download> all = new ArrayList<>();
        Path entry;
        BlobItem single = listed.stream().filter(b -> !Boolean.TRUE.equals(b.isPrefix()) && b.getName().equals(path))
                .findFirst().orElse(null);
        if (single != null) {
            Path target = programDir.resolve(lastSegment(path));
            all.add(new Download(single.getName(), target, size(single)));
            entry = target;
        } else {
            String prefix = path + "/";
            long total = 0;
            for (BlobItem item : listed) {
                if (Boolean.TRUE.equals(item.isPrefix()) || !item.getName().startsWith(prefix)) {
                    continue; // a sibling that merely shares the prefix (code-855 and code-8550)
                }
                total += size(item);
                if (all.size() + 1 > maxFiles) {
                    throw new ProgramNotFoundException("program '" + program.codeName() + "' has more than "
                            + maxFiles + " files (paia.limits.max-files-per-program)");
                }
                if (total > maxBytes) {
                    throw new ProgramNotFoundException("program '" + program.codeName() + "' is larger than "
                            + maxBytes + " bytes (paia.limits.max-program-bytes)");
                }
                all.add(new Download(item.getName(), safeTarget(programDir, item.getName().substring(prefix.length()),
                        program), size(item)));
            }
            if (all.isEmpty()) {
                throw new ProgramNotFoundException("program '" + program.codeName() + "' not found: no blob "
                        + program.container() + "/" + path + " and nothing under that prefix");
            }
            entry = programDir.resolve(entryScript(task));
        }
        if (single != null && single.getProperties() != null && size(single) > maxBytes) {
            throw new ProgramNotFoundException("program '" + program.codeName() + "' is larger than " + maxBytes
                    + " bytes (paia.limits.max-program-bytes)");
        }
        List<Download> downloads = all.stream().filter(d -> !inPlace(d)).toList();
        Path staging = programDir.resolveSibling(STAGING_PREFIX + program.codeName() + "-" + UUID.randomUUID());
        try {
            Files.createDirectories(staging);
            for (Download d : downloads) {
                // the component writes <fileDir>/<full blob name> and creates no folder on the way
                Files.createDirectories(staging.resolve(d.blobName()).getParent());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the staging folder " + staging, e);
        }
        return new Plan(program, programDir, staging, single != null ? null : path + "/", downloads, all, entry);
    }

    /**
     * Moves the downloaded files from the staging folder into the program's folder, each atomically, and
     * removes the staging folder; returns the file the player runs.
     */
    public Path install(Plan plan) {
        try {
            for (Download d : plan.downloads()) {
                Path staged = plan.staging().resolve(d.blobName());
                Files.createDirectories(d.target().getParent());
                Files.move(staged, d.target(), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            }
            deleteTree(plan.staging());
            long bytes = plan.all().stream().mapToLong(Download::size).sum();
            LOG.info("Program {} downloaded: {} blobs ({} already there), {} bytes", plan.program().codeName(),
                    plan.all().size(), plan.all().size() - plan.downloads().size(), bytes);
            return plan.entry();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot install program '" + plan.program().codeName() + "' in "
                    + plan.programDir(), e);
        }
    }

    /** Resolves a blob's relative name under {@code dir}, refusing anything that would leave it. */
    static Path safeTarget(Path dir, String relative, Program program) {
        if (relative.isEmpty() || relative.startsWith("/") || relative.contains("\\") || relative.indexOf('\0') >= 0) {
            throw new ProgramNotFoundException("program '" + program.codeName() + "' has an unsafe file name");
        }
        for (String segment : relative.split("/", -1)) {
            if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
                throw new ProgramNotFoundException("program '" + program.codeName() + "' has an unsafe file name");
            }
        }
        Path target = dir.resolve(relative).normalize();
        if (!target.startsWith(dir.normalize())) {
            throw new ProgramNotFoundException("program '" + program.codeName() + "' has an unsafe file name");
        }
        return target;
    }

    private String entryScript(GameTask task) {
        DispatcherProperties.Game game = games.get(task.gameName());
        if (game == null) {
            throw new IllegalStateException("game '" + task.gameName() + "' is no longer configured");
        }
        return game.getEntryScript();
    }

    private static boolean inPlace(Download d) {
        try {
            return Files.isRegularFile(d.target()) && Files.size(d.target()) == d.size();
        } catch (IOException e) {
            return false;
        }
    }

    private static long size(BlobItem item) {
        return item.getProperties() == null || item.getProperties().getContentLength() == null ? 0
                : item.getProperties().getContentLength();
    }

    private static String lastSegment(String path) {
        int slash = path.lastIndexOf('/');
        return slash < 0 ? path : path.substring(slash + 1);
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
