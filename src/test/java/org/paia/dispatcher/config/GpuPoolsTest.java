package org.paia.dispatcher.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The GPU pools as configured: the default when none are, capacities, placement, and the start-up checks. */
class GpuPoolsTest {

    private static DispatcherProperties properties(Map<String, DispatcherProperties.Pool> pools, String kartPool) {
        DispatcherProperties properties = new DispatcherProperties();
        properties.getScheduler().setMaxActivePods(5);
        DispatcherProperties.Game kart = new DispatcherProperties.Game();
        kart.setImage("paiaarena/paiagym:latest");
        kart.setPool(kartPool);
        properties.setGames(new LinkedHashMap<>(Map.of("kart_3d", kart)));
        properties.setPools(new LinkedHashMap<>(pools));
        return properties;
    }

    private static DispatcherProperties.Pool pool(Integer capacity) {
        DispatcherProperties.Pool pool = new DispatcherProperties.Pool();
        pool.setMaxActivePods(capacity);
        return pool;
    }

    @Test
    void withoutPoolsThereIsOneDefaultPoolOfTheSchedulersCapacity() {
        GpuPools pools = GpuPools.of(properties(Map.of(), null));

        assertThat(pools.names()).containsExactly("default");
        assertThat(pools.capacity("default")).isEqualTo(5);
        assertThat(pools.poolOfGame("kart_3d")).isEqualTo("default");
        assertThat(pools.pool("default")).hasValueSatisfying(p -> {
            assertThat(p.nodeSelector()).isEmpty();
            assertThat(p.tolerations()).isEmpty();
        });
        assertThat(pools.capacity("a10")).as("not configured").isZero();
    }

    @Test
    void eachPoolHasItsCapacityAndPlacementAndGamesTheirPool() {
        DispatcherProperties.Pool a10 = pool(8);
        a10.setNodeSelector(Map.of("nvidia.com/gpu.product", "NVIDIA-A10"));
        DispatcherProperties.Toleration taint = new DispatcherProperties.Toleration();
        taint.setKey("gpu-type");
        taint.setValue("a10");
        taint.setEffect("NoSchedule");
        a10.setTolerations(List.of(taint));
        GpuPools pools = GpuPools.of(properties(Map.of("default", pool(null), "a10", a10), "a10"));

        assertThat(pools.names()).containsExactly("a10", "default");
        assertThat(pools.capacity("a10")).isEqualTo(8);
        assertThat(pools.capacity("default")).as("unset: paia.scheduler.max-active-pods").isEqualTo(5);
        assertThat(pools.poolOfGame("kart_3d")).isEqualTo("a10");
        assertThat(pools.poolOfGame("pong")).as("a game without a pool of its own").isEqualTo("default");
        GpuPools.GpuPool placed = pools.pool("a10").orElseThrow();
        assertThat(placed.nodeSelector()).containsExactly(Map.entry("nvidia.com/gpu.product", "NVIDIA-A10"));
        assertThat(placed.tolerations()).singleElement().satisfies(t -> {
            assertThat(t.getKey()).isEqualTo("gpu-type");
            assertThat(t.getOperator()).isEqualTo("Equal");
            assertThat(t.getValue()).isEqualTo("a10");
            assertThat(t.getEffect()).isEqualTo("NoSchedule");
        });
    }

    @Test
    void theOnlyPoolIsTheDefaultOneWhateverItsName() {
        GpuPools pools = GpuPools.of(properties(Map.of("h100", pool(2)), null));

        assertThat(pools.poolOfGame("kart_3d")).isEqualTo("h100");
    }

    @Test
    void aConfigurationThatLeavesAGameWithoutAPoolStopsTheStartWithTheProperty() {
        assertThatThrownBy(() -> GpuPools.of(properties(Map.of("a10", pool(1), "h100", pool(1)), null)))
                .hasMessageContaining("paia.games.kart_3d.pool must be set")
                .hasMessageContaining("none is named 'default'");
        assertThatThrownBy(() -> GpuPools.of(properties(Map.of("default", pool(1)), "a10")))
                .hasMessage("paia.games.kart_3d.pool: pool 'a10' is not configured (configured: [default])");
        assertThatThrownBy(() -> GpuPools.of(properties(Map.of(), "a10")))
                .hasMessageContaining("paia.games.kart_3d.pool: pool 'a10' is not configured");
        assertThatThrownBy(() -> GpuPools.of(properties(Map.of("A10_GPU", pool(1)), null)))
                .hasMessageContaining("paia.pools.A10_GPU: a pool's name must match");
    }
}
