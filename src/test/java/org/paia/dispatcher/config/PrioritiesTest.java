package org.paia.dispatcher.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The priority classes as configured: defaults, ranks, ageing, limits, and the start-up checks. */
class PrioritiesTest {

    private static final Instant T0 = Instant.parse("2026-12-02T12:00:00Z");

    private static DispatcherProperties.PrioritySettings settings(List<String> classes, String defaultClass) {
        DispatcherProperties.PrioritySettings settings = new DispatcherProperties.PrioritySettings();
        settings.setClasses(classes);
        settings.setDefault(defaultClass);
        return settings;
    }

    private static DispatcherProperties.ClassLimits limit(Integer maxActivePods) {
        DispatcherProperties.ClassLimits limit = new DispatcherProperties.ClassLimits();
        limit.setMaxActivePods(maxActivePods);
        return limit;
    }

    @Test
    void theDefaultsAreTournamentRankedPracticeWithPracticeForATaskThatNamesNone() {
        Priorities priorities = Priorities.defaults();

        assertThat(priorities.classes()).containsExactly("tournament", "ranked", "practice");
        assertThat(priorities.defaultClass()).isEqualTo("practice");
        assertThat(priorities.ageing()).isEqualTo(Duration.ofMinutes(5));
        assertThat(priorities.rank("tournament")).isZero();
        assertThat(priorities.rank("practice")).isEqualTo(2);
        assertThat(priorities.maxActivePods("practice")).isEmpty();
    }

    @Test
    void aWaitingTaskClimbsOneClassPerAgeingSinceItsAcceptanceNeverAboveTheTop() {
        Priorities priorities = Priorities.defaults();

        assertThat(priorities.effectiveRank("practice", T0, T0)).isEqualTo(2);
        assertThat(priorities.effectiveRank("practice", T0, T0.plus(Duration.ofMinutes(5)).minusMillis(1))).isEqualTo(2);
        assertThat(priorities.effectiveRank("practice", T0, T0.plus(Duration.ofMinutes(5)))).isEqualTo(1);
        assertThat(priorities.effectiveRank("practice", T0, T0.plus(Duration.ofMinutes(10)))).isZero();
        assertThat(priorities.effectiveRank("practice", T0, T0.plus(Duration.ofDays(3)))).isZero();
        assertThat(priorities.effectiveRank("ranked", T0, T0.plus(Duration.ofMinutes(7)))).isZero();
        assertThat(priorities.effectiveRank("practice", T0, null)).as("no clock: no ageing").isEqualTo(2);
        assertThat(priorities.effectiveRank("practice", T0, T0.minusSeconds(60))).as("a clock behind").isEqualTo(2);
    }

    @Test
    void theDefaultClassAndLimitsAreConfigurable() {
        DispatcherProperties.PrioritySettings settings = settings(List.of("gold", "silver"), "gold");
        settings.setAgeing(Duration.ofSeconds(30));
        settings.setLimits(Map.of("silver", limit(2), "gold", limit(null)));
        Priorities priorities = Priorities.of(settings);

        assertThat(priorities.defaultClass()).isEqualTo("gold");
        assertThat(priorities.maxActivePods("silver")).hasValue(2);
        assertThat(priorities.maxActivePods("gold")).as("unset: no limit").isEmpty();
        assertThat(priorities.effectiveRank("silver", T0, T0.plusSeconds(30))).isZero();
    }

    @Test
    void aBadConfigurationStopsTheStartNamingTheProperty() {
        assertThatThrownBy(() -> Priorities.of(settings(List.of(), null)))
                .hasMessageContaining("paia.priorities.classes must name at least one class");
        assertThatThrownBy(() -> Priorities.of(settings(List.of("Gold"), null)))
                .hasMessageContaining("paia.priorities.classes: 'Gold' is not a valid class name");
        assertThatThrownBy(() -> Priorities.of(settings(List.of("gold", "gold"), null)))
                .hasMessageContaining("paia.priorities.classes: 'gold' is listed twice");
        assertThatThrownBy(() -> Priorities.of(settings(List.of("gold", "silver"), "bronze")))
                .hasMessage("paia.priorities.default: class 'bronze' is not configured (configured: [gold, silver])");
        DispatcherProperties.PrioritySettings unknownLimit = settings(List.of("gold"), null);
        unknownLimit.setLimits(Map.of("silver", limit(1)));
        assertThatThrownBy(() -> Priorities.of(unknownLimit))
                .hasMessage("paia.priorities.limits.silver: class 'silver' is not configured (configured: [gold])");
        DispatcherProperties.PrioritySettings noAgeing = settings(List.of("gold"), null);
        noAgeing.setAgeing(Duration.ZERO);
        assertThatThrownBy(() -> Priorities.of(noAgeing)).hasMessageContaining("paia.priorities.ageing must be a positive");
    }
}
