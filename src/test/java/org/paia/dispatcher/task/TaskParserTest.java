package org.paia.dispatcher.task;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.paia.dispatcher.config.DispatcherProperties;
import org.paia.dispatcher.config.GpuPools;

class TaskParserTest {

    private static final String ACCOUNT = "https://paiastage.blob.core.windows.net";
    private final TaskParser parser = parser(new DispatcherProperties.Limits());

    private static TaskParser parser(DispatcherProperties.Limits limits) {
        return new TaskParser(new ObjectMapper(), limits, Set.of("kart_3d"), ACCOUNT);
    }

    /** The web service's message exactly as in SPEC §2 / seed 000. */
    private static String seed() throws Exception {
        return Files.readString(Path.of("examples/kart_3d.json"))
                .replace("http://127.0.0.1:10000/devstoreaccount1", ACCOUNT);
    }

    private GameTask parse(String json) {
        return parser.parse(json.getBytes(StandardCharsets.UTF_8));
    }

    private void assertRejected(String json, String reason) {
        assertThatThrownBy(() -> parse(json)).isInstanceOf(TaskRejectedException.class).hasMessageContaining(reason);
    }

    @Test
    void parsesTheSeedMessageExactly() throws Exception {
        GameTask task = parse(seed());

        assertThat(task.roomId()).isEqualTo("8f8ef481-911b-432a-aacd-670be3b8f288");
        assertThat(task.gameId()).isEqualTo(7);
        assertThat(task.gameName()).isEqualTo("kart_3d");
        assertThat(task.instances()).isEqualTo(1);
        assertThat(task.programs()).singleElement().satisfies(p -> {
            assertThat(p.codeName()).isEqualTo("kart3d_ppo_test");
            assertThat(p.container()).isEqualTo("user-102");
            assertThat(p.blobPath()).isEqualTo("kart_3d/code-855");
        });
        assertThat(task.wsUri()).startsWith("ws://webservice-websocket-service");
        assertThat(task.data().path("game_param").path("pickup_map").asText()).isEqualTo("1");
    }

    @Test
    void keepsUnknownFieldsForTheGame() throws Exception {
        GameTask task = parse(seed().replace("\"category\": \"3D\"", "\"category\": \"3D\", \"new_field\": {\"x\": 1}"));

        assertThat(task.data().path("new_field").path("x").asInt()).isEqualTo(1);
    }

    @Test
    void acceptsAzuriteStylePathAccounts() throws Exception {
        TaskParser azurite = new TaskParser(new ObjectMapper(), new DispatcherProperties.Limits(), Set.of("kart_3d"),
                "http://127.0.0.1:10000/devstoreaccount1");
        GameTask task = azurite.parse(Files.readAllBytes(Path.of("examples/kart_3d.json")));

        assertThat(task.programs().get(0).container()).isEqualTo("user-102");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "another host|https://evil.example.com/user-102/kart_3d/code-855|outside the storage account",
        "another account|https://other.blob.core.windows.net/user-102/kart_3d/code-855|outside the storage account",
        "http instead of https|http://paiastage.blob.core.windows.net/user-102/x|outside the storage account",
        "other port|https://paiastage.blob.core.windows.net:444/user-102/x|outside the storage account",
        "dot-dot segment|https://paiastage.blob.core.windows.net/user-102/../secrets/x|'.' or '..'",
        "encoded slash|https://paiastage.blob.core.windows.net/user-102/a%2F..%2Fb|encoded path separator",
        "query string|https://paiastage.blob.core.windows.net/user-102/x?sv=1&sig=2|query",
        "user info|https://me@paiastage.blob.core.windows.net/user-102/x|user info",
        "container only|https://paiastage.blob.core.windows.net/user-102|container and a blob",
        "bad container|https://paiastage.blob.core.windows.net/User_102/x|invalid container",
        "not a uri|https://paiastage.blob.core.windows.net/a b|not a URI",
    })
    void rejectsProgramUrlsOutsideTheAccount(String what, String url, String reason) throws Exception {
        assertRejected(seed().replace(ACCOUNT + "/user-102/kart_3d/code-855", url), reason);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "traversal|../../etc",
        "absolute|/etc/passwd",
        "dots only|..",
        "slash|a/b",
        "empty|''",
    })
    void rejectsCodeNamesThatWouldEscapeTheWorkspace(String what, String codeName) throws Exception {
        String json = seed().replace("\"kart3d_ppo_test\"", new ObjectMapper().writeValueAsString(codeName));
        assertThatThrownBy(() -> parse(json)).isInstanceOf(TaskRejectedException.class)
                .hasMessageContaining("code_name");
    }

    @Test
    void rejectsMalformedAndMistypedMessagesSayingWhere() throws Exception {
        assertRejected("{\"type\": \"game_cmd\", \"data\": {", "malformed JSON at line 1");
        assertRejected("[1,2]", "not a JSON object");
        assertRejected("{\"type\": \"other\", \"data\": {}}", "'type' must be \"game_cmd\"");
        assertRejected("{\"type\": \"game_cmd\"}", "'data' must be an object");
        assertRejected(seed().replace("\"game_id\": 7", "\"game_id\": \"7\""), "'data.game_id' must be an integer");
        assertRejected(seed().replace("\"game_name\": \"kart_3d\"", "\"game_name\": \"chess\""), "unknown game");
        assertRejected(seed().replace("\"plug_in_data\": []", "\"plug_in_data\": {}"), "'data.plug_in_data' must be an array");
        assertRejected(seed().replace("\"game_param\": {", "\"game_param\": [{").replace("\"user_num\": 1}", "\"user_num\": 1}]"),
                "'data.game_param' must be an object");
        assertRejected(seed().replace("\"room_id\": \"8f8ef481-911b-432a-aacd-670be3b8f288\"", "\"room_id\": \"../x\""),
                "'data.room_id' must match");
        assertRejected(seed().replace("\"ws_uri\": \"ws://", "\"ws_uri\": \"http://"), "'data.ws_uri'");
        assertRejected(seed().replace(", \"code_name\": \"kart3d_ppo_test\"", ""), "'data.programs[0].code_name' is missing");
        assertRejected(seed().replaceAll("\"programs\": \\[.*?\\]", "\"programs\": []"), "non-empty array");
    }

    @Test
    void rejectsDuplicateCodeNamesAndTooManyPrograms() throws Exception {
        String program = "{\"url\": \"" + ACCOUNT + "/user-102/kart_3d/code-855\", \"code_name\": \"p\"}";
        assertRejected(seed().replaceAll("\"programs\": \\[.*?\\]", "\"programs\": [" + program + "," + program + "]"),
                "used twice");
        DispatcherProperties.Limits limits = new DispatcherProperties.Limits();
        limits.setMaxPrograms(1);
        String two = program + "," + program.replace("\"p\"", "\"q\"");
        assertThatThrownBy(() -> parser(limits).parse(seed().replaceAll("\"programs\": \\[.*?\\]",
                "\"programs\": [" + two + "]").getBytes(StandardCharsets.UTF_8)))
                .hasMessageContaining("paia.limits.max-programs=1");
    }

    @Test
    void rejectsOversizedNonUtf8AndNulBytes() throws Exception {
        DispatcherProperties.Limits limits = new DispatcherProperties.Limits();
        limits.setMaxMessageBytes(100);
        assertThatThrownBy(() -> parser(limits).parse(seed().getBytes(StandardCharsets.UTF_8)))
                .hasMessageContaining("exceeds paia.limits.max-message-bytes=100");
        assertThatThrownBy(() -> parser.parse(new byte[] {'{', (byte) 0xC3, (byte) 0x28, '}'}))
                .hasMessageContaining("not valid UTF-8");
        assertRejected(seed().replace("kart_3d\"", "kart_3d\u0000\""), "NUL");
        assertThatThrownBy(() -> parser.parse(new byte[0])).hasMessageContaining("empty message");
    }

    @Test
    void rejectionsCarryTheRoomIdWhenItWasReadable() throws Exception {
        assertThatThrownBy(() -> parse(seed().replace("\"game_name\": \"kart_3d\"", "\"game_name\": \"x\"")))
                .isInstanceOfSatisfying(TaskRejectedException.class,
                        e -> assertThat(e.roomId()).isEqualTo("8f8ef481-911b-432a-aacd-670be3b8f288"));
    }

    private static String batch(String fields) throws Exception {
        return seed().replace("\"category\": \"3D\"", "\"category\": \"3D\", " + fields);
    }

    @Test
    void batchFieldsDefaultToOneInstanceAllInParallelAndTheConfiguredAttempts() throws Exception {
        GameTask single = parse(seed());
        assertThat(single.instances()).isEqualTo(1);
        assertThat(single.parallelism()).isEqualTo(1);
        assertThat(single.attemptsAllowed(3)).isEqualTo(3);
        GameTask batch = parse(batch("\"instances\": 500"));
        assertThat(batch.instances()).isEqualTo(500);
        assertThat(batch.parallelism()).isEqualTo(500);
    }

    @Test
    void batchFieldsAreReadAndParallelismNeverExceedsTheInstances() throws Exception {
        GameTask task = parse(batch("\"instances\": 1000, \"parallelism\": 50, \"max_attempts\": 2"));
        assertThat(task.instances()).isEqualTo(1000);
        assertThat(task.parallelism()).isEqualTo(50);
        assertThat(task.attemptsAllowed(3)).isEqualTo(2);
        assertThat(parse(batch("\"instances\": 4, \"parallelism\": 10")).parallelism()).isEqualTo(4);
        assertThat(parse(batch("\"instances\": null")).instances()).isEqualTo(1);
    }

    @Test
    void theBatchExampleIsValid() throws Exception {
        TaskParser azurite = new TaskParser(new ObjectMapper(), new DispatcherProperties.Limits(), Set.of("kart_3d"),
                "http://127.0.0.1:10000/devstoreaccount1");
        GameTask task = azurite.parse(Files.readAllBytes(Path.of("examples/batch.json")));
        assertThat(task.instances()).isEqualTo(20);
        assertThat(task.parallelism()).isEqualTo(4);
    }

    @Test
    void badBatchFieldsAreRejectedWithTheFieldAndTheLimit() throws Exception {
        assertRejected(batch("\"instances\": 0"), "'data.instances' must be an integer of at least 1");
        assertRejected(batch("\"instances\": -5"), "'data.instances' must be an integer of at least 1");
        assertRejected(batch("\"instances\": 2.5"), "'data.instances' must be an integer");
        assertRejected(batch("\"instances\": \"10\""), "'data.instances' must be an integer");
        assertRejected(batch("\"instances\": 99999999999"), "'data.instances' must be an integer");
        assertRejected(batch("\"instances\": 10001"), "over paia.limits.max-instances=10000");
        assertRejected(batch("\"parallelism\": 0"), "'data.parallelism' must be an integer of at least 1");
        assertRejected(batch("\"max_attempts\": 0"), "'data.max_attempts' must be an integer of at least 1");
        assertRejected(batch("\"max_attempts\": 11"), "over paia.limits.max-attempts=10");
    }

    @Test
    void namePatternsAreConfigurableButNeverAdmitAPath() throws Exception {
        DispatcherProperties.Limits strict = new DispatcherProperties.Limits();
        strict.setRoomIdPattern("[0-9a-f-]{36}");
        assertThatThrownBy(() -> parser(strict).parse(seed().replace("8f8ef481-911b-432a-aacd-670be3b8f288", "room-1")
                .getBytes(StandardCharsets.UTF_8))).hasMessageContaining("must match [0-9a-f-]{36}");

        DispatcherProperties.Limits unsafe = new DispatcherProperties.Limits();
        unsafe.setCodeNamePattern(".*");
        assertThatThrownBy(() -> parser(unsafe)).hasMessageContaining("paia.limits.code-name-pattern must not match");
        DispatcherProperties.Limits broken = new DispatcherProperties.Limits();
        broken.setRoomIdPattern("[a-z");
        assertThatThrownBy(() -> parser(broken)).hasMessageContaining("paia.limits.room-id-pattern is not a valid");
    }

    /** Pools default and a10; kart_3d runs in a10 unless a task says otherwise, pong (no pool of its own) in default. */
    private static TaskParser pooledParser() {
        DispatcherProperties properties = new DispatcherProperties();
        DispatcherProperties.Game kart = new DispatcherProperties.Game();
        kart.setImage("paiaarena/paiagym:latest");
        kart.setPool("a10");
        DispatcherProperties.Game pong = new DispatcherProperties.Game();
        pong.setImage("paiaarena/paiagym:latest");
        properties.setGames(new java.util.LinkedHashMap<>(java.util.Map.of("kart_3d", kart, "pong", pong)));
        properties.setPools(new java.util.LinkedHashMap<>(java.util.Map.of("default", new DispatcherProperties.Pool(),
                "a10", new DispatcherProperties.Pool())));
        return new TaskParser(new ObjectMapper(), new DispatcherProperties.Limits(), properties.getGames().keySet(),
                GpuPools.of(properties), ACCOUNT);
    }

    private static GameTask parseWith(TaskParser parser, String json) {
        return parser.parse(json.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void aTaskRunsInItsOwnPoolElseItsGamesElseTheDefaultOne() throws Exception {
        assertThat(parse(seed()).pool()).as("no pools configured: the one pool").isEqualTo("default");

        TaskParser pooled = pooledParser();
        assertThat(parseWith(pooled, seed()).pool()).as("kart_3d's pool").isEqualTo("a10");
        assertThat(parseWith(pooled, batch("\"pool\": \"default\"")).pool()).as("data.pool").isEqualTo("default");
        assertThat(parseWith(pooled, seed().replace("\"game_name\": \"kart_3d\"", "\"game_name\": \"pong\"")).pool())
                .as("a game without a pool").isEqualTo("default");
        assertThat(parseWith(pooled, batch("\"pool\": null")).pool()).as("null: as if absent").isEqualTo("a10");
    }

    @Test
    void aTaskForAPoolThatIsNotConfiguredIsRejectedNamingThePool() throws Exception {
        assertThatThrownBy(() -> parseWith(pooledParser(), batch("\"pool\": \"h100\"")))
                .isInstanceOf(TaskRejectedException.class)
                .hasMessage("unknown pool 'data.pool'=\"h100\" is not configured (configured: [a10, default])");
        assertRejected(batch("\"pool\": \"a10\""), "unknown pool 'data.pool'=\"a10\" is not configured (configured: [default])");
        assertRejected(batch("\"pool\": 7"), "field 'data.pool' must be a string matching");
        assertRejected(batch("\"pool\": \"A10\""), "field 'data.pool' must be a string matching");
        assertRejected(batch("\"pool\": \"../x\""), "field 'data.pool' must be a string matching");
        assertRejected(batch("\"pool\": \"" + "a".repeat(64) + "\""), "field 'data.pool' must be a string matching");
    }

    @Test
    void aTasksPriorityIsItsDataPriorityElseTheDefaultClass() throws Exception {
        assertThat(parse(batch("\"priority\": \"tournament\"")).priority()).isEqualTo("tournament");
        assertThat(parse(batch("\"priority\": \"ranked\"")).priority()).isEqualTo("ranked");
        assertThat(parse(seed()).priority()).as("none: paia.priorities.default").isEqualTo("practice");
        assertThat(parse(batch("\"priority\": null")).priority()).as("null: as if absent").isEqualTo("practice");

        DispatcherProperties.PrioritySettings settings = new DispatcherProperties.PrioritySettings();
        settings.setDefault("ranked");
        TaskParser rankedByDefault = new TaskParser(new ObjectMapper(), new DispatcherProperties.Limits(),
                Set.of("kart_3d"), GpuPools.single(1), org.paia.dispatcher.config.Priorities.of(settings), ACCOUNT);
        assertThat(parseWith(rankedByDefault, seed()).priority()).isEqualTo("ranked");
        assertThat(parse(batch("\"priority\": \"tournament\"")).data().path("priority").asText())
                .as("the field stays in data, for the game").isEqualTo("tournament");
    }

    @Test
    void aPriorityThatIsNotConfiguredIsRejectedNamingItAndTheConfiguredClasses() throws Exception {
        assertThatThrownBy(() -> parse(batch("\"priority\": \"vip\"")))
                .isInstanceOf(TaskRejectedException.class)
                .hasMessage("unknown priority 'data.priority'=\"vip\" is not configured "
                        + "(configured: [tournament, ranked, practice])");
        assertRejected(batch("\"priority\": \"Tournament\""), "unknown priority 'data.priority'=\"Tournament\"");
        assertRejected(batch("\"priority\": 1"),
                "field 'data.priority' must be a string naming a priority class (configured: [tournament, ranked, practice])");
        assertRejected(batch("\"priority\": [\"tournament\"]"), "field 'data.priority' must be a string");
    }
}
