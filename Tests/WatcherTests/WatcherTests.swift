import Testing

/// The watcher's file-system suites run one test at a time: they measure timing (debounce,
/// ceiling) on a small machine, and parallel file churn would only blur it.
@Suite(.serialized) struct DirectoryWatcherTests {}
