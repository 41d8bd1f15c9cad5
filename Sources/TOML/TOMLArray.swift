/// A TOML array (elements may be of mixed types), remembering where each element was written.
public struct TOMLArray: Sendable, Equatable, RandomAccessCollection, ExpressibleByArrayLiteral {
    public struct Item: Sendable {
        public var value: TOMLValue
        public var location: TOMLLocation
        public init(value: TOMLValue, location: TOMLLocation) {
            self.value = value
            self.location = location
        }
    }

    /// The elements with their locations, in order.
    public var items: [Item]

    public init(items: [Item] = []) {
        self.items = items
    }

    /// An array built in code; its elements get the location `<code>:0:0`.
    public init(arrayLiteral values: TOMLValue...) {
        self.init(values)
    }

    public init(_ values: [TOMLValue]) {
        let nowhere = TOMLLocation(file: "<code>", line: 0, column: 0)
        items = values.map { Item(value: $0, location: nowhere) }
    }

    public var values: [TOMLValue] { items.map(\.value) }

    public var startIndex: Int { items.startIndex }
    public var endIndex: Int { items.endIndex }
    public subscript(position: Int) -> TOMLValue { items[position].value }

    public func location(at index: Int) -> TOMLLocation { items[index].location }

    /// Arrays are equal when their values are; locations do not take part.
    public static func == (a: TOMLArray, b: TOMLArray) -> Bool {
        a.values == b.values
    }
}
