package org.paia.dispatcher.failures;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.paia.dispatcher.failures.FailureClass.ABORTABLE;
import static org.paia.dispatcher.failures.FailureClass.FATAL;
import static org.paia.dispatcher.failures.FailureClass.INVALID;
import static org.paia.dispatcher.failures.FailureClass.RETRIABLE;

import com.azure.core.exception.AzureException;
import com.azure.core.exception.HttpResponseException;
import com.azure.core.http.HttpHeaders;
import com.azure.core.http.HttpMethod;
import com.azure.core.http.HttpRequest;
import com.azure.core.http.HttpResponse;
import com.azure.storage.blob.models.BlobStorageException;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.Charset;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.apache.camel.CamelExecutionException;
import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.ClusterAuthorizationException;
import org.apache.kafka.common.errors.CoordinatorNotAvailableException;
import org.apache.kafka.common.errors.FencedInstanceIdException;
import org.apache.kafka.common.errors.GroupAuthorizationException;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.InvalidPidMappingException;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.InvalidTxnStateException;
import org.apache.kafka.common.errors.NetworkException;
import org.apache.kafka.common.errors.NotEnoughReplicasException;
import org.apache.kafka.common.errors.NotLeaderOrFollowerException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.TransactionAbortableException;
import org.apache.kafka.common.errors.TransactionalIdAuthorizationException;
import org.apache.kafka.common.errors.UnsupportedForMessageFormatException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.paia.dispatcher.download.ProgramNotFoundException;
import org.paia.dispatcher.kafka.FatalDispatcherException;
import org.paia.dispatcher.task.TaskRejectedException;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

class FailureClassifierTest {

    // ---- Kafka ----------------------------------------------------------------------------------

    static Stream<Arguments> kafkaExceptions() {
        return Stream.of(
                // fatal: the producer is unusable or the configuration is wrong
                kafka(ProducerFencedException::new, FATAL),
                kafka(TransactionalIdAuthorizationException::new, FATAL),
                kafka(ClusterAuthorizationException::new, FATAL),
                kafka(TopicAuthorizationException::new, FATAL),
                kafka(GroupAuthorizationException::new, FATAL),
                kafka(SaslAuthenticationException::new, FATAL),
                kafka(UnsupportedVersionException::new, FATAL),
                kafka(InvalidTxnStateException::new, FATAL),
                kafka(OutOfOrderSequenceException::new, FATAL),
                kafka(InvalidPidMappingException::new, FATAL),
                kafka(UnsupportedForMessageFormatException::new, FATAL),
                // retriable: repeat the same call
                kafka(TimeoutException::new, RETRIABLE),
                kafka(InterruptException::new, RETRIABLE),
                kafka(NotLeaderOrFollowerException::new, RETRIABLE),
                kafka(NetworkException::new, RETRIABLE),
                kafka(CoordinatorNotAvailableException::new, RETRIABLE),
                kafka(NotEnoughReplicasException::new, RETRIABLE),
                // abortable: abort the transaction, rewind, process again
                kafka(InvalidProducerEpochException::new, ABORTABLE),
                kafka(FencedInstanceIdException::new, ABORTABLE),
                kafka(TransactionAbortableException::new, ABORTABLE),
                kafka(CommitFailedException::new, ABORTABLE),
                kafka(RecordTooLargeException::new, ABORTABLE),
                kafka(KafkaException::new, ABORTABLE));
    }

    private static Arguments kafka(java.util.function.Function<String, ? extends Throwable> factory, FailureClass expected) {
        Supplier<Throwable> supplier = () -> factory.apply("kafka says no");
        return Arguments.of(supplier, expected);
    }

    @ParameterizedTest(name = "{index}: {1}")
    @MethodSource("kafkaExceptions")
    void kafkaClientExceptionsAreClassifiedAsTheKafka39ProducerDocumentsThem(Supplier<Throwable> failure, FailureClass expected) {
        Throwable t = failure.get();
        Thread.interrupted(); // InterruptException's constructor re-interrupts the current thread

        assertThat(FailureClassifier.classify(t)).as(t.getClass().getSimpleName()).isEqualTo(expected);
    }

    @Test
    void aTransactionThatTheBrokerTimedOutIsAbortableThoughKafkaReportsItAsFenced() {
        Throwable t = new org.paia.dispatcher.kafka.TransactionTimedOutException("ran past its timeout",
                new ProducerFencedException("fenced by a newer epoch"));

        assertThat(FailureClassifier.classify(t)).isEqualTo(ABORTABLE);
    }

    @Test
    void producerFencedWrappedInCamelAndExecutionExceptionsIsFatal() {
        Throwable t = new CamelExecutionException("send failed", null,
                new ExecutionException(new ProducerFencedException("fenced by a newer epoch")));

        assertThat(FailureClassifier.classify(t)).isEqualTo(FATAL);
    }

    @Test
    void retriableKafkaTimeoutWrappedInCamelExceptionIsRetriable() {
        Throwable t = new CamelExecutionException("commit failed", null, new TimeoutException("commit timed out"));

        assertThat(FailureClassifier.classify(t)).isEqualTo(RETRIABLE);
    }

    @Test
    void errorStateWrapperAroundAFatalCauseIsFatal() {
        Throwable t = new KafkaException("Cannot execute transactional method because we are in an error state",
                new ProducerFencedException("fenced"));

        assertThat(FailureClassifier.classify(t)).isEqualTo(FATAL);
    }

    @Test
    void errorStateWrapperAroundAnAbortableCauseIsAbortable() {
        Throwable t = new KafkaException("Cannot execute transactional method because we are in an error state",
                new TransactionAbortableException("abortable"));

        assertThat(FailureClassifier.classify(t)).isEqualTo(ABORTABLE);
    }

    @Test
    void illegalStateFromARealKafkaProducerIsFatal() {
        Map<String, Object> config = Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:1",
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false,
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class,
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        Throwable thrown;
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(config)) {
            // no transactional.id: the producer itself throws IllegalStateException
            thrown = catchThrowable(producer::beginTransaction);
            producer.close(Duration.ZERO);
        }

        assertThat(thrown).isInstanceOf(IllegalStateException.class);
        assertThat(FailureClassifier.classify(thrown)).isEqualTo(FATAL);
    }

    @Test
    void illegalStateWithAKafkaTopFrameIsFatal() {
        IllegalStateException t = new IllegalStateException("Invalid transition attempted from state READY to state COMMITTING_TRANSACTION");
        t.setStackTrace(new StackTraceElement[] {
            new StackTraceElement("org.apache.kafka.clients.producer.internals.TransactionManager", "transitionTo", "TransactionManager.java", 1),
            new StackTraceElement("org.paia.dispatcher.kafka.TransactionalWriter", "commit", "TransactionalWriter.java", 1)});

        assertThat(FailureClassifier.classify(t)).isEqualTo(FATAL);
    }

    @Test
    void illegalStateFromOurOwnCodeFallsThroughToRetriable() {
        IllegalStateException t = new IllegalStateException("not ready yet");

        assertThat(FailureClassifier.classify(t)).isEqualTo(RETRIABLE);
    }

    // ---- Kubernetes -----------------------------------------------------------------------------

    @ParameterizedTest(name = "HTTP {0} -> FATAL")
    @ValueSource(ints = {400, 401, 403, 405, 410, 422})
    void kubernetesCredentialRbacAndTemplateErrorsAreFatal(int code) {
        assertThat(FailureClassifier.classify(new KubernetesClientException("pods is forbidden", code, null))).isEqualTo(FATAL);
    }

    @ParameterizedTest(name = "HTTP {0} -> RETRIABLE")
    @ValueSource(ints = {-1, 0, 404, 408, 409, 429, 500, 502, 503, 504, 599})
    void kubernetesTransientErrorsAndConnectionFailuresAreRetriable(int code) {
        assertThat(FailureClassifier.classify(new KubernetesClientException("try later", code, null))).isEqualTo(RETRIABLE);
    }

    @Test
    void kubernetesExceptionWithoutStatusCodeIsRetriable() {
        Throwable t = new KubernetesClientException("Operation: [create] for kind: [Pod] failed.", new ConnectException("refused"));

        assertThat(FailureClassifier.classify(t)).isEqualTo(RETRIABLE);
    }

    // ---- Azure Blob Storage ---------------------------------------------------------------------

    @ParameterizedTest(name = "HTTP {0} -> FATAL")
    @ValueSource(ints = {400, 401, 403, 412, 416})
    void blobCredentialAndRequestErrorsAreFatal(int status) {
        assertThat(FailureClassifier.classify(blob(status))).isEqualTo(FATAL);
    }

    @ParameterizedTest(name = "HTTP {0} -> RETRIABLE")
    @ValueSource(ints = {408, 409, 429, 500, 502, 503, 504})
    void blobTransientErrorsAreRetriable(int status) {
        assertThat(FailureClassifier.classify(blob(status))).isEqualTo(RETRIABLE);
    }

    @Test
    void missingBlobIsInvalid() {
        assertThat(FailureClassifier.classify(blob(404))).isEqualTo(INVALID);
    }

    @Test
    void plainHttpResponseExceptionUsesItsResponseStatus() {
        assertThat(FailureClassifier.classify(new HttpResponseException("forbidden", response(403)))).isEqualTo(FATAL);
        assertThat(FailureClassifier.classify(new HttpResponseException("busy", response(503)))).isEqualTo(RETRIABLE);
    }

    @Test
    void httpResponseExceptionWithoutResponseIsRetriable() {
        assertThat(FailureClassifier.classify(new HttpResponseException("no response", (HttpResponse) null))).isEqualTo(RETRIABLE);
    }

    @Test
    void azureExceptionWithoutStatusIsRetriable() {
        assertThat(FailureClassifier.classify(new AzureException("channel closed"))).isEqualTo(RETRIABLE);
    }

    @Test
    void blobErrorWrappedInUncheckedIoAndCamelExceptionsIsClassifiedByTheBlobStatus() {
        Throwable t = new CamelExecutionException("download failed", null,
                new UncheckedIOException(new IOException("stream failed", blob(403))));

        // the IOException is the first cause that matches a rule
        assertThat(FailureClassifier.classify(t)).isEqualTo(RETRIABLE);
        assertThat(FailureClassifier.classify(new CamelExecutionException("download failed", null, blob(403)))).isEqualTo(FATAL);
    }

    // ---- I/O, unknown, errors -------------------------------------------------------------------

    static Stream<Throwable> ioFailures() {
        return Stream.of(
                new IOException("broken pipe"),
                new ConnectException("Connection refused"),
                new SocketTimeoutException("Read timed out"),
                new HttpTimeoutException("request timed out"),
                new java.util.concurrent.TimeoutException("no answer"),
                new UncheckedIOException(new IOException("disk hiccup")),
                new ExecutionException(new ConnectException("Connection refused")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("ioFailures")
    void ioFailuresAndTimeoutsAreRetriable(Throwable t) {
        assertThat(FailureClassifier.classify(t)).isEqualTo(RETRIABLE);
    }

    @Test
    void unknownRuntimeExceptionIsRetriable() {
        assertThat(FailureClassifier.classify(new RuntimeException("surprise"))).isEqualTo(RETRIABLE);
        assertThat(FailureClassifier.classify(new NullPointerException())).isEqualTo(RETRIABLE);
    }

    @Test
    void outOfMemoryErrorIsFatal() {
        assertThat(FailureClassifier.classify(new OutOfMemoryError("Java heap space"))).isEqualTo(FATAL);
        assertThat(FailureClassifier.classify(new CamelExecutionException("x", null, new StackOverflowError()))).isEqualTo(FATAL);
    }

    @Test
    void causeCycleDoesNotLoopForever() {
        RuntimeException a = new RuntimeException("a");
        RuntimeException b = new RuntimeException("b", a);
        a.initCause(b);

        assertThat(FailureClassifier.classify(a)).isEqualTo(RETRIABLE);
    }

    // ---- our own exceptions ---------------------------------------------------------------------

    @Test
    void ownValidationErrorsAreInvalid() {
        assertThat(FailureClassifier.classify(new TaskRejectedException("unknown game", "room-1"))).isEqualTo(INVALID);
        assertThat(FailureClassifier.classify(new ProgramNotFoundException("no blob user-1/code"))).isEqualTo(INVALID);
        assertThat(FailureClassifier.classify(new CamelExecutionException("x", null,
                new ExecutionException(new ProgramNotFoundException("no blob"))))).isEqualTo(INVALID);
    }

    @Test
    void fatalDispatcherExceptionIsFatalWhateverItsCause() {
        Throwable t = new FatalDispatcherException("scheduler lost its lease", new java.util.concurrent.TimeoutException("late"));

        assertThat(FailureClassifier.classify(t)).isEqualTo(FATAL);
    }

    // ---- describe -------------------------------------------------------------------------------

    @Test
    void describeNamesTheExceptionAndItsMessage() {
        assertThat(FailureClassifier.describe(new ProducerFencedException("fenced by epoch 7")))
                .isEqualTo("ProducerFencedException: fenced by epoch 7");
    }

    @Test
    void describeLooksThroughCamelAndExecutionWrappers() {
        Throwable t = new CamelExecutionException("Exception occurred during execution", null,
                new ExecutionException(new ProducerFencedException("fenced by epoch 7")));

        assertThat(FailureClassifier.describe(t)).isEqualTo("ProducerFencedException: fenced by epoch 7");
    }

    @Test
    void describeMasksSasSignaturesAccountKeysAndTokens() {
        String message = "GET https://acct.blob.core.windows.net/c/b?sv=2024-11-04&sig=abc%2Fdef&se=2030 failed; "
                + "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=xyz/+==;EndpointSuffix=core.windows.net; "
                + "ws_uri=wss://game.example/ws?token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig&room=1";

        String described = FailureClassifier.describe(new IOException(message));

        assertThat(described)
                .startsWith("IOException: ")
                .contains("sig=***", "AccountKey=***;", "token=***", "sv=2024-11-04", "AccountName=acct", "room=1")
                .doesNotContain("abc", "xyz", "eyJ");
    }

    @Test
    void describeMasksSecretsInsideWrappedCauses() {
        Throwable t = new CamelExecutionException("x", null, new ExecutionException(blob(403, "Server failed to authenticate: sig=abc")));

        assertThat(FailureClassifier.describe(t)).contains("sig=***").doesNotContain("abc");
    }

    @Test
    void describeCapsTheLengthAndKeepsOneLine() {
        String described = FailureClassifier.describe(new RuntimeException("line one\nline two " + "x".repeat(1000)));

        assertThat(described).doesNotContain("\n");
        assertThat(described.replace("…", "")).hasSizeLessThanOrEqualTo(300);
        assertThat(described).startsWith("RuntimeException: line one line two xxx");
    }

    @Test
    void describeMasksBeforeCapping() {
        String described = FailureClassifier.describe(new RuntimeException("x".repeat(270) + " token=eyJhbGciOiJIUzI1NiJ9secretsecret"));

        assertThat(described).doesNotContain("eyJ");
    }

    @Test
    void describeHandlesNullAndMessagelessFailures() {
        assertThat(FailureClassifier.describe(null)).isNotBlank();
        assertThat(FailureClassifier.describe(new NullPointerException())).isEqualTo("NullPointerException");
    }

    @Test
    void classifierIsAUtilityClass() {
        assertThat(java.lang.reflect.Modifier.isFinal(FailureClassifier.class.getModifiers())).isTrue();
        assertThat(FailureClassifier.class.getDeclaredConstructors())
                .allSatisfy(c -> assertThat(java.lang.reflect.Modifier.isPrivate(c.getModifiers())).isTrue());
        assertThat(Set.of(FailureClass.values())).containsExactlyInAnyOrder(RETRIABLE, ABORTABLE, FATAL, INVALID);
        assertThatThrownBy(() -> FailureClass.valueOf("UNKNOWN")).isInstanceOf(IllegalArgumentException.class);
    }

    // ---- helpers --------------------------------------------------------------------------------

    private static BlobStorageException blob(int status) {
        return blob(status, "Status code " + status);
    }

    private static BlobStorageException blob(int status, String message) {
        return new BlobStorageException(message, response(status), null);
    }

    /** The smallest real {@link HttpResponse}: a status code, no headers, no body. */
    private static HttpResponse response(int status) {
        HttpRequest request = new HttpRequest(HttpMethod.GET, "https://acct.blob.core.windows.net/c/b");
        return new HttpResponse(request) {
            @Override
            public int getStatusCode() {
                return status;
            }

            @Override
            @SuppressWarnings("deprecation")
            public String getHeaderValue(String name) {
                return null;
            }

            @Override
            public HttpHeaders getHeaders() {
                return new HttpHeaders();
            }

            @Override
            public Flux<ByteBuffer> getBody() {
                return Flux.empty();
            }

            @Override
            public Mono<byte[]> getBodyAsByteArray() {
                return Mono.empty();
            }

            @Override
            public Mono<String> getBodyAsString() {
                return Mono.empty();
            }

            @Override
            public Mono<String> getBodyAsString(Charset charset) {
                return Mono.empty();
            }
        };
    }
}
