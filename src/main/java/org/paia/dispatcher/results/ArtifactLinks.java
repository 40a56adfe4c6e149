package org.paia.dispatcher.results;

import com.azure.storage.blob.models.BlobHttpHeaders;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.apache.camel.AggregationStrategy;
import org.apache.camel.Exchange;
import org.apache.camel.component.azure.storage.blob.BlobConstants;

/**
 * Collects the read links the {@code artifact-links} route makes with the component's {@code downloadLink}
 * (blob name → link; a blob-scoped service SAS, read permission only, expiring after
 * {@code paia.storage.sas-expiry}), and the small helpers its routes need around them.
 */
public class ArtifactLinks implements AggregationStrategy {

    private final Duration expiry;

    public ArtifactLinks(Duration expiry) {
        this.expiry = expiry;
    }

    /** The links' lifetime, as the component's {@code CamelAzureStorageBlobDownloadLinkExpiration} header wants it. */
    public long expiryMillis() {
        return expiry.toMillis();
    }

    @Override
    @SuppressWarnings("unchecked")
    public Exchange aggregate(Exchange collected, Exchange linked) {
        String blob = linked.getMessage().getHeader(BlobConstants.BLOB_NAME, String.class);
        String link = linked.getMessage().getHeader(BlobConstants.DOWNLOAD_LINK, String.class);
        Exchange into = collected == null ? linked : collected;
        Map<String, String> links = collected == null ? new HashMap<>()
                : collected.getMessage().getBody(Map.class);
        links.put(blob, link);
        into.getMessage().setBody(links);
        return into;
    }

    /** After the split: blob name → link (empty when the task has no artifacts, and the split had nothing to do). */
    @SuppressWarnings("unchecked")
    public Map<String, String> collected(Exchange exchange) {
        Object body = exchange.getMessage().getBody();
        return body instanceof Map<?, ?> map ? (Map<String, String>) map : new HashMap<>();
    }

    /** The manifest's link joins the others. */
    public Map<String, String> withManifest(Map<String, String> links, String manifestBlob, String manifestLink) {
        Map<String, String> all = new HashMap<>(links);
        all.put(manifestBlob, manifestLink);
        return all;
    }

    /** The manifest's content type for its upload. */
    public BlobHttpHeaders jsonHeaders() {
        return new BlobHttpHeaders().setContentType("application/json");
    }
}
