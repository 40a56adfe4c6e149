package org.paia.dispatcher.task;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import org.paia.dispatcher.config.DispatcherProperties;
import org.paia.dispatcher.config.GpuPools;
import org.paia.dispatcher.config.Priorities;

/**
 * Turns the raw bytes of a task message into a {@link GameTask}, or says exactly what is wrong with
 * it. Pure: no I/O, so every rule is unit-tested on its own.
 */
public class TaskParser {

    static final Pattern CONTAINER = Pattern.compile("[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}");
    /** A task's JSON nests at most this deep (the ledger wraps it in two more levels). */
    static final int MAX_NESTING = 64;
    /** The longest {@code data.reason} of a {@code cancel_cmd}. */
    public static final int MAX_CANCEL_REASON = 500;

    private final ObjectMapper mapper;
    private final DispatcherProperties.Limits limits;
    private final Set<String> games;
    private final GpuPools pools;
    private final Priorities priorities;
    private final URI account;
    /** Room ids become pod names, labels and workspace folders (paia.limits.room-id-pattern). */
    private final Pattern roomIdPattern;
    /** Code names become workspace folders (paia.limits.code-name-pattern). */
    private final Pattern codeNamePattern;

    /** A parser for a configuration with one pool, {@code default} (no {@code paia.pools}). */
    public TaskParser(ObjectMapper mapper, DispatcherProperties.Limits limits, Set<String> games, String accountUrl) {
        this(mapper, limits, games, GpuPools.single(1), accountUrl);
    }

    /** A parser with the default priority classes ({@link Priorities#defaults()}). */
    public TaskParser(ObjectMapper mapper, DispatcherProperties.Limits limits, Set<String> games, GpuPools pools,
                      String accountUrl) {
        this(mapper, limits, games, pools, Priorities.defaults(), accountUrl);
    }

    public TaskParser(ObjectMapper mapper, DispatcherProperties.Limits limits, Set<String> games, GpuPools pools,
                      Priorities priorities, String accountUrl) {
        this.pools = pools;
        this.priorities = priorities;
        this.mapper = mapper.copy();
        this.mapper.getFactory().setStreamReadConstraints(
                StreamReadConstraints.builder().maxNestingDepth(MAX_NESTING).build());
        this.limits = limits;
        this.games = Set.copyOf(games);
        this.account = URI.create(accountUrl.endsWith("/") ? accountUrl.substring(0, accountUrl.length() - 1) : accountUrl);
        this.roomIdPattern = safeNamePattern("paia.limits.room-id-pattern", limits.getRoomIdPattern());
        this.codeNamePattern = safeNamePattern("paia.limits.code-name-pattern", limits.getCodeNamePattern());
    }

    /** A configured name pattern may be stricter or looser, but never admit a path. */
    private static Pattern safeNamePattern(String property, String regex) {
        Pattern pattern;
        try {
            pattern = Pattern.compile(regex);
        } catch (java.util.regex.PatternSyntaxException e) {
            throw new IllegalArgumentException(property + " is not a valid regular expression: " + e.getDescription());
        }
        for (String unsafe : new String[] {"", ".", "..", "a/b", "../a", "/a", "a\\b"}) {
            if (pattern.matcher(unsafe).matches()) {
                throw new IllegalArgumentException(property + " must not match \"" + unsafe + "\" (names become folders)");
            }
        }
        return pattern;
    }

    /**
     * Parses and validates the raw bytes of a task message in one go (what the intake route does in its
     * steps: {@link #checkMessage}, unmarshal with {@link #jsonMapper()}, {@link #validate}).
     */
    public GameTask parse(byte[] raw) {
        checkMessage(raw);
        JsonNode root;
        try {
            root = mapper.readTree(raw);
        } catch (java.io.IOException e) {
            throw malformed(e);
        }
        return validate(root);
    }

    /**
     * The checks on the bytes themselves, before any JSON parser sees them: not empty, within
     * {@code paia.limits.max-message-bytes}, strict UTF-8, no NUL character.
     */
    public void checkMessage(byte[] raw) {
        if (raw == null || raw.length == 0) {
            throw new TaskRejectedException("empty message", null);
        }
        if (raw.length > limits.getMaxMessageBytes()) {
            throw new TaskRejectedException("message of " + raw.length + " bytes exceeds paia.limits.max-message-bytes="
                    + limits.getMaxMessageBytes(), null);
        }
        String text = strictUtf8(raw);
        if (text.indexOf('\u0000') >= 0) {
            throw new TaskRejectedException("message contains a NUL character", null);
        }
    }

    /**
     * The mapper task messages are read with: the application's, with nesting limited to 64 levels, so
     * that a hostile message cannot exhaust the stack.
     */
    public ObjectMapper jsonMapper() {
        return mapper;
    }

    /** The storage account every program URL must be in. */
    public String accountUrl() {
        return account.toString();
    }

    /** A JSON parser's failure as the rejection the sender gets: where, and what. */
    public static TaskRejectedException malformed(Throwable failure) {
        if (failure instanceof JsonProcessingException e) {
            String where = e.getLocation() == null ? ""
                    : " at line " + e.getLocation().getLineNr() + " column " + e.getLocation().getColumnNr();
            return new TaskRejectedException("malformed JSON" + where + ": " + e.getOriginalMessage(), null);
        }
        return new TaskRejectedException("malformed JSON: " + failure.getMessage(), null);
    }

    /** Validates a parsed task message: the envelope ({@code type}, {@code data}), then {@link #parseData}. */
    public GameTask validate(JsonNode root) {
        if (root == null || !root.isObject()) {
            throw new TaskRejectedException("message is not a JSON object", null);
        }
        if (deeperThan(root, MAX_NESTING)) {
            throw new TaskRejectedException("message nests deeper than " + MAX_NESTING + " levels", null);
        }
        JsonNode type = root.get("type");
        if (type == null || !type.isTextual() || !"game_cmd".equals(type.asText())) {
            throw new TaskRejectedException("field 'type' must be \"game_cmd\" or \"cancel_cmd\"", null);
        }
        JsonNode dataNode = root.get("data");
        if (dataNode == null || !dataNode.isObject()) {
            throw new TaskRejectedException("field 'data' must be an object", null);
        }
        return parseData((ObjectNode) dataNode);
    }

    /** Whether a parsed message is a {@code cancel_cmd} (the intake then validates it with {@link #validateCancel}). */
    public boolean isCancel(JsonNode root) {
        return root != null && root.isObject() && root.path("type").isTextual()
                && "cancel_cmd".equals(root.path("type").asText());
    }

    /**
     * Validates a {@code cancel_cmd}: {@code data.room_id} as a task's, {@code data.reason} optional, a string of
     * at most {@link #MAX_CANCEL_REASON} characters. Other fields of {@code data} are ignored.
     */
    public CancelCommand validateCancel(JsonNode root) {
        if (deeperThan(root, MAX_NESTING)) {
            throw new TaskRejectedException("message nests deeper than " + MAX_NESTING + " levels", null);
        }
        JsonNode dataNode = root.get("data");
        if (dataNode == null || !dataNode.isObject()) {
            throw new TaskRejectedException("field 'data' of a cancel_cmd must be an object", null);
        }
        ObjectNode data = (ObjectNode) dataNode;
        String roomId = text(data, "room_id", null);
        if (!roomIdPattern.matcher(roomId).matches()) {
            throw new TaskRejectedException("field 'data.room_id' must match " + roomIdPattern.pattern(), null);
        }
        JsonNode reason = data.get("reason");
        if (reason == null || reason.isNull()) {
            return new CancelCommand(roomId, null);
        }
        if (!reason.isTextual()) {
            throw new TaskRejectedException("field 'data.reason' of a cancel_cmd must be a string", roomId);
        }
        if (reason.asText().length() > MAX_CANCEL_REASON) {
            throw new TaskRejectedException("field 'data.reason' of a cancel_cmd is longer than " + MAX_CANCEL_REASON
                    + " characters", roomId);
        }
        return new CancelCommand(roomId, reason.asText().replaceAll("\\p{Cntrl}", " "));
    }

    /** Whether {@code node} nests deeper than {@code max} levels (without recursion: the depth is the question). */
    static boolean deeperThan(JsonNode node, int max) {
        java.util.ArrayDeque<java.util.Map.Entry<JsonNode, Integer>> todo = new java.util.ArrayDeque<>();
        todo.push(java.util.Map.entry(node, 1));
        while (!todo.isEmpty()) {
            var next = todo.pop();
            if (next.getValue() > max) {
                return true;
            }
            if (next.getKey().isContainerNode()) {
                next.getKey().forEach(child -> todo.push(java.util.Map.entry(child, next.getValue() + 1)));
            }
        }
        return false;
    }

    /** Validates a task's {@code data} object (as received, or as recorded on the ledger). */
    public GameTask parseData(ObjectNode data) {
        String roomId = text(data, "room_id", null);
        if (!roomIdPattern.matcher(roomId).matches()) {
            throw new TaskRejectedException("field 'data.room_id' must match " + roomIdPattern.pattern(), null);
        }
        JsonNode gameId = data.get("game_id");
        if (gameId == null || !gameId.canConvertToLong() || !gameId.isIntegralNumber()) {
            throw new TaskRejectedException("field 'data.game_id' must be an integer", roomId);
        }
        String gameName = text(data, "game_name", roomId);
        if (!games.contains(gameName)) {
            throw new TaskRejectedException("unknown game 'data.game_name'=" + printable(gameName)
                    + " (configured: " + games.stream().sorted().toList() + ")", roomId);
        }
        optional(data, "game_param", JsonNode::isObject, "an object", roomId);
        optional(data, "plug_in_data", JsonNode::isArray, "an array", roomId);
        optional(data, "category", JsonNode::isTextual, "a string", roomId);
        String wsUri = text(data, "ws_uri", roomId);
        if (!(wsUri.startsWith("ws://") || wsUri.startsWith("wss://"))) {
            throw new TaskRejectedException("field 'data.ws_uri' must be a ws:// or wss:// URI", roomId);
        }
        int instances = count(data, "instances", 1, limits.getMaxInstances(), "paia.limits.max-instances", 1, roomId);
        int parallelism = Math.min(instances,
                count(data, "parallelism", 1, Integer.MAX_VALUE, null, instances, roomId));
        int maxAttempts = count(data, "max_attempts", 1, limits.getMaxAttempts(), "paia.limits.max-attempts", 0, roomId);
        String pool = pool(data, gameName, roomId);
        String priority = priority(data, roomId);
        return new GameTask(roomId, gameId.asLong(), gameName, programs(data, roomId), instances, parallelism,
                maxAttempts, pool, priority, data);
    }

    /** The priority classes tasks are validated against, and the scheduler orders them by. */
    public Priorities priorities() {
        return priorities;
    }

    /**
     * The task's priority class: {@code data.priority} when given, else {@code paia.priorities.default}. A
     * class that is not configured is rejected. A task accepted before priorities existed has none, so a
     * rebuild from the ledger gives it the default class.
     */
    private String priority(ObjectNode data, String roomId) {
        JsonNode node = data.get("priority");
        if (node == null || node.isNull()) {
            return priorities.defaultClass();
        }
        if (!node.isTextual()) {
            throw new TaskRejectedException("field 'data.priority' must be a string naming a priority class (configured: "
                    + priorities.classes() + ")", roomId);
        }
        if (!priorities.isConfigured(node.asText())) {
            throw new TaskRejectedException("unknown priority 'data.priority'=" + printable(node.asText())
                    + " is not configured (configured: " + priorities.classes() + ")", roomId);
        }
        return node.asText();
    }

    /**
     * The GPU pool the task runs in: {@code data.pool} when given, else the game's pool
     * ({@code paia.games.<game>.pool}), else the default one. A pool that is not configured is rejected.
     */
    private String pool(ObjectNode data, String gameName, String roomId) {
        JsonNode node = data.get("pool");
        if (node == null || node.isNull()) {
            String pool = pools.poolOfGame(gameName);
            if (pool == null) {
                throw new TaskRejectedException("no pool for game '" + gameName + "': set 'data.pool' (configured: "
                        + pools.names() + ")", roomId);
            }
            return pool;
        }
        if (!node.isTextual() || !GpuPools.NAME.matcher(node.asText()).matches()) {
            throw new TaskRejectedException("field 'data.pool' must be a string matching " + GpuPools.NAME.pattern(),
                    roomId);
        }
        String pool = node.asText();
        if (pools.pool(pool).isEmpty()) {
            throw new TaskRejectedException("unknown pool 'data.pool'=" + printable(pool) + " is not configured"
                    + " (configured: " + pools.names() + ")", roomId);
        }
        return pool;
    }

    /** An optional positive integer field of {@code data}, at most {@code max}; {@code absent} when missing or null. */
    private static int count(ObjectNode data, String field, int min, int max, String limitProperty, int absent,
                             String roomId) {
        JsonNode node = data.get(field);
        if (node == null || node.isNull()) {
            return absent;
        }
        if (!node.isIntegralNumber() || !node.canConvertToInt() || node.asInt() < min) {
            throw new TaskRejectedException("field 'data." + field + "' must be an integer of at least " + min, roomId);
        }
        if (node.asInt() > max) {
            throw new TaskRejectedException("field 'data." + field + "' is " + node.asInt() + ", over "
                    + limitProperty + "=" + max, roomId);
        }
        return node.asInt();
    }

    private List<Program> programs(ObjectNode data, String roomId) {
        JsonNode node = data.get("programs");
        if (node == null || !node.isArray() || node.isEmpty()) {
            throw new TaskRejectedException("field 'data.programs' must be a non-empty array", roomId);
        }
        ArrayNode array = (ArrayNode) node;
        if (array.size() > limits.getMaxPrograms()) {
            throw new TaskRejectedException("field 'data.programs' has " + array.size()
                    + " entries, more than paia.limits.max-programs=" + limits.getMaxPrograms(), roomId);
        }
        List<Program> programs = new ArrayList<>(array.size());
        Set<String> names = new HashSet<>();
        for (int i = 0; i < array.size(); i++) {
            String where = "data.programs[" + i + "]";
            JsonNode entry = array.get(i);
            if (!entry.isObject()) {
                throw new TaskRejectedException("field '" + where + "' must be an object", roomId);
            }
            String codeName = text((ObjectNode) entry, "code_name", roomId, where);
            if (!codeNamePattern.matcher(codeName).matches() || codeName.chars().allMatch(c -> c == '.')) {
                throw new TaskRejectedException("field '" + where + ".code_name'=" + printable(codeName)
                        + " must match " + codeNamePattern.pattern(), roomId);
            }
            if (!names.add(codeName)) {
                throw new TaskRejectedException("field '" + where + ".code_name'=" + codeName + " is used twice", roomId);
            }
            String url = text((ObjectNode) entry, "url", roomId, where);
            programs.add(program(url, codeName, where, roomId));
        }
        return List.copyOf(programs);
    }

    /** Accepts only URLs inside the configured account: same scheme, host, port and account path. */
    private Program program(String url, String codeName, String where, String roomId) {
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            throw new TaskRejectedException("field '" + where + ".url' is not a URI", roomId);
        }
        if (uri.getRawQuery() != null || uri.getRawFragment() != null || uri.getRawUserInfo() != null) {
            throw new TaskRejectedException("field '" + where + ".url' must not carry a query, fragment or user info", roomId);
        }
        boolean sameAccount = account.getScheme().equalsIgnoreCase(String.valueOf(uri.getScheme()))
                && account.getHost() != null && account.getHost().equalsIgnoreCase(String.valueOf(uri.getHost()))
                && account.getPort() == uri.getPort();
        String accountPath = account.getRawPath() == null ? "" : account.getRawPath();
        String rawPath = uri.getRawPath() == null ? "" : uri.getRawPath();
        if (!sameAccount || !rawPath.startsWith(accountPath + "/")) {
            throw new TaskRejectedException("field '" + where + ".url' is outside the storage account " + account, roomId);
        }
        if (rawPath.contains("%2F") || rawPath.contains("%2f") || rawPath.contains("%5C") || rawPath.contains("%5c")
                || rawPath.contains("\\")) {
            throw new TaskRejectedException("field '" + where + ".url' contains an encoded path separator", roomId);
        }
        String path = uri.getPath().substring(account.getPath() == null ? 0 : account.getPath().length() + 1);
        String[] segments = path.split("/", -1);
        if (segments.length < 2) {
            throw new TaskRejectedException("field '" + where + ".url' must name a container and a blob", roomId);
        }
        for (int s = 1; s < segments.length; s++) {
            String seg = segments[s];
            boolean trailingSlash = s == segments.length - 1 && seg.isEmpty() && segments.length > 2;
            if (!trailingSlash && (seg.isEmpty() || seg.equals(".") || seg.equals("..") || seg.indexOf('\u0000') >= 0)) {
                throw new TaskRejectedException("field '" + where + ".url' has an empty, '.' or '..' path segment", roomId);
            }
        }
        if (!CONTAINER.matcher(segments[0]).matches()) {
            throw new TaskRejectedException("field '" + where + ".url' names an invalid container", roomId);
        }
        String blobPath = path.substring(segments[0].length() + 1);
        if (blobPath.endsWith("/")) {
            blobPath = blobPath.substring(0, blobPath.length() - 1);
        }
        return new Program(url, codeName, segments[0], blobPath);
    }

    private static String strictUtf8(byte[] raw) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(raw)).toString();
        } catch (CharacterCodingException e) {
            throw new TaskRejectedException("message is not valid UTF-8", null);
        }
    }

    private static String text(ObjectNode node, String field, String roomId) {
        return text(node, field, roomId, "data");
    }

    private static String text(ObjectNode node, String field, String roomId, String where) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            throw new TaskRejectedException("field '" + where + "." + field + "' is missing", roomId);
        }
        if (!value.isTextual() || value.asText().isBlank()) {
            throw new TaskRejectedException("field '" + where + "." + field + "' must be a non-empty string", roomId);
        }
        return value.asText();
    }

    private static void optional(ObjectNode data, String field, java.util.function.Predicate<JsonNode> ok,
                                 String what, String roomId) {
        JsonNode value = data.get(field);
        if (value != null && !value.isNull() && !ok.test(value)) {
            throw new TaskRejectedException("field 'data." + field + "' must be " + what, roomId);
        }
    }

    /** Echoes user text in an error without letting it flood or forge log lines. */
    static String printable(String s) {
        String cut = s.length() > 64 ? s.substring(0, 64) + "…" : s;
        return "\"" + cut.replaceAll("[\\p{Cntrl}]", "?") + "\"";
    }
}
