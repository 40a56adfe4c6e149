package org.paia.dispatcher.results;

import com.azure.storage.blob.BlobClient;
import com.azure.storage.blob.BlobContainerClient;
import com.azure.storage.blob.BlobServiceClient;
import com.azure.storage.blob.models.BlobHttpHeaders;
import com.azure.storage.blob.options.BlobUploadFromFileOptions;
import com.azure.storage.blob.sas.BlobSasPermission;
import com.azure.storage.blob.sas.BlobServiceSasSignatureValues;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import com.azure.core.util.BinaryData;

/**
 * Game artifacts in Blob Storage: uploads from the workspace (streamed from disk) to
 * {@code <records-container>/<room_id>/run-<instance>-<attempt>/<file>}, and read-only SAS links
 * scoped to one blob with a configurable expiry — never the container-wide read-write-list SAS
 * the original system handed out.
 */
public class ArtifactStore {

    private final BlobContainerClient container;
    private final Duration sasExpiry;
    private final Clock clock;

    public ArtifactStore(BlobServiceClient blobs, String recordsContainer, Duration sasExpiry, Clock clock) {
        this.container = blobs.getBlobContainerClient(recordsContainer);
        this.sasExpiry = sasExpiry;
        this.clock = clock;
    }

    /** Creates the records container when it does not exist yet. */
    public void ensureContainer() {
        container.createIfNotExists();
    }

    /** Uploads a file, replacing any earlier upload of the same run (uploads are idempotent). */
    public String upload(String blobName, Path file, String contentType) {
        BlobClient blob = container.getBlobClient(blobName);
        BlobUploadFromFileOptions options = new BlobUploadFromFileOptions(file.toString())
                .setHeaders(new BlobHttpHeaders().setContentType(contentType));
        blob.uploadFromFileWithResponse(options, null, null);
        return blobName;
    }

    public String upload(String blobName, String text, String contentType) {
        BlobClient blob = container.getBlobClient(blobName);
        blob.upload(BinaryData.fromString(text), true);
        blob.setHttpHeaders(new BlobHttpHeaders().setContentType(contentType));
        return blobName;
    }

    /** A read-only link to one blob that expires after {@code paia.storage.sas-expiry}. */
    public String readLink(String blobName) {
        BlobClient blob = container.getBlobClient(blobName);
        OffsetDateTime expiry = OffsetDateTime.ofInstant(clock.instant().plus(sasExpiry), ZoneOffset.UTC);
        String sas = blob.generateSas(new BlobServiceSasSignatureValues(expiry, new BlobSasPermission().setReadPermission(true)));
        // getBlobUrl() encodes '/' as %2F; a link with plain path segments is what people expect to see.
        StringBuilder url = new StringBuilder(container.getBlobContainerUrl());
        for (String segment : blobName.split("/")) {
            url.append('/').append(URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20"));
        }
        return url.append('?').append(sas).toString();
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
