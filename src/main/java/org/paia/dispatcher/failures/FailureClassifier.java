package org.paia.dispatcher.failures;

import com.azure.core.exception.AzureException;
import com.azure.core.exception.HttpResponseException;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.IOException;
import java.util.HashSet;
import java.util.Set;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.InvalidPidMappingException;
import org.apache.kafka.common.errors.InvalidTxnStateException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.UnsupportedForMessageFormatException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.paia.dispatcher.download.ProgramNotFoundException;
import org.paia.dispatcher.kafka.FatalDispatcherException;
import org.paia.dispatcher.task.TaskRejectedException;

/**
 * Sorts any failure into one {@link FailureClass}: Kafka client exceptions as the Kafka 3.9
 * producer documents them, Kubernetes API and Blob Storage HTTP statuses, I/O failures, and our
 * own validation errors. Pure, so each rule is unit-tested; the Camel error handlers
 * ({@code routes/errors.yaml}) ask it through {@link Failures}.
 */
public final class FailureClassifier {

    private static final int MAX_DESCRIPTION = 300;

    private FailureClassifier() {
    }

    public static FailureClass classify(Throwable failure) {
        Set<Throwable> seen = new HashSet<>();
        for (Throwable t = failure; t != null && seen.add(t); t = t.getCause()) {
            FailureClass decided = decide(t);
            if (decided != null) {
                return decided;
            }
        }
        return RETRIABLE_BY_DEFAULT;
    }

    /** Unknown failures are retried a bounded number of times, then escalated by the handler. */
    private static final FailureClass RETRIABLE_BY_DEFAULT = FailureClass.RETRIABLE;

    private static FailureClass decide(Throwable t) {
        if (t instanceof TaskRejectedException || t instanceof ProgramNotFoundException) {
            return FailureClass.INVALID;
        }
        if (t instanceof FatalDispatcherException || t instanceof Error) {
            return FailureClass.FATAL;
        }
        if (t instanceof org.paia.dispatcher.kafka.TransactionTimedOutException) {
            return FailureClass.ABORTABLE; // the broker aborted our own transaction; its "fenced" cause is not fatal
        }
        if (t instanceof KafkaException) {
            return kafka((KafkaException) t);
        }
        if (t instanceof IllegalStateException && fromKafka(t)) {
            return FailureClass.FATAL; // the producer's "invalid transition" family: it is unusable
        }
        if (t instanceof KubernetesClientException) {
            return httpStatus(((KubernetesClientException) t).getCode(), false);
        }
        if (t instanceof HttpResponseException) {
            HttpResponseException http = (HttpResponseException) t;
            return http.getResponse() == null ? FailureClass.RETRIABLE : httpStatus(http.getResponse().getStatusCode(), true);
        }
        if (t instanceof AzureException || t instanceof IOException || t instanceof java.util.concurrent.TimeoutException) {
            return FailureClass.RETRIABLE;
        }
        return null; // look at the cause
    }

    private static FailureClass kafka(KafkaException e) {
        if (isFatalKafka(e)) {
            return FailureClass.FATAL;
        }
        if (e instanceof TimeoutException || e instanceof InterruptException || e instanceof RetriableException) {
            return FailureClass.RETRIABLE;
        }
        // "in an error state" wrapping a fatal cause: the producer cannot be used any more
        Set<Throwable> seen = new HashSet<>();
        for (Throwable cause = e.getCause(); cause != null && seen.add(cause); cause = cause.getCause()) {
            if (isFatalKafka(cause)) {
                return FailureClass.FATAL;
            }
        }
        return FailureClass.ABORTABLE;
    }

    private static boolean isFatalKafka(Throwable e) {
        return e instanceof ProducerFencedException || e instanceof AuthorizationException
                || e instanceof AuthenticationException || e instanceof UnsupportedVersionException
                || e instanceof InvalidTxnStateException || e instanceof OutOfOrderSequenceException
                || e instanceof InvalidPidMappingException || e instanceof UnsupportedForMessageFormatException;
    }

    /**
     * Kubernetes and Blob Storage statuses. 0 or below: no HTTP answer at all (connection failure).
     * 404 from storage means a missing blob (the user's program: invalid); from Kubernetes a pod that
     * is gone, which a repeat resolves.
     */
    private static FailureClass httpStatus(int status, boolean storage) {
        if (status <= 0 || status >= 500 || status == 408 || status == 429 || status == 409) {
            return FailureClass.RETRIABLE;
        }
        if (status == 404) {
            return storage ? FailureClass.INVALID : FailureClass.RETRIABLE;
        }
        return FailureClass.FATAL; // 400, 401, 403, 422...: credentials, RBAC or a broken template
    }

    private static boolean fromKafka(Throwable t) {
        StackTraceElement[] trace = t.getStackTrace();
        return trace.length > 0 && trace[0].getClassName().startsWith("org.apache.kafka");
    }

    /**
     * The message of the failure that makes {@code failure} INVALID (a program that does not exist, a task
     * that breaks a rule), found through the causes that Camel's EIPs wrap around it; the whole
     * description when there is none.
     */
    public static String invalidReason(Throwable failure) {
        Set<Throwable> seen = new HashSet<>();
        for (Throwable t = failure; t != null && seen.add(t); t = t.getCause()) {
            if (t instanceof TaskRejectedException || t instanceof ProgramNotFoundException) {
                return t.getMessage();
            }
        }
        return describe(failure);
    }

    /** One line for logs and result messages: the deciding exception and its message, secrets masked. */
    public static String describe(Throwable failure) {
        if (failure == null) {
            return "unknown failure";
        }
        Throwable shown = failure;
        Set<Throwable> seen = new HashSet<>();
        while (shown.getCause() != null && seen.add(shown)
                && (shown.getMessage() == null || shown instanceof java.util.concurrent.ExecutionException
                || shown.getClass().getName().startsWith("org.apache.camel"))) {
            shown = shown.getCause();
        }
        String text = shown.getClass().getSimpleName() + (shown.getMessage() == null ? "" : ": " + shown.getMessage());
        text = mask(text).replaceAll("[\\r\\n]+", " ");
        return text.length() > MAX_DESCRIPTION ? text.substring(0, MAX_DESCRIPTION) + "…" : text;
    }

    /** Removes SAS signatures, account keys and tokens from a text. */
    public static String mask(String text) {
        return text.replaceAll("(?i)(sig=)[^&\\s\"]+", "$1***")
                .replaceAll("(?i)(AccountKey=)[^;\\s\"]+", "$1***")
                .replaceAll("(?i)(token=)[^&\\s\"]+", "$1***");
    }
}
