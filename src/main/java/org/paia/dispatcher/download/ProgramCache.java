package org.paia.dispatcher.download;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.apache.camel.Exchange;
import org.paia.dispatcher.task.GameTask;

/**
 * A room's programs are fetched once: the instances of a batch, and a launch whose programs were
 * prefetched, wait for that fetch instead of starting their own. The {@code program-fetch} route asks
 * {@link #claim} first; the exchange that gets {@code null} fetches and then {@link #settle}s, which wakes
 * those waiting. A fetch that failed is not trusted: the next claim fetches again, so that its own failure
 * is classified and redelivered like any other. Remembers the most recent rooms only.
 */
public class ProgramCache {

    static final String FETCHING = "fetching";
    private static final int ROOMS_REMEMBERED = 256;

    private final Map<String, CompletableFuture<List<Path>>> fetches = Collections.synchronizedMap(
            new LinkedHashMap<>(16, 0.75f, true) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<String, CompletableFuture<List<Path>>> eldest) {
                    return size() > ROOMS_REMEMBERED;
                }
            });

    /**
     * The files the task's players run, if its programs are fetched (waiting for a fetch under way), or null:
     * then this exchange fetches them.
     */
    public List<Path> claim(GameTask task, Exchange exchange) {
        CompletableFuture<List<Path>> mine = new CompletableFuture<>();
        CompletableFuture<List<Path>> earlier = fetches.putIfAbsent(task.roomId(), mine);
        if (earlier != null) {
            try {
                List<Path> files = earlier.join();
                if (files.stream().allMatch(Files::exists)) {
                    return files;
                }
            } catch (CompletionException | CancellationException e) {
                // the earlier fetch failed: this one tries itself
            }
            fetches.put(task.roomId(), mine);
        }
        exchange.setVariable(FETCHING, mine);
        return null;
    }

    /** The fetch succeeded: the body holds the files, one per program. */
    @SuppressWarnings("unchecked")
    public List<Path> fetched(Exchange exchange) {
        List<Path> files = List.copyOf(exchange.getMessage().getBody(List.class));
        CompletableFuture<List<Path>> mine = exchange.getVariable(FETCHING, CompletableFuture.class);
        if (mine != null) {
            mine.complete(files);
        }
        return files;
    }

    /** After the fetch, whatever happened: a fetch that did not complete wakes those waiting with its failure. */
    @SuppressWarnings("unchecked")
    public void settle(Exchange exchange) {
        CompletableFuture<List<Path>> mine = exchange.getVariable(FETCHING, CompletableFuture.class);
        if (mine == null || mine.isDone()) {
            return;
        }
        GameTask task = exchange.getVariable("task", GameTask.class);
        Exception failure = exchange.getException() != null ? exchange.getException()
                : exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class);
        mine.completeExceptionally(failure != null ? failure : new IllegalStateException("fetch did not finish"));
        if (task != null) {
            fetches.remove(task.roomId(), mine);
        }
    }
}
