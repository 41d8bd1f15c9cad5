/// Where an exposed tool or prompt name really lives.
struct NameRoute: Equatable {
    let server: String
    let originalName: String
}
