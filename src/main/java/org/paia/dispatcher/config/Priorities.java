package org.paia.dispatcher.config;

import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;

/**
 * The priority classes of tasks ({@code paia.priorities}) as the dispatcher uses them: the class a task
 * runs in, the order in which classes get a free slot, how waiting lifts a task's class (ageing), and
 * the most pods a class may hold in a pool. Checked once, at start-up: a bad class name, a duplicate, a
 * default or a limit naming a class that is not configured, or an ageing that is not positive stops the
 * dispatcher with the property's name.
 *
 * <p>A task's class is a pure function of the task as recorded on the ledger ({@code data.priority}) and
 * of this configuration, and its ageing a function of its acceptance time on the ledger and the clock the
 * scheduler passes in, so every scheduler computes the same order; nothing about priorities is written.
 */
public final class Priorities {

    private final List<String> classes;
    private final String defaultClass;
    private final Duration ageing;
    private final Map<String, Integer> maxActivePods;

    private Priorities(List<String> classes, String defaultClass, Duration ageing, Map<String, Integer> maxActivePods) {
        this.classes = List.copyOf(classes);
        this.defaultClass = defaultClass;
        this.ageing = ageing;
        this.maxActivePods = Map.copyOf(maxActivePods);
    }

    /** The defaults: {@code tournament > ranked > practice}, {@code practice} by default, 5 minutes' ageing, no limits. */
    public static Priorities defaults() {
        return of(new DispatcherProperties.PrioritySettings());
    }

    /** The classes of the configuration, checked (see the class comment). */
    public static Priorities of(DispatcherProperties.PrioritySettings settings) {
        List<String> classes = settings.getClasses();
        if (classes == null || classes.isEmpty()) {
            throw new IllegalArgumentException("paia.priorities.classes must name at least one class");
        }
        Set<String> seen = new HashSet<>();
        for (String c : classes) {
            if (c == null || !GpuPools.NAME.matcher(c).matches()) {
                throw new IllegalArgumentException("paia.priorities.classes: '" + c + "' is not a valid class name (must match "
                        + GpuPools.NAME.pattern() + ")");
            }
            if (!seen.add(c)) {
                throw new IllegalArgumentException("paia.priorities.classes: '" + c + "' is listed twice");
            }
        }
        String defaultClass = settings.getDefault() == null || settings.getDefault().isBlank()
                ? classes.get(classes.size() - 1) : settings.getDefault();
        if (!seen.contains(defaultClass)) {
            throw new IllegalArgumentException("paia.priorities.default: class '" + defaultClass + "' is not configured "
                    + "(configured: " + classes + ")");
        }
        Duration ageing = settings.getAgeing();
        if (ageing == null || ageing.isNegative() || ageing.isZero()) {
            throw new IllegalArgumentException("paia.priorities.ageing must be a positive duration, is " + ageing);
        }
        Map<String, Integer> limits = new LinkedHashMap<>();
        settings.getLimits().forEach((c, limit) -> {
            if (!seen.contains(c)) {
                throw new IllegalArgumentException("paia.priorities.limits." + c + ": class '" + c + "' is not configured "
                        + "(configured: " + classes + ")");
            }
            if (limit != null && limit.getMaxActivePods() != null) {
                if (limit.getMaxActivePods() < 1) {
                    throw new IllegalArgumentException("paia.priorities.limits." + c + ".max-active-pods must be at least 1");
                }
                limits.put(c, limit.getMaxActivePods());
            }
        });
        return new Priorities(classes, defaultClass, ageing, limits);
    }

    /** The classes, highest first (for messages, metrics). */
    public List<String> classes() {
        return classes;
    }

    /** The class of a task that names none. */
    public String defaultClass() {
        return defaultClass;
    }

    public Duration ageing() {
        return ageing;
    }

    public boolean isConfigured(String priorityClass) {
        return classes.contains(priorityClass);
    }

    /** A class's rank: 0 for the highest; a class that is no longer configured ranks as the default one. */
    public int rank(String priorityClass) {
        int rank = classes.indexOf(priorityClass);
        return rank >= 0 ? rank : classes.indexOf(defaultClass);
    }

    /**
     * The rank a task of this class competes with after waiting since {@code acceptedAt}: one class higher
     * for every {@link #ageing()} waited, never above the highest (0). A task of rank r competes as the
     * highest class after r × ageing. Unknown times ({@code null}) age nothing.
     */
    public int effectiveRank(String priorityClass, Instant acceptedAt, Instant now) {
        int rank = rank(priorityClass);
        if (acceptedAt == null || now == null || !now.isAfter(acceptedAt)) {
            return rank;
        }
        long steps = Duration.between(acceptedAt, now).toMillis() / Math.max(1, ageing.toMillis());
        return (int) (rank - Math.min(steps, rank));
    }

    /** The most pods of this class alive at once in each pool, if it is limited. */
    public OptionalInt maxActivePods(String priorityClass) {
        Integer limit = maxActivePods.get(priorityClass);
        return limit == null ? OptionalInt.empty() : OptionalInt.of(limit);
    }
}
