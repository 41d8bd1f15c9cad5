import JSON
import Testing

@testable import Proxy

@Suite("task ids across an aggregate")
struct TaskHandlesTests {
    let handles = TaskHandles(separator: "__")

    @Test("an exposed id routes back to its server and the server's own id, which may hold the separator")
    func routing() {
        #expect(handles.route("ci__786512e2") ?? ("", "") == ("ci", "786512e2"))
        #expect(handles.route("ci__a__b") ?? ("", "") == ("ci", "a__b"))
        #expect(handles.route("786512e2") == nil)
        #expect(handles.route("__x") == nil)
    }

    @Test("a CreateTaskResult of either era, a tasks/get answer and a tasks/list get exposed ids; other results keep theirs")
    func exposing() {
        let modern: JSONValue = ["resultType": "task", "taskId": "t1", "status": "working"]
        #expect(handles.exposing(result: modern, of: "ci", method: MCPMethod.toolsCall)["taskId"] == "ci__t1")
        let legacy: JSONValue = ["task": ["taskId": "t2", "status": "working"]]
        #expect(handles.exposing(result: legacy, of: "ci", method: MCPMethod.toolsCall)["task"]?["taskId"] == "ci__t2")
        let polled: JSONValue = ["resultType": "complete", "taskId": "t3", "status": "completed"]
        #expect(handles.exposing(result: polled, of: "ci", method: MCPMethod.tasksGet)["taskId"] == "ci__t3")
        let listed: JSONValue = ["tasks": [["taskId": "t4"], ["taskId": "t5"]]]
        #expect(handles.exposing(result: listed, of: "ci", method: MCPMethod.tasksList)["tasks"] == [["taskId": "ci__t4"], ["taskId": "ci__t5"]])
        let unrelated: JSONValue = ["content": [], "taskId": "mine"]
        #expect(handles.exposing(result: unrelated, of: "ci", method: MCPMethod.toolsCall) == unrelated)
    }
}
