package org.paia.dispatcher.security;

import java.util.Locale;

/** What an operator of the dispatcher's web endpoints may do: look ({@code viewer}) or also act ({@code admin}). */
public enum Role {
    /** Hawtio, Jolokia reads and read-only operations: routes, counters, MBean attributes. */
    VIEWER,
    /** Everything a viewer may, plus JMX writes and operations: stop, suspend, start routes. */
    ADMIN;

    /** The role's name in configuration, in Spring Security ({@code ROLE_<name>}) and in Hawtio. */
    public String roleName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public String authority() {
        return "ROLE_" + roleName();
    }
}
