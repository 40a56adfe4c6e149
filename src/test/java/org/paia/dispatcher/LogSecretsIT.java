package org.paia.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import com.fasterxml.jackson.databind.JsonNode;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.paia.dispatcher.support.CapturedLogs;
import org.paia.dispatcher.support.DispatcherIT;
import org.slf4j.LoggerFactory;

/**
 * No secret reaches a log: the {@code ws_uri} token of tasks (accepted, crashed, rejected, malformed,
 * duplicated), the SAS links and signatures the results carry, and the storage account key. Every
 * log event of the test JVM is captured from the context's start ({@link CapturedLogs} on the root
 * logger), with the dispatcher's own loggers at DEBUG while the tasks run.
 */
class LogSecretsIT extends DispatcherIT {

    private static final String SEED_TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.sample.token";
    private static final Pattern ACCOUNT_KEY = Pattern.compile("AccountKey=([^;]+)");

    private final Logger dispatcherLogger = (Logger) LoggerFactory.getLogger("org.paia.dispatcher");
    private Level previousLevel;

    @BeforeEach
    void debugDispatcher() {
        previousLevel = dispatcherLogger.getLevel();
        dispatcherLogger.setLevel(Level.DEBUG);
    }

    @AfterEach
    void restoreLevel() {
        dispatcherLogger.setLevel(previousLevel);
    }

    @Test
    void noTokenSasLinkOrAccountKeyInAnyLogEvent() throws Exception {
        String token = "wsTok" + UUID.randomUUID().toString().replace("-", "");

        String good = newRoom();
        uploadProgram("user-102", "kart_3d/secret-" + good, "class MLPlay: pass\n");
        publish(good, withToken(seedTask(good, "user-102/kart_3d/secret-" + good, "kart3d_ppo_test"), token));
        String crash = newRoom();
        uploadProgram("user-102", "kart_3d/crash-" + crash, "class MLPlay: pass\n");
        publish(crash, withToken(seedTask(crash, "user-102/kart_3d/crash-" + crash, "kart3d_crash"), token));
        String missing = newRoom();
        publish(missing, withToken(seedTask(missing, "user-102/kart_3d/none-" + missing, "kart3d_ppo_test"), token));
        String unknownGame = newRoom();
        publish(unknownGame, withToken(seedTask(unknownGame, "user-102/x", "x"), token)
                .replace("\"game_name\": \"kart_3d\"", "\"game_name\": \"no_such_game\""));
        // a truncated message whose parser error would quote the token
        publish("malformed-" + token, "{\"type\": \"game_cmd\", \"data\": {\"room_id\": \"r\", \"ws_uri\": " + token + "}}");

        List<JsonNode> results = new ArrayList<>();
        for (String room : List.of(good, crash, missing, unknownGame)) {
            results.add(awaitResult(room));
        }
        // the same room again: a duplicate, rejected
        publish(good, withToken(seedTask(good, "user-102/kart_3d/secret-" + good, "kart3d_ppo_test"), token));
        await().atMost(Duration.ofSeconds(60)).until(() -> resultsOf(good).size() == 2
                && !deadLetters().records("malformed-" + token).isEmpty());

        assertThat(results.get(0).path("outcome").asText()).isEqualTo("SUCCEEDED");
        assertThat(results.get(1).path("outcome").asText()).isEqualTo("FAILED");
        assertThat(results.get(2).path("outcome").asText()).isEqualTo("FAILED");
        assertThat(results.get(3).path("outcome").asText()).isEqualTo("REJECTED");

        Set<String> secrets = new LinkedHashSet<>();
        secrets.add(token);
        Matcher key = ACCOUNT_KEY.matcher(properties.getStorage().getConnectionString());
        assertThat(key.find()).as("the connection string has an account key").isTrue();
        secrets.add(key.group(1));
        int links = 0;
        for (JsonNode result : results) {
            for (JsonNode link : result.path("artifacts")) {
                links += addSas(secrets, link.asText());
            }
            for (JsonNode link : result.path("azure_storage_url")) {
                links += addSas(secrets, link.asText());
            }
        }
        assertThat(links).as("SAS links in the results").isGreaterThanOrEqualTo(4);

        List<String> events = CapturedLogs.events();
        assertThat(events).as("captured log events").hasSizeGreaterThan(50);
        // the test's tasks did get logged (by room id), so silence is not what passes this test
        assertThat(events).anyMatch(e -> e.contains(good)).anyMatch(e -> e.contains(crash));
        for (String secret : secrets) {
            List<String> leaks = events.stream().filter(e -> e.contains(secret)).toList();
            assertThat(leaks).as("log events containing the secret %s…", secret.substring(0, 6)).isEmpty();
        }
    }

    private static String withToken(String task, String token) {
        assertThat(task).contains(SEED_TOKEN);
        return task.replace(SEED_TOKEN, token);
    }

    /** The link itself, its query and its signature (raw and decoded) are secrets; returns 1 if it is a SAS link. */
    private static int addSas(Set<String> secrets, String link) {
        int query = link.indexOf('?');
        Matcher sig = Pattern.compile("[?&]sig=([^&]+)").matcher(link);
        if (query < 0 || !sig.find()) {
            return 0;
        }
        secrets.add(link);
        secrets.add(link.substring(query + 1));
        secrets.add(sig.group(1));
        secrets.add(URLDecoder.decode(sig.group(1), StandardCharsets.UTF_8));
        return 1;
    }
}
