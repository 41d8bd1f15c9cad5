/// A table under construction, remembering how it came to exist so redefinitions can be refused.
final class TableBuilder {
    enum Origin: Equatable {
        /// Created as a parent of a `[header]` that names a deeper table; may still be defined once.
        case implicit
        /// Defined by its own `[header]` or `[[header]]`.
        case header
        /// Created by a dotted key; only keys of the same section (header block or inline table) may extend it.
        case dotted(section: Int)
    }

    enum Content {
        /// A value that can no longer be extended: scalars, static arrays and inline tables.
        case value(TOMLValue)
        case table(TableBuilder)
        case arrayOfTables([TableBuilder])
    }

    struct Slot {
        var keyLocation: TOMLLocation
        var valueLocation: TOMLLocation
        var content: Content
    }

    var origin: Origin
    var location: TOMLLocation
    private(set) var order: [String] = []
    private(set) var slots: [String: Slot] = [:]

    init(origin: Origin, location: TOMLLocation) {
        self.origin = origin
        self.location = location
    }

    subscript(key: String) -> Slot? { slots[key] }

    func set(_ key: String, _ slot: Slot) {
        if slots[key] == nil { order.append(key) }
        slots[key] = slot
    }

    func build() -> TOMLTable {
        TOMLTable(
            location: location,
            entries: order.map { key in
                let slot = slots[key]!
                return TOMLTable.Entry(
                    key: key, value: slot.content.build(),
                    keyLocation: slot.keyLocation, valueLocation: slot.valueLocation)
            })
    }
}

extension TableBuilder.Content {
    func build() -> TOMLValue {
        switch self {
        case .value(let value):
            return value
        case .table(let table):
            return .table(table.build())
        case .arrayOfTables(let tables):
            return .array(TOMLArray(items: tables.map { .init(value: .table($0.build()), location: $0.location) }))
        }
    }
}
