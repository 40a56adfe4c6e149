package org.paia.dispatcher.local;

import com.azure.core.util.BinaryData;
import com.azure.storage.blob.BlobContainerClient;
import com.azure.storage.blob.BlobServiceClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sample user programs in Azurite, the ones {@code examples/} refers to: a working player
 * ({@code user-102/kart_3d/code-855/}) and one the simulated node crashes
 * ({@code user-102/kart_3d/code-crash/}, used with a {@code code_name} containing "crash").
 */
public final class SamplePrograms {

    private static final Logger LOG = LoggerFactory.getLogger(SamplePrograms.class);

    public static final String CONTAINER = "user-102";

    private static final String PLAYER = """
            class MLPlay:
                def __init__(self, *args, **kwargs):
                    pass

                def update(self, scene_info, *args, **kwargs):
                    return {"forward": True}

                def reset(self):
                    pass
            """;

    private SamplePrograms() {
    }

    public static void seed(BlobServiceClient blobs) {
        BlobContainerClient container = blobs.getBlobContainerClient(CONTAINER);
        container.createIfNotExists();
        container.getBlobClient("kart_3d/code-855/ml_play.py").upload(BinaryData.fromString(PLAYER), true);
        container.getBlobClient("kart_3d/code-855/model/README.txt")
                .upload(BinaryData.fromString("trained model files go here\n"), true);
        container.getBlobClient("kart_3d/code-crash/ml_play.py")
                .upload(BinaryData.fromString("raise RuntimeError('boom')\n"), true);
        LOG.info("Sample programs seeded in Azurite container {}: kart_3d/code-855/, kart_3d/code-crash/", CONTAINER);
    }
}
