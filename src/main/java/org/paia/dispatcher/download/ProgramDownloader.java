package org.paia.dispatcher.download;

import com.azure.core.http.rest.PagedIterable;
import com.azure.storage.blob.BlobClient;
import com.azure.storage.blob.BlobContainerClient;
import com.azure.storage.blob.BlobServiceClient;
import com.azure.storage.blob.models.BlobItem;
import com.azure.storage.blob.models.ListBlobsOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.paia.dispatcher.task.Program;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Streams a user program — one blob, or every blob under a prefix — from Blob Storage into
 * {@code <workspace>/<room_id>/programs/<code_name>/} on the shared volume.
 *
 * <p>Each blob goes to disk through the SDK's chunked {@code downloadToFile} into a temporary file
 * that is then moved into place, so a 1 GiB model never sits in the heap and a crash never leaves a
 * half-written file under its final name. Blob names under a prefix are checked so that none can
 * escape the program's folder.
 */
public class ProgramDownloader {

    private static final Logger LOG = LoggerFactory.getLogger(ProgramDownloader.class);

    private final BlobServiceClient blobs;
    private final int maxFiles;
    private final long maxBytes;

    public ProgramDownloader(BlobServiceClient blobs, int maxFiles, long maxBytes) {
        this.blobs = blobs;
        this.maxFiles = maxFiles;
        this.maxBytes = maxBytes;
    }

    /**
     * Downloads the program into {@code programDir} (created if missing) and returns the file to
     * run: the blob itself when the URL names one blob, else {@code programDir/<entryScript>}.
     */
    public Path download(Program program, Path programDir, String entryScript) {
        BlobContainerClient container = blobs.getBlobContainerClient(program.container());
        try {
            Files.createDirectories(programDir);
            BlobClient single = container.getBlobClient(program.blobPath());
            if (single.exists()) {
                String fileName = lastSegment(program.blobPath());
                fetch(single, programDir.resolve(fileName), single.getProperties().getBlobSize());
                LOG.info("Program {} downloaded: 1 blob", program.codeName());
                return programDir.resolve(fileName);
            }
            String prefix = program.blobPath() + "/";
            List<BlobItem> items = new ArrayList<>();
            long total = 0;
            PagedIterable<BlobItem> listing = container.listBlobs(new ListBlobsOptions().setPrefix(prefix), null);
            for (BlobItem item : listing) {
                if (Boolean.TRUE.equals(item.isPrefix())) {
                    continue;
                }
                items.add(item);
                total += item.getProperties().getContentLength();
                if (items.size() > maxFiles) {
                    throw new ProgramNotFoundException("program '" + program.codeName() + "' has more than "
                            + maxFiles + " files (paia.limits.max-files-per-program)");
                }
                if (total > maxBytes) {
                    throw new ProgramNotFoundException("program '" + program.codeName() + "' is larger than "
                            + maxBytes + " bytes (paia.limits.max-program-bytes)");
                }
            }
            if (items.isEmpty()) {
                throw new ProgramNotFoundException("program '" + program.codeName() + "' not found: no blob "
                        + program.container() + "/" + program.blobPath() + " and nothing under that prefix");
            }
            for (BlobItem item : items) {
                Path target = safeTarget(programDir, item.getName().substring(prefix.length()), program);
                Files.createDirectories(target.getParent());
                fetch(container.getBlobClient(item.getName()), target, item.getProperties().getContentLength());
            }
            LOG.info("Program {} downloaded: {} blobs, {} bytes", program.codeName(), items.size(), total);
            return programDir.resolve(entryScript);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write program '" + program.codeName() + "' to " + programDir, e);
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

    private void fetch(BlobClient blob, Path target, long size) throws IOException {
        if (Files.isRegularFile(target) && Files.size(target) == size) {
            return; // already there from an earlier attempt: downloads are idempotent
        }
        // A name of its own per download: launches of a batch's instances may fetch the same file at once.
        Path partial = target.resolveSibling("." + target.getFileName() + "." + UUID.randomUUID() + ".partial");
        blob.downloadToFile(partial.toString(), true);
        Files.move(partial, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static String lastSegment(String path) {
        int slash = path.lastIndexOf('/');
        return slash < 0 ? path : path.substring(slash + 1);
    }
}
