package org.paia.dispatcher.config;

import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.api.model.TolerationBuilder;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The GPU pools ({@code paia.pools}) as the dispatcher uses them: which pool a task runs in, how many
 * pods each pool takes, and where a pool's pods land. Checked once, at start-up: a pool with a bad
 * name, a game naming a pool that does not exist, or a game left without a pool stops the dispatcher
 * with the property's name.
 *
 * <p>The pool of a task is a pure function of the task as recorded on the ledger ({@code data.pool},
 * {@code data.game_name}) and of this configuration, so a new scheduler computes the same pool for
 * every run; nothing about pools is written to the ledger.
 */
public final class GpuPools {

    /** The pool of a configuration without {@code paia.pools}, and of a game that names none. */
    public static final String DEFAULT = "default";
    /** Pool names: a Kubernetes label value and a Prometheus label value (lower-case DNS label, 63 characters). */
    public static final Pattern NAME = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");

    /** One pool: its capacity in game pods alive at once, and what its pods add to the template's placement. */
    public record GpuPool(String name, int maxActivePods, Map<String, String> nodeSelector, List<Toleration> tolerations) {
        public GpuPool {
            nodeSelector = Map.copyOf(nodeSelector);
            tolerations = List.copyOf(tolerations);
        }
    }

    private final Map<String, GpuPool> pools;
    private final Map<String, String> gamePools;
    /** The pool of a game that names none: {@code default}, else the only pool; null when neither exists. */
    private final String fallback;

    private GpuPools(Map<String, GpuPool> pools, Map<String, String> gamePools) {
        this.pools = pools;
        this.gamePools = gamePools;
        this.fallback = pools.containsKey(DEFAULT) ? DEFAULT : pools.size() == 1 ? pools.keySet().iterator().next() : null;
    }

    /** One pool, {@code default}, of this capacity: what a configuration without {@code paia.pools} gets. */
    public static GpuPools single(int maxActivePods) {
        return new GpuPools(Map.of(DEFAULT, new GpuPool(DEFAULT, maxActivePods, Map.of(), List.of())), Map.of());
    }

    /** The pools of the configuration, checked (see the class comment). */
    public static GpuPools of(DispatcherProperties properties) {
        int defaultCapacity = properties.getScheduler().getMaxActivePods();
        if (properties.getPools().isEmpty()) {
            GpuPools single = single(defaultCapacity);
            properties.getGames().forEach((game, config) -> single.checkGame(game, config.getPool()));
            return single;
        }
        Map<String, GpuPool> pools = new LinkedHashMap<>();
        properties.getPools().forEach((name, pool) -> {
            if (!NAME.matcher(name).matches()) {
                throw new IllegalArgumentException("paia.pools." + name + ": a pool's name must match " + NAME.pattern());
            }
            int capacity = pool.getMaxActivePods() == null ? defaultCapacity : pool.getMaxActivePods();
            pools.put(name, new GpuPool(name, capacity, pool.getNodeSelector(),
                    pool.getTolerations().stream().map(GpuPools::toleration).toList()));
        });
        Map<String, String> gamePools = new LinkedHashMap<>();
        properties.getGames().forEach((game, config) -> {
            if (config.getPool() != null && !config.getPool().isBlank()) {
                gamePools.put(game, config.getPool());
            }
        });
        GpuPools configured = new GpuPools(Map.copyOf(pools), Map.copyOf(gamePools));
        properties.getGames().forEach((game, config) -> configured.checkGame(game, config.getPool()));
        return configured;
    }

    private void checkGame(String game, String pool) {
        if (pool != null && !pool.isBlank() && !pools.containsKey(pool)) {
            throw new IllegalArgumentException("paia.games." + game + ".pool: pool '" + pool + "' is not configured "
                    + "(configured: " + names() + ")");
        }
        if ((pool == null || pool.isBlank()) && fallback == null) {
            throw new IllegalArgumentException("paia.games." + game + ".pool must be set: several pools are configured "
                    + "(" + names() + ") and none is named '" + DEFAULT + "'");
        }
    }

    private static Toleration toleration(DispatcherProperties.Toleration t) {
        return new TolerationBuilder().withKey(blankToNull(t.getKey())).withOperator(t.getOperator())
                .withValue(blankToNull(t.getValue())).withEffect(blankToNull(t.getEffect())).build();
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s;
    }

    /** The pool names, sorted (for messages, metrics). */
    public List<String> names() {
        return pools.keySet().stream().sorted().toList();
    }

    public Optional<GpuPool> pool(String name) {
        return Optional.ofNullable(name == null ? null : pools.get(name));
    }

    /** The pool of a task of this game that names none: the game's own pool, else the default one (null: none). */
    public String poolOfGame(String game) {
        return gamePools.getOrDefault(game, fallback);
    }

    /** A pool's capacity, 0 for a pool that is not configured (its runs wait until it is). */
    public int capacity(String pool) {
        GpuPool p = pool == null ? null : pools.get(pool);
        return p == null ? 0 : p.maxActivePods();
    }
}
