package org.paia.dispatcher.pods;

import io.fabric8.kubernetes.api.model.Pod;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/** Deterministic, DNS-safe names and label values for game pods. */
public final class PodNames {

    public static final String MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
    public static final String MANAGED_BY = "paia-dispatcher";
    public static final String ROOM_LABEL = "paia.io/room";
    public static final String INSTANCE_LABEL = "paia.io/instance";
    public static final String ATTEMPT_LABEL = "paia.io/attempt";
    /** The GPU pool the pod's run counts against (paia.pools). */
    public static final String POOL_LABEL = "paia.io/pool";
    public static final String ROOM_ANNOTATION = "paia.io/room-id";
    /** Keeps a game pod from vanishing before its outcome is on the ledger (removed by the dispatcher only). */
    public static final String FINALIZER = "paia.io/outcome-recorded";

    private static final Pattern LABEL_VALUE = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
    private static final int MAX_ROOM_PART = 40;

    private PodNames() {
    }

    /** {@code paiagym-<room>-<instance>-<attempt>}: at most 63 characters, lower-case DNS label. */
    /**
     * A listed game pod as its labels, annotations and phase describe it: {@code room} is null and
     * {@code instance} and {@code attempt} are -1 when the pod does not carry readable ones;
     * {@code ended}: it is in a terminal phase (see {@link #hasEnded}); {@code pool}: its pool label, null
     * when it has none (a pod of a version without pools).
     */
    public record Listed(String room, int instance, int attempt, boolean ended, String pool) {

        /** A pod that has not ended (being created, pending or running), without a pool label. */
        public Listed(String room, int instance, int attempt) {
            this(room, instance, attempt, false, null);
        }

        /** A pod without a pool label. */
        public Listed(String room, int instance, int attempt, boolean ended) {
            this(room, instance, attempt, ended, null);
        }

        /** Whether the pod says which run it belongs to. */
        public boolean readable() {
            return room != null && instance >= 0 && attempt >= 0;
        }
    }

    /** Pod name → what the listed game pods say of themselves. */
    public static Map<String, Listed> listed(List<Pod> pods) {
        Map<String, Listed> listed = new HashMap<>();
        for (Pod pod : pods) {
            listed.put(pod.getMetadata().getName(), describe(pod));
        }
        return listed;
    }

    /** What a game pod says of itself: its run (from labels and annotations) and whether it ended. */
    public static Listed describe(Pod pod) {
        Map<String, String> annotations = pod.getMetadata().getAnnotations();
        Map<String, String> labels = pod.getMetadata().getLabels();
        String room = annotations == null ? null : annotations.get(ROOM_ANNOTATION);
        String instance = labels == null ? null : labels.get(INSTANCE_LABEL);
        String attempt = labels == null ? null : labels.get(ATTEMPT_LABEL);
        boolean readable = instance != null && attempt != null && instance.matches("\\d{1,9}")
                && attempt.matches("\\d{1,9}");
        return new Listed(room, readable ? Integer.parseInt(instance) : -1, readable ? Integer.parseInt(attempt) : -1,
                hasEnded(pod), labels == null ? null : labels.get(POOL_LABEL));
    }

    /**
     * Whether the pod is in a terminal phase (Succeeded or Failed): its containers have exited for good
     * (game pods never restart), so it holds no GPU any more. Kubernetes counts such pods the same way:
     * the scheduler, ResourceQuota and a Job's parallelism count only pods that have not ended.
     */
    public static boolean hasEnded(Pod pod) {
        String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
        return "Succeeded".equals(phase) || "Failed".equals(phase);
    }

    public static String podName(String roomId, int instance, int attempt) {
        return "paiagym-" + roomLabel(roomId) + "-" + instance + "-" + attempt;
    }

    /**
     * The room id as a DNS-label-safe value: itself when it already is one (a lower-case UUID is),
     * else a readable prefix plus a hash, so that two different rooms never share a value.
     */
    public static String roomLabel(String roomId) {
        String lower = roomId.toLowerCase(Locale.ROOT);
        if (lower.equals(roomId) && lower.length() <= MAX_ROOM_PART && LABEL_VALUE.matcher(lower).matches()) {
            return lower;
        }
        String readable = lower.replaceAll("[^a-z0-9]+", "-").replaceAll("^-+|-+$", "");
        if (readable.length() > 20) {
            readable = readable.substring(0, 20).replaceAll("-+$", "");
        }
        return (readable.isEmpty() ? "r" : readable) + "-" + hash(roomId);
    }

    private static String hash(String s) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 5);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
