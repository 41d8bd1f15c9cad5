/// A benchmark failure, described as a sentence naming the target and the step.
struct BenchError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
