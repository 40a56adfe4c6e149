package org.paia.dispatcher.routes;

import static org.assertj.core.api.Assertions.assertThat;

import com.azure.core.util.BinaryData;
import com.azure.storage.blob.BlobContainerClient;
import com.azure.storage.blob.models.BlobStorageException;
import com.azure.storage.blob.specialized.BlockBlobClient;
import com.fasterxml.jackson.databind.JsonNode;
import com.azure.storage.blob.BlobClientBuilder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code results.yaml}: run-finish uploads a run's artifacts with uploadBlockBlobChunked and their content
 * types; artifact-links makes the component's downloadLink: blob-scoped, read-only, expiring.
 */
class ResultsRouteTest extends RouteTestSupport {

    @BeforeEach
    void adviseRoutes() throws Exception {
        advise("run-finish", a -> a.weaveById("upload-artifact").after().to("mock:uploaded"));
    }

    @Test
    void aRunsArtifactsAreUploadedSideBySideWithTheirContentTypes() throws Exception {
        String room = newRoom();
        publishWithProgram(room, "kart_3d/code-" + room, "kart3d_ppo_test");
        assertThat(awaitResult(room).path("outcome").asText()).isEqualTo("SUCCEEDED");

        String run = room + "/run-0-0/";
        Map<String, String> uploaded = mock("uploaded").getExchanges().stream()
                .filter(e -> e.getMessage().getHeader("CamelAzureStorageBlobBlobName", String.class).startsWith(run))
                .collect(Collectors.toMap(e -> e.getMessage().getHeader("CamelAzureStorageBlobBlobName", String.class),
                        e -> e.getMessage().getHeader("CamelAzureStorageBlobHttpHeaders",
                                com.azure.storage.blob.models.BlobHttpHeaders.class).getContentType()));
        assertThat(uploaded).containsOnly(Map.entry(run + "video.mp4", "video/mp4"),
                Map.entry(run + "result.json", "application/json"),
                Map.entry(run + "game.log", "text/plain; charset=utf-8"));
        BlobContainerClient records = blobs.getBlobContainerClient(properties.getStorage().getRecordsContainer());
        uploaded.forEach((name, type) ->
                assertThat(records.getBlobClient(name).getProperties().getContentType()).as(name).isEqualTo(type));
    }

    @Test
    void aLinkReadsItsOneBlobAndNothingElseUntilItExpires() throws Exception {
        String room = newRoom();
        publishWithProgram(room, "kart_3d/code-" + room, "kart3d_ppo_test");
        JsonNode result = awaitResult(room);
        String link = result.path("artifacts").path("result").asText();
        String sas = link.substring(link.indexOf('?') + 1);

        assertThat(sas).contains("sr=b").contains("sp=r&").contains("se=");
        BlockBlobClient reader = new BlobClientBuilder().endpoint(link).buildClient().getBlockBlobClient();
        assertThat(reader.downloadContent().toString()).contains("kart3d_ppo_test");
        // read only: the same link cannot overwrite the blob
        assertThat(refused(() -> reader.upload(BinaryData.fromString("tampered"), true))).isTrue();
        // one blob: the signature does not open its neighbour
        String video = link.replace("result.json", "video.mp4");
        assertThat(refused(() -> new BlobClientBuilder().endpoint(video).buildClient().downloadContent())).isTrue();
        assertThat(blobs.getBlobContainerClient(properties.getStorage().getRecordsContainer())
                .getBlobClient(room + "/run-0-0/result.json").downloadContent().toString())
                .doesNotContain("tampered");
    }

    private static boolean refused(Runnable call) {
        try {
            call.run();
            return false;
        } catch (BlobStorageException e) {
            return e.getStatusCode() == 403;
        }
    }
}
