package org.paia.dispatcher.download;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.camel.AggregationStrategy;
import org.apache.camel.Exchange;

/**
 * The {@code program-fetch} route's split over a task's programs collects, in order, the file each player
 * runs: the body after it is that list.
 */
public class ProgramFiles implements AggregationStrategy {

    @Override
    @SuppressWarnings("unchecked")
    public Exchange aggregate(Exchange collected, Exchange program) {
        Path file = program.getMessage().getBody(Path.class);
        if (collected == null) {
            List<Path> files = new ArrayList<>();
            files.add(file);
            program.getMessage().setBody(files);
            return program;
        }
        collected.getMessage().getBody(List.class).add(file);
        return collected;
    }
}
