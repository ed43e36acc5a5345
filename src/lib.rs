//! firedrill: rehearse deployment operations as code.
