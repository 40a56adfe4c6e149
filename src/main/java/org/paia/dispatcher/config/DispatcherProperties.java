package org.paia.dispatcher.config;

import jakarta.validation.Valid;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotEmpty;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.validation.annotation.Validated;

/**
 * Every setting of the dispatcher, validated at start-up so that a missing or wrong value fails
 * with its property name instead of somewhere deep in a route.
 */
@Validated
@ConfigurationProperties(prefix = "paia")
public class DispatcherProperties {

    @Valid @NotNull private Kafka kafka = new Kafka();
    @Valid @NotNull private Storage storage = new Storage();
    @Valid @NotNull private Kubernetes kubernetes = new Kubernetes();
    @Valid @NotNull private Limits limits = new Limits();
    @Valid @NotNull private Retry retry = new Retry();
    @Valid @NotNull private SchedulerSettings scheduler = new SchedulerSettings();
    @Valid @NotNull private Health health = new Health();
    @Valid @NotNull private LedgerSettings ledger = new LedgerSettings();

    /** The shared volume as this process sees it (mounted from the same PVC as the game pods). */
    @NotNull private Path workspace;

    /** How often an instance is launched when its pod is lost (evicted, deleted) before it ended. */
    @Min(1) private int maxAttempts = 3;

    /** Games that may be run, by {@code game_name}; any other name is rejected. */
    @Valid @NotEmpty private Map<String, Game> games = new LinkedHashMap<>();

    /**
     * GPU pools by name (per GPU type): each its own capacity, node selector and tolerations. None
     * configured: one pool named {@code default} of {@code paia.scheduler.max-active-pods} pods (see {@link GpuPools}).
     */
    @Valid @NotNull private Map<String, Pool> pools = new LinkedHashMap<>();

    /** Priority classes of tasks ({@code data.priority}), their ageing and per-class limits (see {@link Priorities}). */
    @Valid @NotNull private PrioritySettings priorities = new PrioritySettings();

    public static class Kafka {
        @NotBlank private String bootstrapServers;
        @NotBlank private String taskTopic = "paia.game.tasks";
        @NotBlank private String resultTopic = "paia.game.results";
        @NotBlank private String ledgerTopic = "paia.game.ledger";
        @NotBlank private String deadLetterTopic = "paia.game.tasks.dlq";
        /** Lifecycle events of each room (docs/events.md), written in the transactions of the changes they report. */
        @NotBlank private String eventsTopic = "paia.game.events";
        @NotBlank private String groupId = "paia-dispatcher";
        /** Unique and stable per replica (the pod name in a cluster); part of the intake transactional id. */
        @NotBlank @Pattern(regexp = "[A-Za-z0-9._-]{1,200}") private String replicaId;
        @NotBlank private String transactionalIdPrefix = "paia-dispatcher";
        @Min(1) private int partitions = 3;
        @Min(1) private short replicationFactor = 1;
        /** The intake consumer's session: a replica gone for good loses its partitions after this. */
        @Min(6000) private int sessionTimeoutMs = 15000;
        /** Extra client properties (security.protocol, sasl.*) passed to every Kafka client. */
        private Map<String, String> clientProperties = new LinkedHashMap<>();
        /** More topics to create if missing, for routes added in YAML (e.g. an audit copy of the results). */
        private List<@NotBlank @Pattern(regexp = "[A-Za-z0-9._-]{1,249}") String> extraTopics = new ArrayList<>();

        public String getBootstrapServers() { return bootstrapServers; }
        public void setBootstrapServers(String v) { bootstrapServers = v; }
        public String getTaskTopic() { return taskTopic; }
        public void setTaskTopic(String v) { taskTopic = v; }
        public String getResultTopic() { return resultTopic; }
        public void setResultTopic(String v) { resultTopic = v; }
        public String getLedgerTopic() { return ledgerTopic; }
        public void setLedgerTopic(String v) { ledgerTopic = v; }
        public String getEventsTopic() { return eventsTopic; }
        public void setEventsTopic(String v) { eventsTopic = v; }
        public String getDeadLetterTopic() { return deadLetterTopic; }
        public void setDeadLetterTopic(String v) { deadLetterTopic = v; }
        public String getGroupId() { return groupId; }
        public void setGroupId(String v) { groupId = v; }
        public String getReplicaId() { return replicaId; }
        public void setReplicaId(String v) { replicaId = v; }
        public String getTransactionalIdPrefix() { return transactionalIdPrefix; }
        public void setTransactionalIdPrefix(String v) { transactionalIdPrefix = v; }
        public List<String> getExtraTopics() { return extraTopics; }
        public void setExtraTopics(List<String> v) { extraTopics = v; }
        public int getPartitions() { return partitions; }
        public void setPartitions(int v) { partitions = v; }
        public int getSessionTimeoutMs() { return sessionTimeoutMs; }
        public void setSessionTimeoutMs(int v) { sessionTimeoutMs = v; }
        public short getReplicationFactor() { return replicationFactor; }
        public void setReplicationFactor(short v) { replicationFactor = v; }
        public Map<String, String> getClientProperties() { return clientProperties; }
        public void setClientProperties(Map<String, String> v) { clientProperties = v; }
    }

    public static class Storage {
        /** Shared-key connection string (a Secret in a cluster; Azurite's well-known key locally). */
        @NotBlank private String connectionString;
        /**
         * The account's public blob endpoint, e.g. {@code https://paiastage.blob.core.windows.net}.
         * Program URLs must start with it; anything else is rejected. Defaults to the connection
         * string's endpoint.
         */
        private String accountUrl;
        @NotBlank private String recordsContainer = "records";
        @NotNull private Duration sasExpiry = Duration.ofHours(48);

        public String getConnectionString() { return connectionString; }
        public void setConnectionString(String v) { connectionString = v; }
        public String getAccountUrl() { return accountUrl; }
        public void setAccountUrl(String v) { accountUrl = v; }
        public String getRecordsContainer() { return recordsContainer; }
        public void setRecordsContainer(String v) { recordsContainer = v; }
        public Duration getSasExpiry() { return sasExpiry; }
        public void setSasExpiry(Duration v) { sasExpiry = v; }
    }

    public static class Kubernetes {
        /** API server URL; blank = in-cluster service account or ~/.kube/config. */
        private String masterUrl;
        @NotBlank private String namespace = "paia";
        /** {@code classpath:} or {@code file:} location of the game pod template. */
        @NotBlank private String podTemplate = "classpath:pod-template.yaml";
        /** The PVC shared by the dispatcher and the game pods. */
        @NotBlank private String workspaceClaim = "paia-workspace";
        /** Where the game pod mounts the workspace. */
        @NotBlank private String podWorkspacePath = "/workspace";
        @NotNull private Duration activeDeadline = Duration.ofMinutes(30);
        @NotNull private Duration relistInterval = Duration.ofSeconds(30);
        /** A game pod that cannot start (image pull failure, unschedulable) this long fails its instance. */
        @NotNull private Duration pendingTimeout = Duration.ofMinutes(10);
        @Valid @NotNull private LeaderElection leaderElection = new LeaderElection();

        public String getMasterUrl() { return masterUrl; }
        public void setMasterUrl(String v) { masterUrl = v; }
        public String getNamespace() { return namespace; }
        public void setNamespace(String v) { namespace = v; }
        public String getPodTemplate() { return podTemplate; }
        public void setPodTemplate(String v) { podTemplate = v; }
        public String getWorkspaceClaim() { return workspaceClaim; }
        public void setWorkspaceClaim(String v) { workspaceClaim = v; }
        public String getPodWorkspacePath() { return podWorkspacePath; }
        public void setPodWorkspacePath(String v) { podWorkspacePath = v; }
        public Duration getActiveDeadline() { return activeDeadline; }
        public void setActiveDeadline(Duration v) { activeDeadline = v; }
        public Duration getPendingTimeout() { return pendingTimeout; }
        public void setPendingTimeout(Duration v) { pendingTimeout = v; }
        public Duration getRelistInterval() { return relistInterval; }
        public void setRelistInterval(Duration v) { relistInterval = v; }
        public LeaderElection getLeaderElection() { return leaderElection; }
        public void setLeaderElection(LeaderElection v) { leaderElection = v; }
    }

    /** The scheduler's Kubernetes Lease: a standby takes over at most about lease-duration after a leader dies. */
    public static class LeaderElection {
        @NotBlank private String leaseName = "paia-dispatcher";
        @NotNull private Duration leaseDuration = Duration.ofSeconds(15);
        @NotNull private Duration renewDeadline = Duration.ofSeconds(10);
        @NotNull private Duration retryPeriod = Duration.ofSeconds(2);

        public String getLeaseName() { return leaseName; }
        public void setLeaseName(String v) { leaseName = v; }
        public Duration getLeaseDuration() { return leaseDuration; }
        public void setLeaseDuration(Duration v) { leaseDuration = v; }
        public Duration getRenewDeadline() { return renewDeadline; }
        public void setRenewDeadline(Duration v) { renewDeadline = v; }
        public Duration getRetryPeriod() { return retryPeriod; }
        public void setRetryPeriod(Duration v) { retryPeriod = v; }
    }

    /** Bounds on task messages; anything beyond them is rejected with the limit's name. */
    public static class Limits {
        @Min(1) private int maxMessageBytes = 256 * 1024;
        @Min(1) private int maxPrograms = 16;
        @Min(1) private int maxFilesPerProgram = 1000;
        @Min(1) private long maxProgramBytes = 2L * 1024 * 1024 * 1024;
        @Min(1) private int maxResultJsonBytes = 64 * 1024;
        /** The most instances one task may ask for ({@code data.instances}). */
        @Min(1) private int maxInstances = 10_000;
        /** The most attempts one task may ask for per instance ({@code data.max_attempts}). */
        @Min(1) private int maxAttempts = 10;
        /** Room ids become folder names, pod names and label values. */
        @NotBlank private String roomIdPattern = "[A-Za-z0-9][A-Za-z0-9_-]{0,63}";
        /** Code names become folder names in the workspace. */
        @NotBlank private String codeNamePattern = "[A-Za-z0-9_][A-Za-z0-9._-]{0,63}";

        public int getMaxMessageBytes() { return maxMessageBytes; }
        public void setMaxMessageBytes(int v) { maxMessageBytes = v; }
        public int getMaxPrograms() { return maxPrograms; }
        public void setMaxPrograms(int v) { maxPrograms = v; }
        public int getMaxFilesPerProgram() { return maxFilesPerProgram; }
        public void setMaxFilesPerProgram(int v) { maxFilesPerProgram = v; }
        public long getMaxProgramBytes() { return maxProgramBytes; }
        public void setMaxProgramBytes(long v) { maxProgramBytes = v; }
        public String getRoomIdPattern() { return roomIdPattern; }
        public void setRoomIdPattern(String v) { roomIdPattern = v; }
        public String getCodeNamePattern() { return codeNamePattern; }
        public void setCodeNamePattern(String v) { codeNamePattern = v; }
        public int getMaxResultJsonBytes() { return maxResultJsonBytes; }
        public void setMaxResultJsonBytes(int v) { maxResultJsonBytes = v; }
        public int getMaxInstances() { return maxInstances; }
        public void setMaxInstances(int v) { maxInstances = v; }
        public int getMaxAttempts() { return maxAttempts; }
        public void setMaxAttempts(int v) { maxAttempts = v; }
    }

    /** Redelivery of retriable failures (storage, API, broker): exponential backoff with jitter, bounded. */
    public static class Retry {
        @Min(0) private int maxRedeliveries = 5;
        @Min(1) private long initialDelayMs = 500;
        @Min(1) private long maxDelayMs = 30_000;

        public int getMaxRedeliveries() { return maxRedeliveries; }
        public void setMaxRedeliveries(int v) { maxRedeliveries = v; }
        public long getInitialDelayMs() { return initialDelayMs; }
        public void setInitialDelayMs(long v) { initialDelayMs = v; }
        public long getMaxDelayMs() { return maxDelayMs; }
        public void setMaxDelayMs(long v) { maxDelayMs = v; }
    }

    /** How long the ledger keeps what: bounded by open work and the duplicate window, never by history. */
    public static class LedgerSettings {
        /**
         * A completed room's key stays on the ledger this long after its completion, so that the same
         * {@code room_id} sent again within it is rejected as a duplicate; afterwards it is tombstoned and
         * the room may be accepted again.
         */
        @NotNull private Duration duplicateWindow = Duration.ofDays(7);
        /** How often the scheduler tombstones the rooms outside the window (and leftovers of older versions). */
        @NotNull private Duration sweepInterval = Duration.ofMinutes(1);
        /**
         * Topic settings of the ledger, applied when the dispatcher creates it and set on an existing
         * ledger whose settings differ: they decide how soon compaction drops what tombstones delete.
         */
        @NotNull private Map<String, String> topicConfig = new LinkedHashMap<>();

        public Duration getDuplicateWindow() { return duplicateWindow; }
        public void setDuplicateWindow(Duration v) { duplicateWindow = v; }
        public Duration getSweepInterval() { return sweepInterval; }
        public void setSweepInterval(Duration v) { sweepInterval = v; }
        public Map<String, String> getTopicConfig() { return topicConfig; }
        public void setTopicConfig(Map<String, String> v) { topicConfig = v; }
    }

    public static class Health {
        /** Liveness fails when an assigned task partition has lag and no commit for this long. */
        @NotNull private Duration stallTimeout = Duration.ofMinutes(5);
        /** How often the intake's progress is checked (on its own thread; the probe reads the last verdict). */
        @NotNull private Duration checkInterval = Duration.ofSeconds(15);

        public Duration getCheckInterval() { return checkInterval; }
        public void setCheckInterval(Duration v) { checkInterval = v; }

        public Duration getStallTimeout() { return stallTimeout; }
        public void setStallTimeout(Duration v) { stallTimeout = v; }
    }

    public static class SchedulerSettings {
        /** Milliseconds between scheduling passes (launches and completions). */
        @Min(10) private long tick = 250;
        /**
         * The most game pods at once that have not ended (being created, pending or running), over all
         * tasks: the GPUs the dispatcher may use. When they are all taken nothing more is launched;
         * accepted work waits on the ledger. A pod that has ended (Succeeded, Failed) holds no GPU and
         * no slot while its artifacts are uploaded; pods that exist, ended ones included, are at most
         * twice this (back-pressure when finishing falls behind).
         */
        @Min(1) private int maxActivePods = 5;
        /** Launches (download, input, pod create) run in parallel on this many threads. */
        @Min(1) private int launchThreads = 8;
        /** Finished games (upload, record, release) are handled in parallel on this many threads. */
        @Min(1) private int finishThreads = 4;
        /**
         * The programs of this many tasks due next (of each GPU pool) are downloaded ahead, while no slot is
         * free yet, so that a freed slot gets its next pod without waiting for Blob Storage (0: no prefetching).
         */
        @Min(0) private int prefetchRooms = 4;

        public long getTick() { return tick; }
        public void setTick(long v) { tick = v; }
        public int getMaxActivePods() { return maxActivePods; }
        public void setMaxActivePods(int v) { maxActivePods = v; }
        public int getLaunchThreads() { return launchThreads; }
        public void setLaunchThreads(int v) { launchThreads = v; }
        public int getFinishThreads() { return finishThreads; }
        public void setFinishThreads(int v) { finishThreads = v; }
        public int getPrefetchRooms() { return prefetchRooms; }
        public void setPrefetchRooms(int v) { prefetchRooms = v; }
    }

    public static class Game {
        @NotBlank private String image;
        /** File run as each player's script when a program URL names a folder of files. */
        @NotBlank private String entryScript = "ml_play.py";
        /** The pool this game's tasks run in unless a task names its own ({@code data.pool}); blank: the default pool. */
        private String pool;

        public String getImage() { return image; }
        public void setImage(String v) { image = v; }
        public String getEntryScript() { return entryScript; }
        public void setEntryScript(String v) { entryScript = v; }
        public String getPool() { return pool; }
        public void setPool(String v) { pool = v; }
    }

    /** One GPU pool: the nodes of one GPU type, how many game pods they take, and how a pod lands there. */
    public static class Pool {
        /** Game pods of this pool alive at once; unset: {@code paia.scheduler.max-active-pods}. */
        @Min(1) private Integer maxActivePods;
        /** Added to the template's node selector (a key of both: the pool's value wins). */
        @NotNull private Map<String, String> nodeSelector = new LinkedHashMap<>();
        /** Added to the template's tolerations. */
        @Valid @NotNull private List<Toleration> tolerations = new ArrayList<>();

        public Integer getMaxActivePods() { return maxActivePods; }
        public void setMaxActivePods(Integer v) { maxActivePods = v; }
        public Map<String, String> getNodeSelector() { return nodeSelector; }
        public void setNodeSelector(Map<String, String> v) { nodeSelector = v; }
        public List<Toleration> getTolerations() { return tolerations; }
        public void setTolerations(List<Toleration> v) { tolerations = v; }
    }

    /**
     * Priority classes, highest first: a free slot of a pool goes to the best class waiting; a waiting
     * task climbs one class for every {@code ageing} since its acceptance, so none waits for ever.
     */
    public static class PrioritySettings {
        @NotEmpty private List<String> classes = new ArrayList<>(List.of("tournament", "ranked", "practice"));
        /** The class of a task without {@code data.priority}; unset: the lowest class. */
        private String defaultClass;
        /** A waiting task climbs one class per this much time since its acceptance. */
        @NotNull private Duration ageing = Duration.ofMinutes(5);
        /** Optional limits by class. */
        @Valid @NotNull private Map<String, ClassLimits> limits = new LinkedHashMap<>();

        public List<String> getClasses() { return classes; }
        public void setClasses(List<String> v) { classes = v; }
        /** Bound from {@code paia.priorities.default} ({@code default} is a Java keyword). */
        public String getDefault() { return defaultClass; }
        public void setDefault(String v) { defaultClass = v; }
        public Duration getAgeing() { return ageing; }
        public void setAgeing(Duration v) { ageing = v; }
        public Map<String, ClassLimits> getLimits() { return limits; }
        public void setLimits(Map<String, ClassLimits> v) { limits = v; }
    }

    /** What the pods of one priority class may take. */
    public static class ClassLimits {
        /** The most game pods of this class alive at once in each pool; unset: no limit but the pool's capacity. */
        @Min(1) private Integer maxActivePods;

        public Integer getMaxActivePods() { return maxActivePods; }
        public void setMaxActivePods(Integer v) { maxActivePods = v; }
    }

    /** A Kubernetes toleration, as in a pod spec. */
    public static class Toleration {
        private String key;
        @NotNull @Pattern(regexp = "Exists|Equal") private String operator = "Equal";
        private String value;
        /** Blank: every effect. */
        @Pattern(regexp = "|NoSchedule|PreferNoSchedule|NoExecute") private String effect;

        public String getKey() { return key; }
        public void setKey(String v) { key = v; }
        public String getOperator() { return operator; }
        public void setOperator(String v) { operator = v; }
        public String getValue() { return value; }
        public void setValue(String v) { value = v; }
        public String getEffect() { return effect; }
        public void setEffect(String v) { effect = v; }
    }

    public Kafka getKafka() { return kafka; }
    public void setKafka(Kafka v) { kafka = v; }
    public Storage getStorage() { return storage; }
    public void setStorage(Storage v) { storage = v; }
    public Kubernetes getKubernetes() { return kubernetes; }
    public void setKubernetes(Kubernetes v) { kubernetes = v; }
    public Limits getLimits() { return limits; }
    public void setLimits(Limits v) { limits = v; }
    public LedgerSettings getLedger() { return ledger; }
    public void setLedger(LedgerSettings v) { ledger = v; }

    public Health getHealth() { return health; }
    public void setHealth(Health v) { health = v; }
    public Retry getRetry() { return retry; }
    public void setRetry(Retry v) { retry = v; }
    public SchedulerSettings getScheduler() { return scheduler; }
    public void setScheduler(SchedulerSettings v) { scheduler = v; }
    public Path getWorkspace() { return workspace; }
    public void setWorkspace(Path v) { workspace = v; }
    public int getMaxAttempts() { return maxAttempts; }
    public void setMaxAttempts(int v) { maxAttempts = v; }
    public Map<String, Game> getGames() { return games; }
    public void setGames(Map<String, Game> v) { games = v; }
    public Map<String, Pool> getPools() { return pools; }
    public void setPools(Map<String, Pool> v) { pools = v; }
    public PrioritySettings getPriorities() { return priorities; }
    public void setPriorities(PrioritySettings v) { priorities = v; }
}
