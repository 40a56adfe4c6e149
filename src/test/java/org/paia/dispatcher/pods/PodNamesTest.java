package org.paia.dispatcher.pods;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PodNamesTest {

    private static final String DNS_LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";

    @Test
    void aLowerCaseUuidRoomIsUsedAsItIs() {
        assertThat(PodNames.podName("8f8ef481-911b-432a-aacd-670be3b8f288", 0, 0))
                .isEqualTo("paiagym-8f8ef481-911b-432a-aacd-670be3b8f288-0-0");
    }

    @Test
    void anyValidRoomIdGivesADnsLabelOfAtMost63Characters() {
        for (String room : new String[] {"ABC", "a_b_c", "x".repeat(64), "room-", "R".repeat(64), "0"}) {
            String name = PodNames.podName(room, 9999, 99);
            assertThat(name).as(room).matches(DNS_LABEL).hasSizeLessThanOrEqualTo(63);
            assertThat(PodNames.roomLabel(room)).as(room).matches(DNS_LABEL).hasSizeLessThanOrEqualTo(63);
        }
    }

    @Test
    void roomsThatDifferOnlyInCaseOrPunctuationGetDifferentNames() {
        assertThat(PodNames.roomLabel("Room-1")).isNotEqualTo(PodNames.roomLabel("room-1"));
        assertThat(PodNames.roomLabel("a_b")).isNotEqualTo(PodNames.roomLabel("a-b_"));
        assertThat(PodNames.podName("room", 1, 0)).isNotEqualTo(PodNames.podName("room", 0, 1));
    }
}
