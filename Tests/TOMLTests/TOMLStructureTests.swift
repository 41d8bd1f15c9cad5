import TOML
import Testing

@Suite("tables, arrays and keys nest as TOML defines")
struct TOMLStructureTests {
    @Test("dotted and quoted keys create nested tables")
    func dottedKeys() throws {
        let table = try parse(#"a.b."c d" = 1"# + "\n" + #"a.b.'e' = 2"#)
        let inner = table["a"]?.tableValue?["b"]?.tableValue
        #expect(inner?["c d"] == .integer(1))
        #expect(inner?["e"] == .integer(2))
    }

    @Test("arrays may mix types, nest, span lines and end with a comma")
    func arrays() throws {
        let table = try parse("a = [\n  1, # one\n  'two',\n  [3.0],\n]")
        #expect(table["a"] == .array([.integer(1), .string("two"), .array([.float(3)])]))
    }

    @Test("arrays of tables append one table per header, and sub-tables attach to the last")
    func arraysOfTables() throws {
        let table = try parse("[[s]]\nn = 1\n[s.sub]\nx = true\n[[s]]\nn = 2")
        let list = try #require(table["s"]?.arrayValue)
        #expect(list.count == 2)
        #expect(list[0].tableValue?["sub"]?.tableValue?["x"] == .boolean(true))
        #expect(list[1].tableValue?["n"] == .integer(2))
    }

    @Test("keys keep the order they were written in")
    func order() throws {
        #expect(try parse("z = 1\na = 2\n[m]\n[b]").keys == ["z", "a", "m", "b"])
    }

    @Test("inline tables hold dotted keys but no newline or trailing comma")
    func inlineTables() throws {
        #expect(try parse("p = { x = 1, y.z = 2 }")["p"]?.tableValue?["y"]?.tableValue?["z"] == .integer(2))
        #expect(rejection("p = { x = 1, }")?.message.contains("trailing comma") == true)
        #expect(rejection("p = { x = 1,\n y = 2 }") != nil)
    }

    @Test("a bare word is not a value")
    func bareWord() {
        #expect(rejection("name = demo") != nil)
    }

    @Test("a key without `=` says what was expected")
    func missingEquals() {
        let error = rejection("name \"demo\"")
        #expect(error?.message == "expected `=` after key `name`, found `\"`")
        #expect(error?.location.column == 6)
    }
}

@Suite("redefinitions are refused with both locations")
struct TOMLRedefinitionTests {
    @Test("a table defined twice names the first definition")
    func tableTwice() {
        let error = rejection("[a.b]\nx = 1\n\n[a.b]")
        #expect(error?.description == "test.toml:4:1: table [a.b] is already defined at test.toml:1:1")
    }

    @Test("a key set twice names the first one")
    func keyTwice() {
        #expect(rejection("name = 1\nname = 2")?.description == "test.toml:2:1: key `name` is already defined at test.toml:1:1")
    }

    @Test("inline tables and static arrays cannot be extended", arguments: [
        "a = {x = 1}\n[a.b]", "a = {x = 1}\na.y = 2", "a = [1]\n[[a]]", "a = {}\n[a]",
    ])
    func frozen(input: String) {
        #expect(rejection(input) != nil)
    }

    @Test("a table made by dotted keys cannot be redefined by a header, but may get sub-tables")
    func dottedThenHeader() throws {
        #expect(rejection("[t1]\nt2.t3.v = 0\n[t1.t2]") != nil)
        #expect(try parse("[t1]\nt2.t3.v = 0\n[t1.t2.t4]\nw = 1")["t1"] != nil)
    }

    @Test("a header cannot be extended by dotted keys from its parent's block")
    func headerThenDotted() {
        #expect(rejection("[a.b.c]\nz = 9\n[a]\nb.c.t = 1") != nil)
    }

    @Test("an implicit parent table may be defined once later")
    func implicitThenExplicit() throws {
        #expect(try parse("[a.b]\n[a]\nx = 1")["a"]?.tableValue?["x"] == .integer(1))
        #expect(rejection("[a.b]\n[a]\n[a]") != nil)
    }

    @Test("a table and an array of tables cannot share a name")
    func tableVersusArray() {
        #expect(rejection("[a]\n[[a]]") != nil)
        #expect(rejection("[[a]]\n[a]") != nil)
    }
}
