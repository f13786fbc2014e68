// The Headstart version, in the lowest layer (Support), so it is defined exactly once.

/// The version of Headstart: printed by `--version` and written into feature and heads files.
public let headstartVersion = "0.1.0"
