package org.paia.dispatcher.intake;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** What of a rejection reason may reach the log. */
class IntakeRecordsLogTest {

    @Test
    void aParserErrorLosesTheInputItQuotes() {
        String reason = "malformed JSON at line 1 column 94: Unrecognized token 'wsTok123': was expecting "
                + "(JSON String, Number, Array, Object or token 'null', 'true' or 'false')";
        assertThat(IntakeRecords.loggable(reason)).isEqualTo("malformed JSON at line 1 column 94: Unrecognized token '…')")
                .doesNotContain("wsTok123");
        // a quote inside the quoted input does not end the redaction early
        assertThat(IntakeRecords.loggable("malformed JSON: Unrecognized token 'ab'cd': was expecting 'null'"))
                .doesNotContain("cd");
    }

    @Test
    void validationReasonsAreKeptWhole() {
        String reason = "field 'data.ws_uri' must be a ws:// or wss:// URI";
        assertThat(IntakeRecords.loggable(reason)).isEqualTo(reason);
        assertThat(IntakeRecords.loggable(null)).isNull();
    }
}
