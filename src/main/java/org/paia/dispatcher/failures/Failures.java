package org.paia.dispatcher.failures;

/** The classifier as a bean, for {@code onWhen} predicates in the YAML error handlers. */
public class Failures {

    public boolean isFatal(Throwable failure) {
        return FailureClassifier.classify(failure) == FailureClass.FATAL;
    }

    public boolean isInvalid(Throwable failure) {
        return FailureClassifier.classify(failure) == FailureClass.INVALID;
    }
}
