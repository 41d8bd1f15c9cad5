import JSON
import Testing

@Suite("Locating one member without parsing the object")
struct JSONMemberLocatorTests {
    @Test("the range covers exactly the member's value, in the array's own indices")
    func rangeOfValue() {
        let message = Array(#"{"id":1,"params":{"name":"x","_meta":{"a":[1,2]} ,"arguments":{}}}"#.utf8)
        let params = message.firstRange(of: Array(#"{"name""#.utf8))!.lowerBound..<(message.count - 1)
        let range = JSONMemberLocator.valueRange(of: "_meta", inObject: message[params])
        #expect(range.map { String(decoding: message[$0], as: UTF8.self) } == #"{"a":[1,2]}"#)
        #expect(JSONMemberLocator.value(of: "_meta", inObject: message[params]) == ["a": [1, 2]])
    }

    @Test("a name spelled with escapes is still that name")
    func escapedName() {
        let object = Array(#"{"\u005fmeta": true}"#.utf8)
        #expect(JSONMemberLocator.value(of: "_meta", inObject: object[...]) == true)
    }

    @Test("a member nested deeper is not a top-level member")
    func onlyTopLevel() {
        let object = Array(#"{"arguments":{"_meta":1}}"#.utf8)
        #expect(JSONMemberLocator.valueRange(of: "_meta", inObject: object[...]) == nil)
    }

    @Test("no member, an empty object, a non-object and broken text all give nil", arguments: [#"{"a":1}"#, "{}", "[1]", #"{"a":"#, ""])
    func absent(_ text: String) {
        #expect(JSONMemberLocator.valueRange(of: "_meta", inObject: Array(text.utf8)[...]) == nil)
    }
}
