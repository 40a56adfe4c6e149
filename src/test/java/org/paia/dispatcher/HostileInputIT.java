package org.paia.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.paia.dispatcher.support.DispatcherIT;

/**
 * SPEC §3: bad input never blocks a partition and is never lost. A corpus of hostile tasks mixed
 * with valid ones: every hostile one gets a REJECTED result and a dead-letter copy of its original
 * bytes with the reason; every valid one still succeeds.
 */
class HostileInputIT extends DispatcherIT {

    private String valid(String room) throws Exception {
        uploadProgram("user-102", "kart_3d/code-" + room, "class MLPlay: pass\n");
        return seedTask(room, "user-102/kart_3d/code-" + room, "kart3d_ppo_test");
    }

    /** The seed task for a room, with one substring replaced: the smallest change that makes it hostile. */
    private String variant(String room, String from, String to) throws Exception {
        String task = seedTask(room, "user-102/kart_3d/code-855", "player");
        assertThat(task).as("corpus entry must change the task").contains(from);
        return task.replace(from, to);
    }

    private Map<String, byte[]> corpus() throws Exception {
        String account = properties.getStorage().getAccountUrl();
        Map<String, byte[]> corpus = new LinkedHashMap<>();
        java.util.function.BiConsumer<String, String> add = (key, text) -> corpus.put(key, text.getBytes(StandardCharsets.UTF_8));
        String k;
        add.accept("truncated-json-" + id(), "{\"type\": \"game_cmd\", \"data\": {\"room_id\": ");
        add.accept("plain-text-" + id(), "start the game please");
        add.accept("json-array-" + id(), "[{\"type\": \"game_cmd\"}]");
        add.accept("json-null-" + id(), "null");
        add.accept("json-number-" + id(), "42");
        add.accept("wrong-type-" + id(), "{\"type\": \"chat\", \"data\": {}}");
        add.accept("no-data-" + id(), "{\"type\": \"game_cmd\"}");
        add.accept("data-string-" + id(), "{\"type\": \"game_cmd\", \"data\": \"kart\"}");
        k = "no-room-" + id();
        add.accept(k, variant(k, "\"room_id\": \"" + k + "\",", ""));
        k = "room-number-" + id();
        add.accept(k, variant(k, "\"room_id\": \"" + k + "\"", "\"room_id\": 12345"));
        k = "room-traversal-" + id();
        add.accept(k, variant(k, "\"room_id\": \"" + k + "\"", "\"room_id\": \"../../etc\""));
        k = "room-too-long-" + id();
        add.accept(k, variant(k, "\"room_id\": \"" + k + "\"", "\"room_id\": \"" + "r".repeat(200) + "\""));
        k = "game-id-string-" + id();
        add.accept(k, variant(k, "\"game_id\": 7", "\"game_id\": \"7\""));
        k = "game-id-float-" + id();
        add.accept(k, variant(k, "\"game_id\": 7", "\"game_id\": 7.5"));
        k = "no-game-name-" + id();
        add.accept(k, variant(k, "\"game_name\": \"kart_3d\",", ""));
        k = "unknown-game-" + id();
        add.accept(k, variant(k, "\"game_name\": \"kart_3d\"", "\"game_name\": \"chess\""));
        k = "game-param-array-" + id();
        add.accept(k, variant(k, "\"game_param\": {", "\"game_param\": [{").replace("\"user_num\": 1}", "\"user_num\": 1}]"));
        k = "plug-in-object-" + id();
        add.accept(k, variant(k, "\"plug_in_data\": []", "\"plug_in_data\": {}"));
        k = "no-programs-" + id();
        add.accept(k, variant(k, "\"programs\"", "\"programz\""));
        k = "programs-empty-" + id();
        add.accept(k, seedTask(k, "x", "y").replaceAll("\"programs\": \\[.*?\\]", "\"programs\": []"));
        k = "programs-object-" + id();
        add.accept(k, seedTask(k, "x", "y").replaceAll("\"programs\": \\[.*?\\]", "\"programs\": {\"url\": \"x\"}"));
        k = "url-other-host-" + id();
        add.accept(k, variant(k, account, "https://evil.example.com"));
        k = "url-other-account-" + id();
        add.accept(k, variant(k, account, account.replace("devstoreaccount1", "otheraccount")));
        k = "url-dot-dot-" + id();
        add.accept(k, variant(k, "user-102/kart_3d/code-855", "user-102/../secrets/key"));
        k = "url-with-sas-" + id();
        add.accept(k, variant(k, "user-102/kart_3d/code-855", "user-102/kart_3d/code-855?sv=2020&sig=abc"));
        k = "url-file-scheme-" + id();
        add.accept(k, variant(k, account + "/user-102/kart_3d/code-855", "file:///etc/passwd"));
        k = "code-name-traversal-" + id();
        add.accept(k, variant(k, "\"code_name\": \"player\"", "\"code_name\": \"../../etc\""));
        k = "code-name-absolute-" + id();
        add.accept(k, variant(k, "\"code_name\": \"player\"", "\"code_name\": \"/etc/passwd\""));
        k = "code-name-slash-" + id();
        add.accept(k, variant(k, "\"code_name\": \"player\"", "\"code_name\": \"a/b\""));
        k = "duplicate-code-names-" + id();
        String program = "{\"url\": \"" + account + "/user-102/kart_3d/code-855\", \"code_name\": \"p\"}";
        add.accept(k, seedTask(k, "x", "y").replaceAll("\"programs\": \\[.*?\\]", "\"programs\": [" + program + ", " + program + "]"));
        k = "no-ws-uri-" + id();
        add.accept(k, seedTask(k, "x", "y").replaceAll(", \"ws_uri\": \"[^\"]*\"", ""));
        k = "ws-uri-http-" + id();
        add.accept(k, variant(k, "\"ws_uri\": \"ws://", "\"ws_uri\": \"http://"));
        k = "huge-message-" + id();
        add.accept(k, variant(k, "\"is_pickup\": \"true\"", "\"is_pickup\": \"" + "x".repeat(300 * 1024) + "\""));
        k = "ten-thousand-programs-" + id();
        StringBuilder many = new StringBuilder();
        for (int i = 0; i < 10_000; i++) {
            many.append(i == 0 ? "" : ",").append("{\"url\":\"u\",\"code_name\":\"p").append(i).append("\"}");
        }
        add.accept(k, seedTask(k, "x", "y").replaceAll("\"programs\": \\[.*?\\]", "\"programs\": [" + many + "]"));
        k = "too-many-instances-" + id();
        add.accept(k, variant(k, "\"category\": \"3D\"", "\"category\": \"3D\", \"instances\": 1000000"));
        k = "zero-parallelism-" + id();
        add.accept(k, variant(k, "\"category\": \"3D\"", "\"category\": \"3D\", \"instances\": 3, \"parallelism\": 0"));
        k = "max-attempts-text-" + id();
        add.accept(k, variant(k, "\"category\": \"3D\"", "\"category\": \"3D\", \"max_attempts\": \"3\""));
        k = "non-utf8-" + id();
        byte[] latin1 = variant(k, "\"code_name\": \"player\"", "\"code_name\": \"pl\u00e4yer\"").getBytes(StandardCharsets.ISO_8859_1);
        corpus.put(k, latin1);
        k = "nul-byte-" + id();
        add.accept(k, variant(k, "\"code_name\": \"player\"", "\"code_name\": \"pla\u0000yer\""));
        k = "empty-" + id();
        corpus.put(k, new byte[0]);
        k = "deep-nesting-" + id();
        add.accept(k, variant(k, "\"plug_in_data\": []", "\"plug_in_data\": " + "[".repeat(5000) + "]".repeat(5000)));
        return corpus;
    }

    private static String id() {
        return UUID.randomUUID().toString().substring(0, 8);
    }

    @Test
    void everyHostileTaskIsRejectedWithADeadLetterCopyAndValidOnesStillSucceed() throws Exception {
        Map<String, byte[]> corpus = corpus();
        assertThat(corpus).hasSizeGreaterThanOrEqualTo(30);
        List<String> validRooms = new ArrayList<>();
        int n = 0;
        for (Map.Entry<String, byte[]> hostile : corpus.entrySet()) {
            if (n++ % 7 == 0) {
                String room = "valid-" + UUID.randomUUID();
                validRooms.add(room);
                publish(room, valid(room));
            }
            publish(hostile.getKey(), hostile.getValue());
        }
        // a duplicate of a task that was accepted: the room already has its task
        String first = validRooms.get(0);
        awaitResult(first);
        publish(first, valid(first));

        for (Map.Entry<String, byte[]> hostile : corpus.entrySet()) {
            String key = hostile.getKey();
            JsonNode result = awaitResult(key);
            assertThat(result.path("outcome").asText()).as(key).isEqualTo("REJECTED");
            assertThat(result.path("error").asText()).as(key).isNotBlank();
            await().atMost(Duration.ofSeconds(30)).until(() -> !deadLetters().records(key).isEmpty());
            ConsumerRecord<String, byte[]> dead = deadLetters().records(key).get(0);
            assertThat(dead.value()).as(key + ": original bytes").isEqualTo(hostile.getValue());
            assertThat(new String(dead.headers().lastHeader("paia.error.reason").value(), StandardCharsets.UTF_8))
                    .as(key).isEqualTo(result.path("error").asText());
            assertThat(dead.headers().lastHeader("paia.source.offset")).as(key).isNotNull();
            assertThat(resultsOf(key)).as(key + ": exactly one result").hasSize(1);
        }
        for (String room : validRooms) {
            assertThat(awaitResult(room).path("outcome").asText()).as(room).isEqualTo("SUCCEEDED");
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> resultsOf(first).size() == 2);
        assertThat(resultsOf(first).get(1).path("outcome").asText()).isEqualTo("REJECTED");
        assertThat(resultsOf(first).get(1).path("error").asText()).contains("duplicate task");
        assertThat(deadLetters().records(first)).hasSize(1);
    }
}
